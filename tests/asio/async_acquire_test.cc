// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool::async_acquire() (dbpool/asio.h) on an io_context: coroutines
// that share few connections without blocking the loop, cancellation
// through Asio's cancellation slots, an io_context destroyed with
// acquires pending, and blocking threads and coroutines in one FIFO queue.
// These use the fake driver: the pool's own logic, no server.
#include <asio.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "dbpool/asio.h"
#include "fake_driver.h"
#include "loop_util.h"

namespace dbpool {
namespace testing {
namespace {

using Lease = FakePool::LeaseType;
using std::chrono::milliseconds;

FakePool PoolOf(const FakeServer& server, int max_size) {
  auto pool = FakePool::Builder()
                  .dsn(server.dsn())
                  .max_size(max_size)
                  .acquire_timeout(absl::Seconds(60))
                  .build();
  REQUIRE(pool.ok());
  return *std::move(pool);
}

TEST_CASE("2000 coroutines on one thread share 8 connections without blocking the loop", "[asio]") {
  auto server = FakeServer::Create();
  FakePool pool = PoolOf(*server, 8);
  asio::io_context io;
  constexpr int kCoroutines = 2000;
  int ok = 0, failed = 0, finished = 0;
  LoopTicker ticker;
  ticker.Start(io, [&] { return finished < kCoroutines; });
  ticker.measuring = false;  // from the last coroutine's start on
  int started = 0;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kCoroutines; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          if (++started == kCoroutines) ticker.measuring = true;
          absl::StatusOr<Lease> lease = co_await async_acquire(pool, asio::use_awaitable);
          if (lease.ok()) {
            // Holds the connection 5 ms, as a query would, without blocking.
            asio::steady_timer hold(co_await asio::this_coro::executor, milliseconds(5));
            co_await hold.async_wait(asio::use_awaitable);
            ++ok;
          } else {
            ++failed;
          }
          ++finished;
        },
        asio::detached);
  }
  io.run();
  const absl::Duration wall = absl::Now() - start;
  CHECK(ok == kCoroutines);
  CHECK(failed == 0);
  CHECK(server->max_open_connections() <= 8);
  // 2000 holds of 5 ms over 8 connections: 1.25 s at the least.
  CHECK(wall >= absl::Milliseconds(1250));
  // One at a time (a loop that blocked in each) they would take 10 s.
  CHECK(wall < absl::Seconds(5));
  CHECK(ticker.worst < milliseconds(50));
  INFO("wall " << absl::FormatDuration(wall));
  const PoolStats stats = pool.stats();
  CHECK(stats.in_use == 0);
  CHECK(stats.waiting == 0);
}

TEST_CASE("async_acquire completes on the handler's executor with any token", "[asio]") {
  auto server = FakeServer::Create();
  FakePool pool = PoolOf(*server, 1);
  asio::io_context io;
  std::thread::id loop_thread, handler_thread;
  bool got = false;
  // A plain callback bound to the io_context's executor.
  async_acquire(pool, asio::bind_executor(io, [&](absl::StatusOr<Lease> lease) {
                  handler_thread = std::this_thread::get_id();
                  got = lease.ok();
                }));
  CHECK_FALSE(got);  // never inside async_acquire()
  std::thread loop([&] {
    loop_thread = std::this_thread::get_id();
    io.run();
  });
  loop.join();
  CHECK(got);
  CHECK(handler_thread == loop_thread);

  // A future, from a thread with no loop: the system executor runs it.
  std::future<absl::StatusOr<Lease>> future = async_acquire(pool, asio::use_future);
  absl::StatusOr<Lease> lease = future.get();
  CHECK(lease.ok());
}

