// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Pool::with_transaction() against the fake driver: commit, rollback,
// reruns after serialization failures and lost connections, and the
// resolution of COMMITs whose reply was lost.
#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dbpool/metrics.h"
#include "dbpool/outcome.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using testing::FakeLease;
using testing::FakePool;
using testing::FakeServer;

FakePool MakePool(const FakeServer& server, int max_attempts = 5) {
  FailoverPolicy p;
  p.max_attempts(max_attempts)
      .backoff_initial(absl::Milliseconds(1))
      .backoff_max(absl::Milliseconds(5));
  auto pool = FakePool::Builder().dsn(server.dsn()).max_size(2).failover(p).build();
  REQUIRE(pool.ok());
  return *std::move(pool);
}

// fn of the tests: two writes in the transaction.
absl::Status TwoWrites(FakeLease& lease) {
  if (absl::Status s = lease.native()->Write(); !s.ok()) return s;
  return lease.native()->Write();
}

TEST_CASE("with_transaction commits fn's writes and releases the lease", "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  int calls = 0;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    ++calls;
    CHECK(lease.native()->in_transaction);
    return TwoWrites(lease);
  });
  CHECK(status.ok());
  CHECK(calls == 1);
  CHECK(server->applied() == 2);
  CHECK(server->commits() == 1);
  CHECK(pool.stats().idle == 1);
}

TEST_CASE("with_transaction rolls back when fn fails and returns fn's error", "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  int calls = 0;
  int rollbacks_before = -1;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    ++calls;
    rollbacks_before = lease.native()->rollbacks;
    if (absl::Status s = lease.native()->Write(); !s.ok()) return s;
    return absl::InvalidArgumentError("bad input");
  });
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(calls == 1);
  CHECK(server->applied() == 0);
  CHECK(rollbacks_before == 0);
  auto lease = pool.acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->rollbacks == 1);
  CHECK_FALSE(lease->native()->in_transaction);
}

TEST_CASE("with_transaction reruns fn after a serialization failure or deadlock", "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  server->fail_next_writes(2, absl::AbortedError("could not serialize access (SQLSTATE 40001)"));
  int calls = 0;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    ++calls;
    return TwoWrites(lease);
  });
  CHECK(status.ok());
  CHECK(calls == 3);
  CHECK(server->applied() == 2);
  CHECK(server->commits() == 1);
}

TEST_CASE("with_transaction gives up on serialization failures after max_attempts",
          "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 3);
  server->fail_next_writes(100, absl::AbortedError("deadlock detected (SQLSTATE 40P01)"));
  int calls = 0;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    ++calls;
    return lease.native()->Write();
  });
  CHECK(status.code() == absl::StatusCode::kAborted);
  CHECK(calls == 3);
  CHECK(server->applied() == 0);
}

TEST_CASE("with_transaction reruns fn when the connection is lost before COMMIT", "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  int calls = 0;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    if (absl::Status s = lease.native()->Write(); !s.ok()) return s;
    if (++calls == 1) {
      lease.native()->lost = true;  // a statement lost its reply
      return MarkOutcomeUnknown(absl::UnavailableError("server closed the connection"));
    }
    return absl::OkStatus();
  });
  CHECK(status.ok());
  CHECK(calls == 2);
  CHECK(server->applied() == 1);  // the first transaction never committed
  CHECK(pool.stats().commits_resolved_committed == 0);
}

TEST_CASE("with_transaction resolves a COMMIT whose reply was lost after it committed",
          "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  server->lose_next_commit_replies(1, /*applied=*/true);
  int calls = 0;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    ++calls;
    return TwoWrites(lease);
  });
  CHECK(status.ok());
  CHECK(calls == 1);  // not run again
  CHECK(server->applied() == 2);
  CHECK(server->resolutions() == 1);
  const PoolStats s = pool.stats();
  CHECK(s.commits_resolved_committed == 1);
  CHECK(s.commits_resolved_aborted == 0);
  CHECK(s.commits_unresolved == 0);
  CHECK(s.in_use == 0);
  CHECK_THAT(RenderPrometheus(s, "p"),
             Catch::Contains("dbpool_commit_resolutions_total{pool=\"p\",result=\"committed\"} 1"));
}

TEST_CASE("with_transaction with defer_txn_id on a driver without it commits and resolves alike",
          "[transaction]") {
  // The fake driver has no begin_deferring_txn_id() of its own: the
  // default, begin(), serves.
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  server->lose_next_commit_replies(1, /*applied=*/true);
  RetryOptions retry;
  retry.defer_txn_id = true;
  int calls = 0;
  const absl::Status status = pool.with_transaction(
      [&](FakeLease& lease) {
        ++calls;
        CHECK(lease.native()->in_transaction);
        return TwoWrites(lease);
      },
      retry);
  CHECK(status.ok());
  CHECK(calls == 1);
  CHECK(server->applied() == 2);
  CHECK(server->resolutions() == 1);
  CHECK(pool.stats().commits_resolved_committed == 1);
}

