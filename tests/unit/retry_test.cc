// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Backoff arithmetic and Pool::with_retry().
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "await.h"
#include "core/backoff.h"
#include "dbpool/outcome.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using internal::BackoffDelay;
using testing::Await;
using testing::FakeLease;
using testing::FakePool;
using testing::FakeServer;

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

TEST_CASE("backoff doubles from backoff_initial and is capped at backoff_max", "[backoff]") {
  FailoverPolicy p;
  p.backoff_initial(absl::Milliseconds(100)).backoff_max(absl::Seconds(1)).backoff_jitter(0);
  // With no jitter the random draw does not matter.
  for (double r : {0.0, 0.5, 0.999}) {
    CHECK(Ms(BackoffDelay(p, 1, r)) == Approx(100));
    CHECK(Ms(BackoffDelay(p, 2, r)) == Approx(200));
    CHECK(Ms(BackoffDelay(p, 3, r)) == Approx(400));
    CHECK(Ms(BackoffDelay(p, 4, r)) == Approx(800));
    CHECK(Ms(BackoffDelay(p, 5, r)) == Approx(1000));
    CHECK(Ms(BackoffDelay(p, 6, r)) == Approx(1000));
  }
  // No overflow however many failures.
  CHECK(Ms(BackoffDelay(p, 1000, 0.5)) == Approx(1000));
  CHECK(Ms(BackoffDelay(p, 1 << 30, 0.5)) == Approx(1000));
}

TEST_CASE("backoff with backoff_initial equal to backoff_max stays constant", "[backoff]") {
  FailoverPolicy p;
  p.backoff_initial(absl::Milliseconds(30)).backoff_max(absl::Milliseconds(30)).backoff_jitter(0);
  for (int failures : {1, 2, 10}) CHECK(Ms(BackoffDelay(p, failures, 0.3)) == Approx(30));
}

TEST_CASE("backoff jitter scales the pause by a factor between 1 - jitter and 1 + jitter",
          "[backoff]") {
  FailoverPolicy p;
  p.backoff_initial(absl::Milliseconds(100)).backoff_max(absl::Seconds(1)).backoff_jitter(0.2);

  CHECK(Ms(BackoffDelay(p, 1, 0.0)) == Approx(80));
  CHECK(Ms(BackoffDelay(p, 1, 0.5)) == Approx(100));
  const double high = Ms(BackoffDelay(p, 1, 0.999));
  CHECK(high > 119.9);
  CHECK(high < 120.0);

  // Jitter applies after the cap.
  CHECK(Ms(BackoffDelay(p, 10, 0.0)) == Approx(800));
  CHECK(Ms(BackoffDelay(p, 10, 0.5)) == Approx(1000));
  const double capped_high = Ms(BackoffDelay(p, 10, 0.999));
  CHECK(capped_high > 1199.0);
  CHECK(capped_high < 1200.0);

  SECTION("full jitter spans 0..2x") {
    p.backoff_jitter(1.0);
    CHECK(Ms(BackoffDelay(p, 1, 0.0)) == Approx(0).margin(1e-9));
    CHECK(Ms(BackoffDelay(p, 1, 0.5)) == Approx(100));
    CHECK(Ms(BackoffDelay(p, 1, 0.999)) == Approx(199.8));
  }
}

TEST_CASE("backoff with a random draw stays within the jitter bounds", "[backoff]") {
  FailoverPolicy p;
  p.backoff_initial(absl::Milliseconds(100)).backoff_max(absl::Seconds(1)).backoff_jitter(0.2);
  double lowest = 1e9, highest = 0;
  for (int i = 0; i < 1000; ++i) {
    const double d = Ms(BackoffDelay(p, 2));
    CHECK(d >= 160.0);
    CHECK(d <= 240.0);
    lowest = std::min(lowest, d);
    highest = std::max(highest, d);
  }
  // The draw is random, not constant (1000 draws spread over the range).
  CHECK(highest - lowest > 20.0);
}

