// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Pool::warm_up(): a start-up check that opens connections on every
// endpoint and returns the real connect error, at once when waiting cannot
// heal it.
#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using testing::FakePool;
using testing::FakeServer;

TEST_CASE("warm_up opens one connection when min_idle is 0 and returns it idle", "[warm_up]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(4).min_idle(0).build();
  REQUIRE(pool.ok());
  REQUIRE(server->connects() == 0);  // nothing opens by itself with min_idle 0
  REQUIRE(pool->warm_up(absl::Seconds(20)).ok());
  // Open by the time warm_up returns, not later.
  CHECK(server->open_connections() == 1);
  const PoolStats s = pool->stats();
  CHECK(s.idle == 1);
  CHECK(s.in_use == 0);
  CHECK(s.acquired == 1);  // taken as an acquire would
}

TEST_CASE("warm_up with a zero timeout only accepts what is open already", "[warm_up]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).min_idle(0).build();
  REQUIRE(pool.ok());
  CHECK(pool->warm_up(absl::ZeroDuration()).code() == absl::StatusCode::kDeadlineExceeded);
  REQUIRE(pool->warm_up(absl::Seconds(20)).ok());
  CHECK(pool->warm_up(absl::ZeroDuration()).ok());
}

TEST_CASE("warm_up returns once min_idle connections are open", "[warm_up]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(5).min_idle(3).build();
  REQUIRE(pool.ok());
  REQUIRE(pool->warm_up().ok());
  CHECK(server->open_connections() >= 3);
  const PoolStats s = pool->stats();
  CHECK(s.idle >= 3);
  CHECK(s.in_use == 0);
}

TEST_CASE("warm_up opens connections on every endpoint", "[warm_up][cluster]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .endpoint("a.test", 5432)
                  .endpoint("b.test", 5432)
                  .max_size(2)
                  .min_idle(0)
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(pool->warm_up(absl::Seconds(20)).ok());
  const PoolStats s = pool->stats();
  REQUIRE(s.endpoints.size() == 2);
  for (const EndpointStats& e : s.endpoints) {
    INFO(e.endpoint);
    CHECK(e.total == 1);
    CHECK(e.idle == 1);
  }
}

TEST_CASE("warm_up fails when one endpoint refuses, naming that endpoint", "[warm_up][cluster]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .endpoint("a.test", 5432)
                  .endpoint("b.test", 5432)
                  .max_size(2)
                  .credentials([](const Endpoint& endpoint) -> absl::StatusOr<Credentials> {
                    if (endpoint.host == "b.test") {
                      return absl::UnauthenticatedError("no login for this host");
                    }
                    return Credentials{};
                  })
                  .build();
  REQUIRE(pool.ok());
  const absl::Time start = absl::Now();
  const absl::Status status = pool->warm_up(absl::Seconds(20));
  CHECK(absl::Now() - start < absl::Seconds(5));
  CHECK(status.code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(status.message()), Catch::Contains("0 of 1 connections to b.test:5432"));
}

TEST_CASE("warm_up returns a credentials error at once, naming the endpoint and no secret",
          "[warm_up][fail_fast]") {
  auto server = FakeServer::Create();
  server->set_connect_error(
      absl::UnauthenticatedError("fake: password authentication failed for user \"app\""));
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .password("warm-up-secret-7f3a")
                  .acquire_timeout(absl::Seconds(30))
                  .build();
  REQUIRE(pool.ok());
  const absl::Time start = absl::Now();
  const absl::Status status = pool->warm_up(absl::Seconds(20));
  CHECK(absl::Now() - start < absl::Seconds(5));  // not the 20 s timeout
  CHECK(status.code() == absl::StatusCode::kUnauthenticated);
  const std::string message(status.message());
  CHECK_THAT(message, Catch::Contains("password authentication failed"));
  CHECK_THAT(message, Catch::Contains("0 of 1 connections to fake:1"));
  CHECK_THAT(status.ToString(), !Catch::Contains("warm-up-secret-7f3a"));
}

TEST_CASE("warm_up returns a certificate failure at once with its code", "[warm_up][fail_fast]") {
  auto server = FakeServer::Create();
  server->set_connect_error(MarkConfigurationError(
      absl::UnavailableError("fake: connect to fake:1: certificate verify failed")));
  auto pool = FakePool::Builder().dsn(server->dsn()).build();
  REQUIRE(pool.ok());
  const absl::Time start = absl::Now();
  const absl::Status status = pool->warm_up(absl::Seconds(20));
  CHECK(absl::Now() - start < absl::Seconds(5));
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(IsConfigurationError(status));  // the mark survives the note
  CHECK_THAT(std::string(status.message()), Catch::Contains("certificate verify failed"));
}

TEST_CASE("warm_up gives kDeadlineExceeded at its timeout while connects hang", "[warm_up]") {
  auto server = FakeServer::Create();
  server->block_connects();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .connect_timeout(absl::Seconds(30))
                  .acquire_timeout(absl::Seconds(30))
                  .build();
  REQUIRE(pool.ok());
  struct Unblock {
    FakeServer& server;
    ~Unblock() { server.unblock_connects(); }  // before the pool closes
  } unblock{*server};
  const absl::Time start = absl::Now();
  const absl::Status status = pool->warm_up(absl::Milliseconds(300));
  const absl::Duration took = absl::Now() - start;
  CHECK(status.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(took >= absl::Milliseconds(290));
  CHECK(took < absl::Seconds(10));  // the timeout, not connect_timeout or acquire_timeout
  CHECK_THAT(std::string(status.message()), Catch::Contains("0 of 1 connections to fake:1"));
}

TEST_CASE("warm_up gives kUnavailable naming the connect error while connects fail", "[warm_up]") {
  auto server = FakeServer::Create();
  server->set_connect_error(absl::UnavailableError("fake: connection refused"));
  auto pool = FakePool::Builder().dsn(server->dsn()).build();
  REQUIRE(pool.ok());
  const absl::Status status = pool->warm_up(absl::Milliseconds(300));
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(std::string(status.message()), Catch::Contains("connection refused"));
}

TEST_CASE("warm_up on a closed pool fails with kFailedPrecondition", "[warm_up]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).build();
  REQUIRE(pool.ok());
  pool->close();
  CHECK(pool->warm_up(absl::Seconds(1)).code() == absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace dbpool
