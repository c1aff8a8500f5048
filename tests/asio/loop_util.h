// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What the Asio tests share: running a coroutine on a loop of its own, a
// ticker that measures how long the loop ever stalled, and counting the
// descriptors of one socket.
#ifndef DBPOOL_TESTS_ASIO_LOOP_UTIL_H_
#define DBPOOL_TESTS_ASIO_LOOP_UTIL_H_

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <utility>

namespace dbpool {
namespace testing {

using LoopClock = std::chrono::steady_clock;

// Runs `coroutine` on a fresh io_context on this thread until it finishes
// (or a minute passes); rethrows what it threw. Returns whether it finished.
template <typename Coroutine>
bool RunOnLoop(Coroutine coroutine) {
  asio::io_context io;
  std::atomic<bool> finished{false};
  std::exception_ptr thrown;
  asio::co_spawn(io, std::move(coroutine), [&](std::exception_ptr e) {
    thrown = e;
    finished = true;
  });
  io.run_for(std::chrono::seconds(60));
  if (thrown) std::rethrow_exception(thrown);
  return finished.load();
}

// A 1 ms timer on the loop, rearmed while `running()` holds: how late it
// ever fired, of the ticks armed while `measuring`, is the loop's longest
// stall. Start() it
// before io.run(); the ticker must outlive the run. A test that first
// queues a burst of its own work (thousands of coroutine starts, each run
// to its first suspension in one go) clears `measuring` until the burst is
// done: the loop is then busy with the test, not blocked by the pool.
struct LoopTicker {
  template <typename Running>
  void Start(asio::io_context& io, Running running) {
    asio::co_spawn(
        io,
        [this, running]() -> asio::awaitable<void> {
          asio::steady_timer timer(co_await asio::this_coro::executor);
          while (running()) {
            const bool counted = measuring;  // armed while measuring
            timer.expires_after(std::chrono::milliseconds(1));
            co_await timer.async_wait(asio::use_awaitable);
            if (counted) worst = std::max(worst, LoopClock::now() - timer.expiry());
            ++ticks;
          }
        },
        asio::detached);
  }
  bool measuring = true;
  LoopClock::duration worst{};
  int ticks = 0;
};

// The identity of `fd`'s open file (device and inode: a socket's identity),
// {0, 0} if none.
inline std::pair<dev_t, ino_t> FileOf(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {0, 0};
  return {st.st_dev, st.st_ino};
}

// How many of this process's descriptors refer to the file `file`.
inline int DescriptorsOf(std::pair<dev_t, ino_t> file) {
  int n = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd != ::dirfd(dir) && FileOf(fd) == file) ++n;
  }
  ::closedir(dir);
  return n;
}

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_ASIO_LOOP_UTIL_H_
