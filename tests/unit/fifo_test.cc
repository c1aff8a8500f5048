// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// FIFO hand-out: the oldest waiter is served first, even when the
// connection it was handed fails validation, and ahead of newcomers that
// would take a returned connection from the lock-free fast path.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using testing::Await;
using testing::FakePool;
using testing::FakeServer;

TEST_CASE("a waiter whose handed-over connection fails validation keeps its place in line",
          "[fifo][concurrency]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .validation_window(absl::ZeroDuration())
                  .keepalive_interval(absl::ZeroDuration())
                  .acquire_timeout(absl::Seconds(20))
                  .build();
  REQUIRE(pool.ok());
  auto holder = pool->acquire();
  REQUIRE(holder.ok());
  std::atomic<int> served{0};
  std::atomic<int> first_order{0}, second_order{0};
  std::thread first([&] {
    auto lease = pool->acquire();
    if (lease.ok()) first_order = ++served;
  });
  REQUIRE(Await([&] { return pool->stats().waiting == 1; }));
  std::thread second([&] {
    auto lease = pool->acquire();
    if (lease.ok()) second_order = ++served;
  });
  REQUIRE(Await([&] { return pool->stats().waiting == 2; }));

  // The held connection dies; it is handed to `first`, whose validation
  // ping fails. The replacement waits for connects to unblock.
  server->block_connects();
  server->kill_all();
  holder->release();
  REQUIRE(Await([&] { return pool->stats().validation_failures == 1; }));
  REQUIRE(Await([&] { return pool->stats().waiting == 2 && pool->stats().connecting == 1; }));
  server->unblock_connects();
  first.join();
  second.join();
  CHECK(first_order.load() == 1);
  CHECK(second_order.load() == 2);
}

TEST_CASE("a newcomer looping acquire and release never gets a connection before an older waiter",
          "[fifo][concurrency]") {
  // max_size(1): the holder has the only connection; an older waiter
  // queues; newcomers then hammer acquire(timeout 0) / release. When the
  // holder returns the connection, it must go to the waiter: a newcomer
  // that claimed it from the lock-free fast path (the waiting_ gate
  // deleted) would be served first, and its own returns would hand the
  // connection on to the next newcomer as often as to the waiter.
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .keepalive_interval(absl::ZeroDuration())
                  .acquire_timeout(absl::Seconds(20))
                  .build();
  REQUIRE(pool.ok());
  std::atomic<bool> compete{false};
  std::atomic<bool> stop{false};
  constexpr int kNewcomers = 2;
  std::atomic<int64_t> attempts[kNewcomers] = {};  // acquires started, per newcomer
  std::atomic<int64_t> newcomer_leases{0};
  std::vector<std::thread> newcomers;
  for (int t = 0; t < kNewcomers; ++t) {
    newcomers.emplace_back([&, t] {
      AcquireOptions now;
      now.timeout = absl::ZeroDuration();
      while (!stop.load()) {
        if (!compete.load()) {
          std::this_thread::yield();
          continue;
        }
        attempts[t].fetch_add(1);
        auto lease = pool->acquire(now);
        if (lease.ok()) newcomer_leases.fetch_add(1);
      }
    });
  }
  struct Stop {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Stop() {
      stop = true;
      for (std::thread& t : threads) t.join();
    }
  } stopper{stop, newcomers};

  constexpr int kRounds = 30;
  int barged_rounds = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto holder = pool->acquire();
    REQUIRE(holder.ok());
    std::atomic<int64_t> newcomers_before_waiter{-1};
    std::thread waiter([&] {
      auto lease = pool->acquire();
      if (lease.ok()) newcomers_before_waiter = newcomer_leases.load();
      // Returned after the count: nobody else could have had the
      // connection while the waiter held it.
    });
    struct Join {
      std::thread& thread;
      ~Join() {
        if (thread.joinable()) thread.join();
      }
    } join_waiter{waiter};
    REQUIRE(Await([&] { return pool->stats().waiting >= 1; }));
    const int64_t leases_before = newcomer_leases.load();
    int64_t attempts_before[kNewcomers];
    for (int t = 0; t < kNewcomers; ++t) attempts_before[t] = attempts[t].load();
    compete = true;
    // Every newcomer is hammering before the holder lets go, each attempt
    // begun after the waiter queued (so none read the queue empty: such an
    // attempt could still pass the gate, as the gate allows).
    REQUIRE(Await([&] {
      for (int t = 0; t < kNewcomers; ++t) {
        if (attempts[t].load() < attempts_before[t] + 100) return false;
      }
      return true;
    }));
    holder->release();
    waiter.join();
    compete = false;
    INFO("round " << round);
    REQUIRE(newcomers_before_waiter.load() >= 0);  // the waiter was served
    if (newcomers_before_waiter.load() != leases_before) ++barged_rounds;
  }
  CHECK(barged_rounds == 0);
}

}  // namespace
}  // namespace dbpool
