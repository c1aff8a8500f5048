// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// FIFO hand-out: the oldest waiter is served first, even when the
// connection it was handed fails validation.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

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

}  // namespace
}  // namespace dbpool
