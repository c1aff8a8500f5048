// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The pool's clocks, both monotonic so that a step of the wall clock (NTP,
// an administrator) moves no deadline:
// - MonoNanos(): the coarse monotonic clock, read through the vDSO (no
//   system call) in a few nanoseconds, with a resolution of a few
//   milliseconds: plenty for validation windows, idle timeouts, lifetimes
//   and acquire deadlines, and cheap enough for the fast path.
// - FineNanos(): the same clock at full resolution (a few tens of
//   nanoseconds to read), for hold and wait times that feed histograms.
// Values of the two compare with each other (the coarse one lags by at
// most one tick). Drivers take absl::Time deadlines: WallDeadline()
// converts at the moment of the call.
#ifndef DBPOOL_CORE_CLOCK_H_
#define DBPOOL_CORE_CLOCK_H_

#include <time.h>

#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace dbpool {
namespace internal {

// Nanoseconds on CLOCK_MONOTONIC_COARSE.
inline int64_t MonoNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Nanoseconds on CLOCK_MONOTONIC.
inline int64_t FineNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// `nanos` + `d`, saturating at INT64_MAX (an infinite duration included).
inline int64_t AddNanos(int64_t nanos, absl::Duration d) {
  if (d == absl::InfiniteDuration()) return INT64_MAX;
  const int64_t add = absl::ToInt64Nanoseconds(d);
  return add > INT64_MAX - nanos ? INT64_MAX : nanos + add;
}

// The time left until a FineNanos() deadline: zero once past, infinite for
// INT64_MAX (no deadline). For the timeout of an acquire made on the way
// to that deadline.
inline absl::Duration TimeLeft(int64_t mono_deadline) {
  if (mono_deadline == INT64_MAX) return absl::InfiniteDuration();
  const int64_t left = mono_deadline - FineNanos();
  return absl::Nanoseconds(left > 0 ? left : 0);
}

// A monotonic deadline as the wall-clock time a driver call takes.
inline absl::Time WallDeadline(int64_t mono_deadline) {
  if (mono_deadline == INT64_MAX) return absl::InfiniteFuture();
  return absl::Now() + absl::Nanoseconds(mono_deadline - FineNanos());
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
