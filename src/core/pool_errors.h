// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The statuses that the pool core and the failover layer both return for
// the same event, worded once.
#ifndef DBPOOL_CORE_POOL_ERRORS_H_
#define DBPOOL_CORE_POOL_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace dbpool {
namespace internal {

// An acquire on pool `name` after close() (kFailedPrecondition).
inline absl::Status PoolClosedError(absl::string_view name) {
  return absl::FailedPreconditionError(absl::StrCat("dbpool: pool '", name, "' is closed"));
}

// An acquire_async() on pool `name` ended by PendingAcquire::cancel()
// (kCancelled).
inline absl::Status AcquireCancelledError(absl::string_view name) {
  return absl::CancelledError(absl::StrCat("dbpool: pool '", name, "': acquire cancelled"));
}

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_POOL_ERRORS_H_