TEST_CASE("async_acquires cancelled through their slots end with kCancelled and take no slot",
          "[asio][cancel]") {
  auto server = FakeServer::Create();
  FakePool pool = PoolOf(*server, 1);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  asio::io_context io;
  constexpr int kWaiters = 4;
  asio::cancellation_signal signals[kWaiters];
  // Atomics, though only the loop's thread touches them: they are read
  // between io_context calls that run the handlers.
  std::atomic<absl::StatusCode> codes[kWaiters];
  std::atomic<int> order[kWaiters];
  std::atomic<int> served{0}, completed{0};
  for (int i = 0; i < kWaiters; ++i) {
    codes[i] = absl::StatusCode::kUnknown;
    order[i] = -1;
    async_acquire(
        pool, asio::bind_cancellation_slot(
                  signals[i].slot(), asio::bind_executor(io, [&, i](absl::StatusOr<Lease> lease) {
                    codes[i] = lease.status().code();
                    if (lease.ok()) order[i] = served.fetch_add(1);
                    completed.fetch_add(1);
                  })));
  }
  REQUIRE(Await([&] { return pool.stats().waiting == kWaiters; }));
  // Cancel the first and the third, from the loop's thread (where Asio
  // emits signals).
  asio::post(io, [&] {
    signals[0].emit(asio::cancellation_type::terminal);
    signals[2].emit(asio::cancellation_type::total);
  });
  io.run_one();  // the emits
  io.restart();
  while (completed < 2) io.run_one();
  io.restart();
  CHECK(codes[0] == absl::StatusCode::kCancelled);
  CHECK(codes[2] == absl::StatusCode::kCancelled);
  CHECK(pool.stats().waiting == 2);
  CHECK(pool.stats().in_use == 1);  // only the held one
  // The others are served in their order once the connection comes back;
  // each handler drops its lease at once.
  held->release();
  while (completed < kWaiters) io.run_one();
  CHECK(codes[1] == absl::StatusCode::kOk);
  CHECK(codes[3] == absl::StatusCode::kOk);
  CHECK(order[1] == 0);
  CHECK(order[3] == 1);
  CHECK(pool.stats().waiting == 0);
}

TEST_CASE("an io_context destroyed with async_acquires pending neither crashes nor leaks",
          "[asio][cancel]") {
  auto server = FakeServer::Create();
  FakePool pool = PoolOf(*server, 1);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  auto destroyed = std::make_shared<std::atomic<int>>(0);
  {
    asio::io_context io;
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(
          io,
          [&pool, destroyed]() -> asio::awaitable<void> {
            struct CountOnDestroy {
              std::shared_ptr<std::atomic<int>> count;
              ~CountOnDestroy() { count->fetch_add(1); }
            } guard{destroyed};
            absl::StatusOr<Lease> lease = co_await async_acquire(pool, asio::use_awaitable);
            co_return;
          },
          asio::detached);
    }
    // Start the coroutines up to their acquire, then let the context go.
    REQUIRE(Await([&] {
      io.poll();
      return pool.stats().waiting == 3;
    }));
  }
  CHECK(destroyed->load() == 3);     // the coroutine frames went with the context
  CHECK(pool.stats().waiting == 0);  // their acquires were cancelled
  held->release();
  const PoolStats stats = pool.stats();
  CHECK(stats.in_use == 0);
  CHECK(stats.idle == 1);
  CHECK(server->open_connections() == 1);
}

TEST_CASE("blocking threads and coroutines share one FIFO queue", "[asio][fifo]") {
  auto server = FakeServer::Create();
  FakePool pool = PoolOf(*server, 1);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  std::atomic<int> next{0};
  std::atomic<int> turns[4] = {-1, -1, -1, -1};
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  std::vector<std::thread> blocking;
  for (int i = 0; i < 4; ++i) {
    if (i % 2 == 0) {  // 0 and 2: blocking threads
      blocking.emplace_back([&, i] {
        auto lease = pool.acquire();
        if (lease.ok()) turns[i].store(next.fetch_add(1));
      });
    } else {  // 1 and 3: coroutines
      asio::co_spawn(
          io,
          [&, i]() -> asio::awaitable<void> {
            absl::StatusOr<Lease> lease = co_await async_acquire(pool, asio::use_awaitable);
            if (lease.ok()) turns[i].store(next.fetch_add(1));
          },
          asio::detached);
    }
    REQUIRE(Await([&] { return pool.stats().waiting == i + 1; }));
  }
  held->release();
  for (std::thread& t : blocking) t.join();
  REQUIRE(Await([&] { return next.load() == 4; }));
  work.reset();
  loop.join();
  for (int i = 0; i < 4; ++i) CHECK(turns[i].load() == i);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
