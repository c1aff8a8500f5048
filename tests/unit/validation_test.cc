// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Validation before hand-out: idle connections older than validation_window
// are pinged, and dead ones replaced within the same acquire.
#include <catch2/catch.hpp>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using testing::FakeConn;
using testing::FakeLease;
using testing::FakePool;
using testing::FakeServer;

TEST_CASE("with validation_window 0, a connection the server killed is replaced at acquire",
          "[validation]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .validation_window(absl::ZeroDuration())
                  .keepalive_interval(absl::ZeroDuration())
                  .build();
  REQUIRE(pool.ok());
  int old_id;
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    old_id = lease->native()->id;
  }
  REQUIRE(pool->stats().idle == 1);

  server->kill_all();
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->id != old_id);
  CHECK(lease->native()->Query().ok());
  const PoolStats s = pool->stats();
  CHECK(s.validation_failures == 1);
  CHECK(s.closed_broken == 1);
  CHECK(s.total == 1);
  CHECK(s.in_use == 1);
  CHECK(server->open_connections() == 1);
  CHECK(server->connects() == 2);
}

TEST_CASE("every killed idle connection is replaced within one acquire", "[validation]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(3)
                  .validation_window(absl::ZeroDuration())
                  .keepalive_interval(absl::ZeroDuration())
                  .build();
  REQUIRE(pool.ok());
  {
    std::vector<FakeLease> leases;
    for (int i = 0; i < 3; ++i) {
      auto lease = pool->acquire();
      REQUIRE(lease.ok());
      leases.push_back(*std::move(lease));
    }
  }
  REQUIRE(pool->stats().idle == 3);
  server->kill_all();

  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->Query().ok());
  const PoolStats s = pool->stats();
  CHECK(s.validation_failures == 3);
  CHECK(s.idle == 0);
  CHECK(s.total == 1);
  CHECK(server->open_connections() == 1);
}

TEST_CASE("with validation_window 0, a live idle connection is pinged and reused", "[validation]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .validation_window(absl::ZeroDuration())
                  .keepalive_interval(absl::ZeroDuration())
                  .build();
  REQUIRE(pool.ok());
  FakeConn* conn;
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    conn = lease->native();
  }
  const int pings = conn->pings;
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native() == conn);
  CHECK(conn->pings == pings + 1);
  CHECK(pool->stats().validation_failures == 0);
}

TEST_CASE("a connection used within the validation window is handed out without a ping",
          "[validation]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .validation_window(absl::Hours(1))
                  .keepalive_interval(absl::ZeroDuration())
                  .build();
  REQUIRE(pool.ok());
  FakeConn* conn;
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    conn = lease->native();
  }
  const int pings = conn->pings;
  for (int i = 0; i < 5; ++i) {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    CHECK(lease->native() == conn);
  }
  CHECK(conn->pings == pings);

  SECTION("so a killed connection is handed out unchecked") {
    // The cost of the window: the application finds the dead connection.
    server->kill_all();
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    CHECK(lease->native() == conn);
    CHECK(lease->native()->Query().code() == absl::StatusCode::kUnavailable);
    CHECK(pool->stats().validation_failures == 0);
  }
}

}  // namespace
}  // namespace dbpool