TEST_CASE("UnitRandom draws at least 0 and less than 1", "[backoff]") {
  for (int i = 0; i < 1000; ++i) {
    const double r = internal::UnitRandom();
    CHECK(r >= 0.0);
    CHECK(r < 1.0);
  }
}

// ---- with_retry() ---------------------------------------------------------

// Short pauses so that retries do not slow the suite down.
FailoverPolicy FastRetries(int max_attempts) {
  FailoverPolicy p;
  p.max_attempts(max_attempts)
      .backoff_initial(absl::Milliseconds(1))
      .backoff_max(absl::Milliseconds(5));
  return p;
}

FakePool MakePool(const FakeServer& server, int max_attempts,
                  absl::Duration acquire_timeout = absl::Seconds(10)) {
  auto pool = FakePool::Builder()
                  .dsn(server.dsn())
                  .max_size(2)
                  .acquire_timeout(acquire_timeout)
                  .failover(FastRetries(max_attempts))
                  .build();
  REQUIRE(pool.ok());
  return *std::move(pool);
}

TEST_CASE("with_retry retries kUnavailable up to max_attempts and discards each connection",
          "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 4);
  int calls = 0;
  const absl::Status status = pool.with_retry([&](FakeLease& lease) {
    ++calls;
    CHECK(lease.valid());
    return absl::UnavailableError("connection reset by peer");
  });
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(status.message() == "connection reset by peer");
  CHECK(calls == 4);
  const PoolStats s = pool.stats();
  CHECK(s.closed_discarded == 4);
  CHECK(s.acquired == 4);
  CHECK(s.in_use == 0);
  CHECK(server->connects() == 4);
  CHECK(server->open_connections() == 0);
}

TEST_CASE("with_retry with max_attempts 1 calls fn once", "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 1);
  int calls = 0;
  const absl::Status status = pool.with_retry([&](FakeLease&) {
    ++calls;
    return absl::UnavailableError("gone");
  });
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(calls == 1);
  CHECK(pool.stats().closed_discarded == 1);
}

TEST_CASE("with_retry does not retry kInvalidArgument and keeps the connection", "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 5);
  int calls = 0;
  const absl::Status status = pool.with_retry([&](FakeLease&) {
    ++calls;
    return absl::InvalidArgumentError("syntax error");
  });
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(calls == 1);
  const PoolStats s = pool.stats();
  CHECK(s.closed_discarded == 0);
  CHECK(s.idle == 1);
  CHECK(s.in_use == 0);
}

TEST_CASE("with_retry returns OK when fn succeeds on the second attempt", "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 5);
  int calls = 0;
  int first_id = 0;
  int second_id = 0;
  const absl::Status status = pool.with_retry([&](FakeLease& lease) {
    ++calls;
    if (calls == 1) {
      first_id = lease.native()->id;
      return absl::UnavailableError("server closed the connection");
    }
    second_id = lease.native()->id;
    return absl::OkStatus();
  });
  CHECK(status.ok());
  CHECK(calls == 2);
  CHECK(second_id != first_id);  // the failed connection was not reused
  const PoolStats s = pool.stats();
  CHECK(s.closed_discarded == 1);
  CHECK(s.idle == 1);  // the good one went back
  CHECK(s.in_use == 0);
}

TEST_CASE("with_retry returns OK at once and releases the lease", "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 5);
  int calls = 0;
  const absl::Status status = pool.with_retry([&](FakeLease&) {
    ++calls;
    return absl::OkStatus();
  });
  CHECK(status.ok());
  CHECK(calls == 1);
  CHECK(pool.stats().idle == 1);
  CHECK(pool.stats().closed_discarded == 0);
}

TEST_CASE("with_retry retries an acquire that fails with kUnavailable", "[retry]") {
  auto server = FakeServer::Create();
  server->set_connect_error(absl::UnavailableError("fake: connection refused"));
  FakePool pool = MakePool(*server, 3, absl::Milliseconds(30));
  int calls = 0;
  const absl::Status status = pool.with_retry([&](FakeLease&) {
    ++calls;
    return absl::OkStatus();
  });
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(calls == 0);
  // Each of the three attempts waited out its acquire deadline.
  CHECK(pool.stats().timeouts == 3);
}

