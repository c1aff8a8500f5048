// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Backoff arithmetic and the attempt budget of with_retry().
#include <algorithm>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "core/backoff.h"
#include "dbpool/driver.h"
#include "dbpool/internal/basic_pool.h"

namespace dbpool {
namespace internal {

double UnitRandom() {
  thread_local absl::BitGen gen;
  return absl::Uniform(gen, 0.0, 1.0);
}

absl::Duration BackoffDelay(const FailoverPolicy& policy, int failures, double unit_random) {
  absl::Duration delay = policy.backoff_initial();
  for (int i = 1; i < failures && delay < policy.backoff_max(); ++i) delay *= 2;
  delay = std::min(delay, policy.backoff_max());
  const double scale = 1.0 + policy.backoff_jitter() * (2.0 * unit_random - 1.0);
  return delay * scale;
}

absl::Duration BackoffDelay(const FailoverPolicy& policy, int failures) {
  return BackoffDelay(policy, failures, UnitRandom());
}

bool RetryBudget::retry_after(const absl::Status& status, bool retryable) {
  if (status.ok() || !retryable || attempts_ >= policy_.max_attempts()) return false;
  if (IsConfigurationError(status)) return false;  // another attempt cannot heal it
  absl::SleepFor(BackoffDelay(policy_, attempts_));
  ++attempts_;
  return true;
}

}  // namespace internal
}  // namespace dbpool
