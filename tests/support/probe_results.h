// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// ProbeResults for the failover tests: what a probe of a primary, a replica
// or a fenced old primary answers.
#ifndef DBPOOL_TESTS_SUPPORT_PROBE_RESULTS_H_
#define DBPOOL_TESTS_SUPPORT_PROBE_RESULTS_H_

#include <cstdint>
#include <optional>

#include "dbpool/driver.h"

namespace dbpool {
namespace testing {

// A writable primary.
inline ProbeResult Primary(std::optional<int64_t> timeline = std::nullopt) {
  ProbeResult r;
  r.role = Role::kPrimary;
  r.timeline = timeline;
  return r;
}

// A replica.
inline ProbeResult Replica(std::optional<int64_t> timeline = std::nullopt) {
  ProbeResult r = Primary(timeline);
  r.role = Role::kReplica;
  return r;
}

// Not in recovery, but its sessions are read-only
// (default_transaction_read_only): a fenced old primary.
inline ProbeResult Fenced(std::optional<int64_t> timeline = std::nullopt) {
  ProbeResult r = Primary(timeline);
  r.read_only = true;
  return r;
}

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_PROBE_RESULTS_H_
