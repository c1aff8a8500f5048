// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Awaiting a condition that another thread makes true, with a generous
// deadline: tests wait on conditions, never on sleeps. The deadline is kept
// on the monotonic clock, so the tests that step the wall clock
// (tests/clock_step) can await too.
#ifndef DBPOOL_TESTS_SUPPORT_AWAIT_H_
#define DBPOOL_TESTS_SUPPORT_AWAIT_H_

#include <chrono>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dbpool {
namespace testing {

// Polls `condition` every millisecond until it holds (returns true) or
// `timeout` passes (returns false). For state owned by background threads
// that offer no notification.
template <typename Condition>
bool Await(Condition condition, absl::Duration timeout = absl::Seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_AWAIT_H_
