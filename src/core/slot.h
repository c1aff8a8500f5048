// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Slot: the pool's record of one open server connection.
#ifndef DBPOOL_CORE_SLOT_H_
#define DBPOOL_CORE_SLOT_H_

#include <memory>

#include "absl/time/time.h"
#include "dbpool/driver.h"

namespace dbpool {
namespace internal {

// One open connection and its timestamps. Heap-allocated once per
// connection (never per acquire); owned by the pool core, lent to leases.
struct Slot {
  std::unique_ptr<DriverConnection> conn;
  const Endpoint* endpoint = nullptr;  // points into the core's endpoint list
  absl::Time created;
  absl::Time expires = absl::InfiniteFuture();  // max_lifetime minus jitter
  absl::Time last_used;     // last return by a lease (idle_timeout counts from it)
  absl::Time last_checked;  // last proof of life: return or ping (validation, keepalive)
  bool leased = false;      // held by a lease (guarded by the core's mutex)
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_SLOT_H_