TEST_CASE("with_transaction asks about a COMMIT answered by an error on a connection that died",
          "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  server->fail_next_commits_after_apply(1);
  int calls = 0;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    ++calls;
    return lease.native()->Write();
  });
  CHECK(status.ok());
  CHECK(calls == 1);
  CHECK(server->applied() == 1);  // not run again on the word of the error alone
  CHECK(pool.stats().commits_resolved_committed == 1);
}

TEST_CASE("with_transaction reruns fn when the lost COMMIT turns out rolled back",
          "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  server->lose_next_commit_replies(1, /*applied=*/false);
  int calls = 0;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    ++calls;
    return TwoWrites(lease);
  });
  CHECK(status.ok());
  CHECK(calls == 2);
  CHECK(server->applied() == 2);
  CHECK(pool.stats().commits_resolved_aborted == 1);
}

TEST_CASE("with_transaction asks again while the lost COMMIT's transaction is in progress",
          "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  server->lose_next_commit_replies(1, /*applied=*/true);
  server->answer_in_progress(2);
  int calls = 0;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    ++calls;
    return lease.native()->Write();
  });
  CHECK(status.ok());
  CHECK(calls == 1);
  CHECK(server->resolutions() == 3);
  CHECK(pool.stats().commits_resolved_committed == 1);
}

TEST_CASE("with_transaction reports outcome-unknown when the transaction stays in progress",
          "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server, 3);
  server->lose_next_commit_replies(1, /*applied=*/true);
  server->answer_in_progress(100);
  int calls = 0;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    ++calls;
    return lease.native()->Write();
  });
  CHECK(IsOutcomeUnknown(status));
  CHECK_THAT(std::string(status.message()), Catch::Contains("in progress"));
  CHECK(calls == 1);
  CHECK(server->resolutions() == 3);
  CHECK(pool.stats().commits_unresolved == 1);
}

TEST_CASE("with_transaction reports outcome-unknown, saying why, when the server cannot tell",
          "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  server->lose_next_commit_replies(1, /*applied=*/true);
  server->answer_unknown(1);
  int calls = 0;
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    ++calls;
    return lease.native()->Write();
  });
  CHECK(IsOutcomeUnknown(status));
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(std::string(status.message()), Catch::Contains("cannot tell"));
  CHECK_THAT(std::string(status.message()), Catch::Contains("fake: no such transaction"));
  CHECK(calls == 1);
  CHECK(server->applied() == 1);
  CHECK(pool.stats().commits_unresolved == 1);
}

TEST_CASE("with_transaction with idempotent reruns fn when the COMMIT stays unresolved",
          "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  server->lose_next_commit_replies(1, /*applied=*/true);
  server->answer_unknown(1);
  RetryOptions retry;
  retry.idempotent = true;
  int calls = 0;
  const absl::Status status = pool.with_transaction(
      [&](FakeLease& lease) {
        ++calls;
        return lease.native()->Write();
      },
      retry);
  CHECK(status.ok());
  CHECK(calls == 2);
}

TEST_CASE("with_transaction reruns fn when a lost COMMIT had written nothing", "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  server->lose_next_commit_replies(1, /*applied=*/true);
  int calls = 0;
  const absl::StatusOr<int> got = pool.with_transaction([&](FakeLease&) -> absl::StatusOr<int> {
    ++calls;
    return 7;  // a read-only transaction
  });
  REQUIRE(got.ok());
  CHECK(*got == 7);
  CHECK(calls == 2);
  CHECK(server->resolutions() == 0);  // no id to ask about
}

TEST_CASE("with_transaction returns fn's StatusOr value once committed", "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  server->lose_next_commit_replies(1, /*applied=*/true);
  const absl::StatusOr<std::string> got =
      pool.with_transaction([&](FakeLease& lease) -> absl::StatusOr<std::string> {
        if (absl::Status s = lease.native()->Write(); !s.ok()) return s;
        return std::string("row 1");
      });
  REQUIRE(got.ok());
  CHECK(*got == "row 1");
  CHECK(pool.stats().commits_resolved_committed == 1);
}

TEST_CASE("with_transaction refuses an fn that gives the lease up", "[transaction]") {
  auto server = FakeServer::Create();
  FakePool pool = MakePool(*server);
  const absl::Status status = pool.with_transaction([&](FakeLease& lease) {
    if (absl::Status s = lease.native()->Write(); !s.ok()) return s;
    lease.release();
    return absl::OkStatus();
  });
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(status.message()), Catch::Contains("released or discarded"));
  CHECK(server->applied() == 0);
}

}  // namespace
}  // namespace dbpool
