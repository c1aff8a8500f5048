// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// fork() detection: a child process inherits a pool's memory (its sockets,
// its locks, the parent's threads' bookkeeping) but none of its threads.
// Such a pool must not be used, or even closed, in the child: it would
// share protocol streams with the parent, or wait for threads that do not
// exist. A pthread_atfork() handler counts the forks a process went
// through as a child; a pool remembers the count it was built under, and
// one relaxed atomic load tells whether it is inherited.
#ifndef DBPOOL_CORE_FORK_GUARD_H_
#define DBPOOL_CORE_FORK_GUARD_H_

#include <pthread.h>

#include <atomic>
#include <cstdint>

namespace dbpool {
namespace internal {

inline std::atomic<uint32_t>& ForkCount() {
  static std::atomic<uint32_t> count{0};
  return count;
}

// The current fork count, the handler registered on first use.
inline uint32_t CurrentForkCount() {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { ForkCount().fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
  return ForkCount().load(std::memory_order_relaxed);
}

// Whether a pool built at fork count `built` is inherited from a parent.
inline bool Inherited(uint32_t built) {
  return ForkCount().load(std::memory_order_relaxed) != built;
}

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_FORK_GUARD_H_