TEST_CASE("with_retry gets through once the server accepts connections again", "[retry]") {
  auto server = FakeServer::Create();
  server->set_connect_error(absl::UnavailableError("fake: connection refused"));
  FakePool pool = MakePool(*server, 100, absl::Milliseconds(20));
  std::atomic<int> calls{0};
  absl::Status status = absl::UnknownError("not run");
  std::thread caller([&] {
    status = pool.with_retry([&](FakeLease& lease) {
      ++calls;
      return lease.native()->Query();
    });
  });
  // Let at least two acquires fail (so the retry is what gets through), then
  // let the server accept.
  const bool failed_twice = Await([&] { return pool.stats().timeouts >= 2; });
  server->set_connect_error(absl::OkStatus());
  caller.join();
  REQUIRE(failed_twice);
  CHECK(status.ok());
  CHECK(calls == 1);
}

TEST_CASE("with_retry copes with fn discarding the lease itself", "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 3);

  SECTION("and returning kUnavailable: retried") {
    int calls = 0;
    const absl::Status status = pool.with_retry([&](FakeLease& lease) {
      ++calls;
      lease.discard();
      CHECK_FALSE(lease.valid());
      return calls < 2 ? absl::UnavailableError("lost") : absl::OkStatus();
    });
    CHECK(status.ok());
    CHECK(calls == 2);
    CHECK(pool.stats().closed_discarded == 2);
  }
  SECTION("and returning OK: nothing more happens") {
    const absl::Status status = pool.with_retry([&](FakeLease& lease) {
      lease.discard();
      return absl::OkStatus();
    });
    CHECK(status.ok());
    CHECK(pool.stats().closed_discarded == 1);
  }
  SECTION("and releasing it, then failing for good") {
    int calls = 0;
    const absl::Status status = pool.with_retry([&](FakeLease& lease) {
      ++calls;
      lease.release();
      return absl::NotFoundError("no such row");
    });
    CHECK(status.code() == absl::StatusCode::kNotFound);
    CHECK(calls == 1);
    CHECK(pool.stats().closed_discarded == 0);
    CHECK(pool.stats().idle == 1);
  }
  const PoolStats s = pool.stats();
  CHECK(s.in_use == 0);
  CHECK(s.total == s.idle);
  CHECK(server->open_connections() == s.total);
}

// ---- with_retry() and outcome-unknown failures ----------------------------

RetryOptions Idempotent() {
  RetryOptions retry;
  retry.idempotent = true;
  return retry;
}

TEST_CASE("with_retry calls fn once when a write was applied and its reply lost", "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 5);
  server->lose_next_write_replies(1);
  int calls = 0;
  const absl::Status status = pool.with_retry([&](FakeLease& lease) {
    ++calls;
    return lease.native()->Write();
  });
  CHECK(IsOutcomeUnknown(status));
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(calls == 1);
  CHECK(server->applied() == 1);  // exactly once, not twice
  CHECK(pool.stats().in_use == 0);
  CHECK(pool.stats().idle == 0);  // the lost connection was not kept
}

TEST_CASE("with_retry with idempotent runs fn again after a lost reply", "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 5);
  server->lose_next_write_replies(1);
  int calls = 0;
  const absl::Status status = pool.with_retry(
      [&](FakeLease& lease) {
        ++calls;
        return lease.native()->Write();
      },
      Idempotent());
  CHECK(status.ok());
  CHECK(calls == 2);
  CHECK(server->applied() == 2);  // what idempotent promises is harmless
}

TEST_CASE("with_retry(fn, role) does not rerun an outcome-unknown failure", "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 5);
  int calls = 0;
  const absl::Status status = pool.with_retry(
      [&](FakeLease&) {
        ++calls;
        return MarkOutcomeUnknown(absl::UnavailableError("reply lost"));
      },
      Role::kPrimary);
  CHECK(IsOutcomeUnknown(status));
  CHECK(calls == 1);
}

