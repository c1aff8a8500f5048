// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// WaitUntil: a condition-variable wait until a monotonic deadline.
#ifndef DBPOOL_CORE_WAIT_UNTIL_H_
#define DBPOOL_CORE_WAIT_UNTIL_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/clock.h"

namespace dbpool {
namespace internal {

// Waits on `cv` until it is signalled or the monotonic `deadline` passes;
// true once the deadline has passed. The time left is read from the
// monotonic clock before every sleep, so a step of the wall clock moves no
// deadline. (Abseil 20220623's CondVar sleeps until a wall-clock instant,
// so a step *during* one sleep still shortens that sleep, which the
// callers' loops absorb, or lengthens it by the step.)
// The deadline is judged on FineNanos(): once it has passed, this returns
// at once, still holding `mu`. A caller that loops must decide "not yet"
// on the same clock, never on the coarse one (which lags by up to a tick):
// otherwise it calls this again and again without ever unlocking.
inline bool WaitUntil(absl::CondVar& cv, absl::Mutex* mu, int64_t deadline)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
  if (deadline == INT64_MAX) {
    cv.Wait(mu);
    return false;
  }
  const int64_t left = deadline - FineNanos();
  if (left <= 0) return true;
  cv.WaitWithTimeout(mu, absl::Nanoseconds(left));
  return FineNanos() >= deadline;
}

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_WAIT_UNTIL_H_
