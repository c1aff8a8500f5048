// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Which pool a thread works for: a pool thread (opener, housekeeper,
// resetter, prober) that runs a listener cannot join itself, so close()
// and the last handle's destructor ask where they run.
#ifndef DBPOOL_CORE_POOL_THREAD_H_
#define DBPOOL_CORE_POOL_THREAD_H_

#include <thread>
#include <utility>
#include <vector>

namespace dbpool {
namespace internal {

// The PoolCore or Cluster the calling thread was started by; null on any
// other thread (the application's).
inline const void*& PoolThreadOwner() {
  thread_local const void* owner = nullptr;
  return owner;
}

// A thread started for `owner`, with PoolThreadOwner() set inside.
template <typename Fn>
std::thread StartPoolThread(const void* owner, Fn fn) {
  return std::thread([owner, fn = std::move(fn)]() mutable {
    PoolThreadOwner() = owner;
    fn();
  });
}

// Joins every thread in `threads` but the calling one, which cannot join
// itself: its std::thread is returned for a later close (the owner's
// destructor at the latest) to join once it has finished.
inline std::vector<std::thread> JoinAllButSelf(std::vector<std::thread> threads) {
  std::vector<std::thread> self;
  for (std::thread& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) {
      self.push_back(std::move(t));
    } else {
      t.join();
    }
  }
  return self;
}

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_POOL_THREAD_H_
