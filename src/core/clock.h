// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The pool's clock for connection timestamps: the coarse monotonic clock.
// Read through the vDSO (no system call) in a few nanoseconds, with a
// resolution of a few milliseconds, which is plenty for validation windows,
// idle timeouts and lifetimes. Deadlines a caller waits on use absl::Now().
#ifndef DBPOOL_CORE_CLOCK_H_
#define DBPOOL_CORE_CLOCK_H_

#include <time.h>

#include <cstdint>

#include "absl/time/time.h"

namespace dbpool {
namespace internal {

// Nanoseconds on CLOCK_MONOTONIC_COARSE.
inline int64_t MonoNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// A MonoNanos() value as an absl::Time, for arithmetic with durations. Only
// comparable with other values of this clock.
inline absl::Time MonoTime(int64_t nanos) { return absl::FromUnixNanos(nanos); }

inline int64_t ToMonoNanos(absl::Time t) {
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  return absl::ToUnixNanos(t);
}

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_CLOCK_H_
