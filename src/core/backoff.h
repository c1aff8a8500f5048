// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Exponential backoff with jitter, shared by reconnects and with_retry().
#ifndef DBPOOL_CORE_BACKOFF_H_
#define DBPOOL_CORE_BACKOFF_H_

#include "absl/time/time.h"
#include "dbpool/failover_policy.h"

namespace dbpool {
namespace internal {

// The pause after `failures` (>= 1) consecutive failures:
// backoff_initial * 2^(failures - 1), capped at backoff_max, then scaled by
// 1 + jitter * (2 * unit_random - 1). `unit_random` is in [0, 1).
absl::Duration BackoffDelay(const FailoverPolicy& policy, int failures, double unit_random);

// The same with a random number drawn here.
absl::Duration BackoffDelay(const FailoverPolicy& policy, int failures);

// A uniformly random number in [0, 1), from a per-thread generator.
double UnitRandom();

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_BACKOFF_H_
