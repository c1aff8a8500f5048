// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Errors that waiting cannot heal end acquires at once (while no leased
// connection could come back), with_retry() does not retry them, and
// Pool::ping() gives a start-up check the real error.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using testing::Await;
using testing::FakeLease;
using testing::FakePool;
using testing::FakeServer;

absl::Status CertificateFailure() {
  return MarkConfigurationError(
      absl::UnavailableError("fake: connect to fake:1: certificate verify failed"));
}

TEST_CASE("IsConfigurationError covers the documented codes and marked errors", "[fail_fast]") {
  CHECK(IsConfigurationError(absl::UnauthenticatedError("x")));
  CHECK(IsConfigurationError(absl::PermissionDeniedError("x")));
  CHECK(IsConfigurationError(absl::NotFoundError("x")));
  CHECK(IsConfigurationError(absl::InvalidArgumentError("x")));
  CHECK(IsConfigurationError(CertificateFailure()));
  CHECK(CertificateFailure().code() == absl::StatusCode::kUnavailable);  // the code stays
  CHECK_FALSE(IsConfigurationError(absl::UnavailableError("x")));
  CHECK_FALSE(IsConfigurationError(absl::DeadlineExceededError("x")));
  CHECK_FALSE(IsConfigurationError(MarkConfigurationError(absl::OkStatus())));
}

TEST_CASE("a certificate that fails verification fails acquires at once, not at their deadline",
          "[fail_fast]") {
  auto server = FakeServer::Create();
  server->set_connect_error(CertificateFailure());
  auto pool = FakePool::Builder().dsn(server->dsn()).acquire_timeout(absl::Seconds(20)).build();
  REQUIRE(pool.ok());
  for (int i = 0; i < 3; ++i) {
    const absl::Time start = absl::Now();
    auto lease = pool->acquire();
    INFO("acquire #" << i << ": " << lease.status());
    CHECK(lease.status().code() == absl::StatusCode::kUnavailable);
    CHECK(absl::StrContains(lease.status().message(), "certificate verify failed"));
    CHECK(absl::Now() - start < absl::Seconds(5));  // not the 20s deadline
  }
}

TEST_CASE("a connection being closed does not hold off failing acquires at once", "[fail_fast]") {
  auto server = FakeServer::Create();
  auto pool =
      FakePool::Builder().dsn(server->dsn()).max_size(2).acquire_timeout(absl::Seconds(20)).build();
  REQUIRE(pool.ok());
  auto held = pool->acquire();
  REQUIRE(held.ok());
  server->block_closes();  // its close hangs: the slot stays taken, but serves nobody again
  std::thread discarder([&] { held->discard(); });
  REQUIRE(Await([&] { return server->closing_connections() == 1; }));
  server->set_connect_error(CertificateFailure());
  const absl::Time start = absl::Now();
  auto lease = pool->acquire();
  INFO(lease.status());
  CHECK(absl::StrContains(lease.status().message(), "certificate verify failed"));
  CHECK(absl::Now() - start < absl::Seconds(5));  // not the 20s deadline
  server->unblock_closes();
  discarder.join();
}

TEST_CASE("with_retry does not retry an error that waiting cannot heal", "[fail_fast][retry]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .acquire_timeout(absl::Seconds(20))
                  .failover(FailoverPolicy().max_attempts(5))
                  .build();
  REQUIRE(pool.ok());
  int calls = 0;
  const absl::Status status = pool->with_retry([&](FakeLease&) {
    ++calls;
    return CertificateFailure();
  });
  CHECK(calls == 1);
  CHECK(IsConfigurationError(status));
}

TEST_CASE("ping() returns the real connect error at once, and OK once the pool can connect",
          "[fail_fast]") {
  auto server = FakeServer::Create();
  server->set_connect_error(CertificateFailure());
  auto pool = FakePool::Builder().dsn(server->dsn()).acquire_timeout(absl::Seconds(20)).build();
  REQUIRE(pool.ok());
  const absl::Time start = absl::Now();
  const absl::Status down = pool->ping();
  CHECK(absl::Now() - start < absl::Seconds(5));
  CHECK(down.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(down.message(), "certificate verify failed"));

  server->set_connect_error(absl::UnauthenticatedError("fake: password authentication failed"));
  CHECK(Await([&] { return pool->ping().code() == absl::StatusCode::kUnauthenticated; }));

  server->set_connect_error(absl::OkStatus());
  CHECK(Await([&] { return pool->ping().ok(); }));
  CHECK(pool->stats().in_use == 0);
}

TEST_CASE("ping() reports a connection that does not answer", "[fail_fast]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).build();
  REQUIRE(pool.ok());
  REQUIRE(pool->ping().ok());
  server->set_ping_fails(true);
  CHECK(pool->ping().code() == absl::StatusCode::kUnavailable);
  CHECK(pool->stats().in_use == 0);
}

TEST_CASE("after a credential error an acquire still gets a lease returned within its deadline",
          "[fail_fast]") {
  auto server = FakeServer::Create();
  auto pool =
      FakePool::Builder().dsn(server->dsn()).max_size(2).acquire_timeout(absl::Seconds(20)).build();
  REQUIRE(pool.ok());
  auto held = pool->acquire();
  REQUIRE(held.ok());
  server->set_connect_error(absl::UnauthenticatedError("fake: password authentication failed"));
  std::atomic<bool> done{false};
  absl::Status result;
  std::thread waiter([&] {
    auto lease = pool->acquire();  // no idle connection; a connect fails
    result = lease.status();
    done = true;
  });
  REQUIRE(Await([&] { return pool->stats().connect_failures >= 1; }));
  // The failed connect did not end the wait: the held lease may come back.
  absl::SleepFor(absl::Milliseconds(50));
  CHECK_FALSE(done.load());
  held->release();
  waiter.join();
  CHECK(result.ok());
}

TEST_CASE("with nothing leased, a credential error fails the acquire at once", "[fail_fast]") {
  auto server = FakeServer::Create();
  server->set_connect_error(absl::UnauthenticatedError("fake: password authentication failed"));
  auto pool =
      FakePool::Builder().dsn(server->dsn()).max_size(1).acquire_timeout(absl::Seconds(20)).build();
  REQUIRE(pool.ok());
  const absl::Time start = absl::Now();
  auto lease = pool->acquire();
  CHECK(lease.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(absl::Now() - start < absl::Seconds(5));
}

}  // namespace
}  // namespace dbpool