TEST_CASE("with_retry treats an unclassified error on a connection that broke as outcome-unknown",
          "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 5);
  int calls = 0;
  const absl::Status status = pool.with_retry([&](FakeLease& lease) {
    ++calls;
    lease.native()->lost = true;  // the connection died under fn
    return absl::UnavailableError("my own mapping of a lost connection");
  });
  CHECK(IsOutcomeUnknown(status));
  CHECK_THAT(std::string(status.message()), Catch::Contains("my own mapping"));
  CHECK_THAT(std::string(status.message()), Catch::Contains("connection broke"));
  CHECK(calls == 1);
}

TEST_CASE("with_retry reruns a failure that says nothing was sent, even on a broken connection",
          "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 5);
  int calls = 0;
  const absl::Status status = pool.with_retry([&](FakeLease& lease) {
    if (++calls == 1) {
      lease.native()->lost = true;
      return lease.native()->Write();  // refused: "not sent"
    }
    return lease.native()->Write();
  });
  CHECK(status.ok());
  CHECK(calls == 2);
  CHECK(server->applied() == 1);
}

TEST_CASE("with_retry still reruns plain kUnavailable on a healthy connection", "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 3);
  int calls = 0;
  const absl::Status status = pool.with_retry([&](FakeLease&) {
    return ++calls < 2 ? absl::UnavailableError("server is read-only") : absl::OkStatus();
  });
  CHECK(status.ok());
  CHECK(calls == 2);
}

TEST_CASE("with_retry returns fn's StatusOr value", "[retry]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 3);
  int calls = 0;
  absl::StatusOr<int> got = pool.with_retry([&](FakeLease&) -> absl::StatusOr<int> {
    if (++calls == 1) return absl::UnavailableError("refused");
    return 42;
  });
  REQUIRE(got.ok());
  CHECK(*got == 42);
  absl::StatusOr<std::string> failed = pool.with_retry(
      [&](FakeLease&) -> absl::StatusOr<std::string> { return absl::NotFoundError("none"); },
      Idempotent());
  CHECK(failed.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("a lease the pool interrupts when its endpoint goes down reports outcome-unknown",
          "[retry][failover]") {
  auto server = FakeServer::Create();
  FailoverPolicy policy = FastRetries(5);
  policy.probe_interval(absl::Milliseconds(10))
      .probe_timeout(absl::Milliseconds(50))
      .failure_threshold(1);
  ProbeResult replica;  // one primary, one replica: two writable ones would be a split brain
  replica.role = Role::kReplica;
  server->set_probe(Endpoint{"fake", 2}, replica);
  auto built = FakePool::Builder()
                   .dsn(server->dsn())
                   .endpoint("fake", 1)
                   .endpoint("fake", 2)
                   .max_size(2)
                   .failover(policy)
                   .build();
  REQUIRE(built.ok());
  FakePool pool = *std::move(built);
  for (const bool idempotent : {false, true}) {
    INFO("idempotent " << idempotent);
    server->set_ping_fails(false);
    REQUIRE(Await([&] {
      const PoolStats s = pool.stats();
      return s.endpoints.size() == 2 && s.endpoints[0].up && s.endpoints[0].role == "primary";
    }));
    RetryOptions retry;
    retry.idempotent = idempotent;
    int calls = 0;
    bool interrupted = false;
    const absl::Status status = pool.with_retry(
        [&](FakeLease& lease) {
          if (++calls > 1) return absl::OkStatus();
          server->set_ping_fails(true);  // the probers declare the endpoints down
          interrupted = Await([&] { return lease.broken(); });
          server->set_ping_fails(false);
          // Even a failure that claims nothing was sent: the pool cut the
          // connection under it.
          return WithOutcome(absl::UnavailableError("fake: not sent"), Outcome::kNotApplied);
        },
        retry);
    REQUIRE(interrupted);
    if (idempotent) {
      CHECK(status.ok());
      CHECK(calls == 2);
    } else {
      CHECK(IsOutcomeUnknown(status));
      CHECK_THAT(std::string(status.message()), Catch::Contains("shut this connection down"));
      CHECK(calls == 1);
    }
  }
}

}  // namespace
}  // namespace dbpool
