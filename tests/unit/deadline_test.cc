// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Every wait of an acquire is bounded by the caller's deadline, the
// validation ping of a connection claimed on the lock-free path included.
// The fake driver's stalled pings honour their deadline, as real drivers do.
#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using testing::FakeOp;
using testing::FakePool;
using testing::FakeServer;
using testing::Stall;

// A pool with one idle connection that is pinged before every hand-out,
// with a validation_timeout far above the acquire deadlines below.
FakePool OneIdlePingedPool(const FakeServer& server, absl::Duration acquire_timeout) {
  auto pool = FakePool::Builder()
                  .dsn(server.dsn())
                  .max_size(1)
                  .validation_window(absl::ZeroDuration())
                  .validation_timeout(absl::Seconds(5))
                  .keepalive_interval(absl::ZeroDuration())
                  .acquire_timeout(acquire_timeout)
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(pool->acquire().ok());  // opened, then returned idle
  REQUIRE(pool->stats().idle == 1);
  return *pool;
}

TEST_CASE("acquire_timeout bounds the validation ping of an idle connection claimed at once",
          "[deadline]") {
  auto server = FakeServer::Create();
  FakePool pool = OneIdlePingedPool(*server, absl::Milliseconds(100));
  server->stall(FakeOp::kPing, Stall::kUntilDeadline);
  const absl::Time start = absl::Now();
  auto lease = pool.acquire();
  const absl::Duration took = absl::Now() - start;
  CHECK_FALSE(lease.ok());
  // Without the caller's deadline on that ping, it waits out validation_timeout (5s).
  CHECK(took < absl::Seconds(2));
  CHECK(pool.stats().validation_failures >= 1);
  server->stall(FakeOp::kPing, Stall::kNone);
}

TEST_CASE("an acquire with timeout zero does not wait out a stalled validation ping",
          "[deadline]") {
  auto server = FakeServer::Create();
  FakePool pool = OneIdlePingedPool(*server, absl::Seconds(20));
  server->stall(FakeOp::kPing, Stall::kUntilDeadline);
  AcquireOptions now_only;
  now_only.timeout = absl::ZeroDuration();
  const absl::Time start = absl::Now();
  auto lease = pool.acquire(now_only);
  const absl::Duration took = absl::Now() - start;
  CHECK_FALSE(lease.ok());
  CHECK(took < absl::Seconds(2));
  server->stall(FakeOp::kPing, Stall::kNone);
}

TEST_CASE("a connection whose ping stalls is replaced within the acquire deadline", "[deadline]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .validation_window(absl::ZeroDuration())
                  .validation_timeout(absl::Milliseconds(100))
                  .keepalive_interval(absl::ZeroDuration())
                  .acquire_timeout(absl::Seconds(20))
                  .build();
  REQUIRE(pool.ok());
  int first_id;
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    first_id = lease->native()->id;
  }
  server->stall(FakeOp::kPing, first_id, Stall::kUntilDeadline);  // only that connection
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->id != first_id);
  CHECK(pool->stats().validation_failures == 1);
}

}  // namespace
}  // namespace dbpool
