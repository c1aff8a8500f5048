// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The behaviour every driver must show against its real server, written once
// and run per driver (see harnesses.h).
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "await.h"
#include "dbpool/outcome.h"
#include "harnesses.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

template <typename H>
absl::StatusOr<std::string> QueryOnLease(typename H::PoolType& pool, const std::string& sql) {
  auto lease = pool.acquire();
  if (!lease.ok()) return lease.status();
  return H::Query(lease->native(), sql);
}

TEMPLATE_TEST_CASE("64 threads share 8 connections and the server never sees more than 8",
                   "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  const std::string tag = UniqueTag("load");
  auto pool = H::Builder(tag).max_size(8).acquire_timeout(absl::Seconds(60)).build();
  REQUIRE(pool.ok());

  typename H::Admin admin;
  std::atomic<bool> done{false};
  std::atomic<int> server_max{0};
  std::atomic<int> samples{0};
  std::thread monitor([&] {
    while (!done) {
      absl::StatusOr<int> n = admin.CountConnections(tag);
      if (n.ok()) {
        int prev = server_max.load();
        while (*n > prev && !server_max.compare_exchange_weak(prev, *n)) {
        }
        ++samples;
      }
    }
  });

  constexpr int kThreads = 64;
  constexpr int kCycles = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < kCycles; ++i) {
        const int expect = t * 1000 + i;
        absl::StatusOr<std::string> v = QueryOnLease<H>(*pool, absl::StrCat("SELECT ", expect));
        if (!v.ok() || *v != absl::StrCat(expect)) ++failures;
      }
    });
  }
  for (std::thread& w : workers) w.join();
  done = true;
  monitor.join();

  CHECK(failures == 0);
  CHECK(samples > 0);
  CHECK(server_max <= 8);
  CHECK(server_max >= 1);
  const PoolStats s = pool->stats();
  CHECK(s.acquired == static_cast<uint64_t>(kThreads * kCycles));
  CHECK(s.in_use == 0);
  CHECK(s.total <= 8);
  CHECK(s.timeouts == 0);
}

TEMPLATE_TEST_CASE("an exhausted pool times out near acquire_timeout with its state",
                   "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool =
      H::Builder(UniqueTag("timeout")).max_size(2).acquire_timeout(absl::Milliseconds(300)).build();
  REQUIRE(pool.ok());
  auto a = pool->acquire();
  auto b = pool->acquire();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const absl::Time start = absl::Now();
  auto c = pool->acquire();
  const absl::Duration waited = absl::Now() - start;
  REQUIRE(c.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(waited >= absl::Milliseconds(300));
  CHECK(waited < absl::Milliseconds(300) + absl::Seconds(2));
  CHECK_THAT(std::string(c.status().message()), Catch::Contains("in_use=2") &&
                                                    Catch::Contains("total=2") &&
                                                    Catch::Contains("max_size=2"));
  a->release();
  auto d = pool->acquire();
  CHECK(d.ok());
}

TEMPLATE_TEST_CASE("a lease returned inside a transaction leaves the next user idle",
                   "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::Builder(UniqueTag("txn")).max_size(1).build();
  REQUIRE(pool.ok());
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    REQUIRE(H::Query(lease->native(), "BEGIN").ok());
    REQUIRE(H::InTransaction(lease->native()));
  }
  auto next = pool->acquire();
  REQUIRE(next.ok());
  CHECK_FALSE(H::InTransaction(next->native()));
  CHECK(pool->stats().rollbacks == 1);
  CHECK(pool->stats().created == 1);  // the same connection, cleaned
}

TEMPLATE_TEST_CASE("a full reset clears session variables and temporary tables", "[integration]",
                   DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::Builder(UniqueTag("reset")).max_size(1).reset_policy(ResetPolicy::Full()).build();
  REQUIRE(pool.ok());
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    REQUIRE(H::Query(lease->native(), H::kSetSessionVar).ok());
    REQUIRE(H::Query(lease->native(), H::kCreateTempTable).ok());
    REQUIRE(H::Query(lease->native(), H::kReadTempTable).ok());
  }
  auto next = pool->acquire();
  REQUIRE(next.ok());
  absl::StatusOr<std::string> var = H::Query(next->native(), H::kGetSessionVar);
  REQUIRE(var.ok());
  CHECK(*var == H::kSessionVarDefault);
  CHECK(H::Query(next->native(), H::kReadTempTable).status().code() == absl::StatusCode::kNotFound);
  CHECK(pool->stats().resets == 1);
  CHECK(pool->stats().created == 1);
}

TEMPLATE_TEST_CASE("init_sql runs again after a full reset", "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::Builder(UniqueTag("reinit"))
                  .max_size(1)
                  .init_sql(H::kSetSessionVar)
                  .reset_policy(ResetPolicy::Full())
                  .build();
  REQUIRE(pool.ok());
  for (int i = 0; i < 3; ++i) {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    CHECK(H::Query(lease->native(), H::kGetSessionVar).value_or("") != H::kSessionVarDefault);
  }
  CHECK(pool->stats().resets >= 2);
  CHECK(pool->stats().created == 1);
}

TEMPLATE_TEST_CASE("the rollback-only default keeps session settings across leases",
                   "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::Builder(UniqueTag("keep")).max_size(1).build();
  REQUIRE(pool.ok());
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    REQUIRE(H::Query(lease->native(), H::kSetSessionVar).ok());
  }
  auto next = pool->acquire();
  REQUIRE(next.ok());
  absl::StatusOr<std::string> var = H::Query(next->native(), H::kGetSessionVar);
  REQUIRE(var.ok());
  CHECK(*var != H::kSessionVarDefault);
}

TEMPLATE_TEST_CASE("after every pooled connection is killed the next acquire and query work",
                   "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  const std::string tag = UniqueTag("kill");
  auto pool =
      H::Builder(tag).max_size(4).min_idle(4).validation_window(absl::ZeroDuration()).build();
  REQUIRE(pool.ok());
  typename H::Admin admin;
  REQUIRE(Await([&] { return admin.CountConnections(tag).value_or(0) == 4; }));
  absl::StatusOr<int> killed = admin.KillConnections(tag);
  REQUIRE(killed.ok());
  CHECK(*killed == 4);
  REQUIRE(Await([&] { return admin.CountConnections(tag).value_or(-1) == 0; }));

  for (int i = 0; i < 8; ++i) {
    absl::StatusOr<std::string> v = QueryOnLease<H>(*pool, "SELECT 7");
    REQUIRE(v.ok());
    CHECK(*v == "7");
  }
  CHECK(pool->stats().validation_failures >= 1);
}

TEMPLATE_TEST_CASE(
    "with_retry hides a killed connection handed out unchecked from an idempotent read",
    "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  const std::string tag = UniqueTag("killretry");
  // No validation ping however long the kill takes (the test above is the
  // one where validation finds the dead connection): fn meets it.
  auto pool = H::Builder(tag).max_size(2).validation_window(absl::Minutes(10)).build();
  REQUIRE(pool.ok());
  REQUIRE(QueryOnLease<H>(*pool, "SELECT 1").ok());
  typename H::Admin admin;
  REQUIRE(admin.KillConnections(tag).ok());
  REQUIRE(Await([&] { return admin.CountConnections(tag).value_or(-1) == 0; }));
  // The killed connection is found on first use: the query was sent and no
  // reply came, which the client cannot tell from a lost reply, so only an
  // idempotent fn is run again (see the next test for a write).
  RetryOptions read;
  read.idempotent = true;
  int calls = 0;
  absl::Status st = pool->with_retry(
      [&](typename H::PoolType::LeaseType& lease) -> absl::Status {
        ++calls;
        return H::Query(lease.native(), "SELECT 1").status();
      },
      read);
  INFO(st);
  CHECK(st.ok());
  CHECK(calls == 2);  // the first on the dead connection, the second on a new one
  CHECK(pool->stats().validation_failures == 0);
}

TEMPLATE_TEST_CASE(
    "with_retry returns outcome-unknown, not a replay, when a killed connection loses a write",
    "[integration][outcome]", DBPOOL_HARNESSES) {
  using H = TestType;
  const std::string tag = UniqueTag("killwrite");
  auto pool = H::Builder(tag).max_size(2).build();
  REQUIRE(pool.ok());
  REQUIRE(QueryOnLease<H>(*pool, "SELECT 1").ok());
  typename H::Admin admin;
  REQUIRE(admin.KillConnections(tag).ok());
  REQUIRE(Await([&] { return admin.CountConnections(tag).value_or(-1) == 0; }));
  int calls = 0;
  absl::Status st = pool->with_retry([&](typename H::PoolType::LeaseType& lease) -> absl::Status {
    ++calls;
    return H::Query(lease.native(), "SELECT 1").status();  // stands for a write
  });
  INFO(st);
  // Either the driver saw the server's refusal (not applied: rerun) or only
  // the lost connection (outcome unknown: returned at once).
  if (st.ok()) {
    CHECK(calls == 2);
  } else {
    CHECK(IsOutcomeUnknown(st));
    CHECK(calls == 1);
  }
}

TEMPLATE_TEST_CASE("the pool recovers after a server restart", "[integration][restart]",
                   DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::Builder(UniqueTag("restart"))
                  .max_size(4)
                  .min_idle(2)
                  .acquire_timeout(absl::Seconds(10))
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(QueryOnLease<H>(*pool, "SELECT 1").ok());
  const uint64_t created_before = pool->stats().created;
  REQUIRE(H::RestartServer().ok());

  RetryOptions read;  // a read: safe to run again whatever the restart did to it
  read.idempotent = true;
  absl::Status st = pool->with_retry(
      [&](typename H::PoolType::LeaseType& lease) {
        return H::Query(lease.native(), "SELECT 1").status();
      },
      read);
  INFO(st);
  CHECK(st.ok());
  CHECK(pool->stats().created > created_before);
  // Every later acquire works too.
  for (int i = 0; i < 4; ++i) CHECK(QueryOnLease<H>(*pool, "SELECT 2").ok());
}

TEMPLATE_TEST_CASE("a lease destroyed after its pool is safe and closes its connection",
                   "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  const std::string tag = UniqueTag("outlive");
  typename H::PoolType::LeaseType lease;
  {
    auto pool = H::Builder(tag).max_size(2).build();
    REQUIRE(pool.ok());
    auto l = pool->acquire();
    REQUIRE(l.ok());
    lease = *std::move(l);
  }
  REQUIRE(lease.valid());
  absl::StatusOr<std::string> v = H::Query(lease.native(), "SELECT 5");
  REQUIRE(v.ok());
  CHECK(*v == "5");
  lease.release();
  CHECK_FALSE(lease.valid());
  typename H::Admin admin;
  CHECK(Await([&] { return admin.CountConnections(tag).value_or(-1) == 0; }));
}

TEMPLATE_TEST_CASE("init_sql runs on every new connection", "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::Builder(UniqueTag("init")).max_size(2).init_sql(H::kSetSessionVar).build();
  REQUIRE(pool.ok());
  auto a = pool->acquire();
  auto b = pool->acquire();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(H::Query(a->native(), H::kGetSessionVar).value_or("") != H::kSessionVarDefault);
  CHECK(H::Query(b->native(), H::kGetSessionVar).value_or("") != H::kSessionVarDefault);
}

TEMPLATE_TEST_CASE("a failing init_sql fails the acquire with its error", "[integration]",
                   DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::Builder(UniqueTag("badinit"))
                  .init_sql("SELECT * FROM dbpool_no_such_table")
                  .acquire_timeout(absl::Seconds(5))
                  .build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE_FALSE(lease.ok());
  CHECK_THAT(std::string(lease.status().message()), Catch::Contains("init_sql #1"));
}

TEMPLATE_TEST_CASE("wrong credentials fail fast with an authentication error", "[integration]",
                   DBPOOL_HARNESSES) {
  using H = TestType;
  const std::string secret = "definitely-wrong-secret";
  auto pool =
      H::Builder(UniqueTag("auth")).password(secret).acquire_timeout(absl::Seconds(30)).build();
  REQUIRE(pool.ok());
  for (int i = 0; i < 5; ++i) {
    const absl::Time start = absl::Now();
    auto lease = pool->acquire();
    REQUIRE_FALSE(lease.ok());
    CHECK((lease.status().code() == absl::StatusCode::kUnauthenticated ||
           lease.status().code() == absl::StatusCode::kPermissionDenied));
    CHECK(absl::Now() - start < absl::Seconds(10));
    CHECK_THAT(std::string(lease.status().message()), !Catch::Contains(secret));
  }
  CHECK(pool->stats().connect_failures < 5);  // backed off, not one attempt per acquire
  CHECK_THAT(pool->stats().last_connect_error, !Catch::Contains(secret));
}

TEMPLATE_TEST_CASE("an unknown database is reported as not found", "[integration]",
                   DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::Builder(UniqueTag("nodb")).database("dbpool_no_such_db").build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE_FALSE(lease.ok());
  CHECK(lease.status().code() == absl::StatusCode::kNotFound);
}

TEMPLATE_TEST_CASE("an endpoint that refuses connections is skipped for the next one",
                   "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::BaseBuilder(UniqueTag("multi"))
                  .endpoint("127.0.0.1", ClosedPort())
                  .endpoint(H::Host(), H::Port())
                  .build();
  REQUIRE(pool.ok());
  CHECK(QueryOnLease<H>(*pool, "SELECT 3").value_or("") == "3");
  CHECK(pool->stats().connect_failures == 0);  // a skipped endpoint is not a failed connect
}

TEMPLATE_TEST_CASE("no reachable endpoint gives kUnavailable naming the connect error",
                   "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::BaseBuilder(UniqueTag("down"))
                  .endpoint("127.0.0.1", ClosedPort())
                  .acquire_timeout(absl::Seconds(1))
                  .build();
  REQUIRE(pool.ok());
  const absl::Time start = absl::Now();
  auto lease = pool->acquire();
  REQUIRE(lease.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::Now() - start < absl::Seconds(5));
  CHECK_THAT(std::string(lease.status().message()), Catch::Contains("127.0.0.1"));
}

TEMPLATE_TEST_CASE("a server that accepts TCP but never answers is given up at connect_timeout",
                   "[integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  SilentListener silent;
  auto pool = H::BaseBuilder(UniqueTag("silent"))
                  .endpoint("127.0.0.1", silent.port())
                  .connect_timeout(absl::Milliseconds(300))
                  .acquire_timeout(absl::Seconds(5))
                  .failover(FailoverPolicy()
                                .backoff_initial(absl::Milliseconds(10))
                                .backoff_max(absl::Milliseconds(50)))
                  .build();
  REQUIRE(pool.ok());
  const absl::Time start = absl::Now();
  auto lease = pool->acquire();
  const absl::Duration waited = absl::Now() - start;
  REQUIRE(lease.status().code() == absl::StatusCode::kUnavailable);
  CHECK(waited < absl::Seconds(8));
  // Each attempt was given up at connect_timeout, not at the acquire's
  // deadline: several ended within the acquire's five seconds. Each takes
  // 300 ms plus a backoff of at most 50 ms; with the MySQL client's blocking
  // calls (Oracle's library, or DBPOOL_MYSQL_FORCE_BLOCKING), whose connect
  // timeout is whole seconds, 1 s (docs/mysql.md).
  CHECK(pool->stats().connect_failures >= 3);
  CHECK_THAT(pool->stats().last_connect_error, Catch::Contains("timed out"));
}

TEMPLATE_TEST_CASE("close() abandons a connect to a server that accepts TCP but never answers",
                   "[integration][close]", DBPOOL_HARNESSES) {
  using H = TestType;
  SilentListener silent;
  // With a driver that cannot abandon a connect, close() waits it out: a
  // short connect_timeout keeps that case quick, and it is checked too.
  const bool abandons = H::ConnectsCanBeAbandoned();
  const absl::Duration connect_timeout = abandons ? absl::Seconds(30) : absl::Seconds(2);
  auto pool = H::BaseBuilder(UniqueTag("silent_close"))
                  .endpoint("127.0.0.1", silent.port())
                  .min_idle(1)
                  .connect_timeout(connect_timeout)
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return pool->stats().connecting == 1; }));  // the opener's connect
  const absl::Time start = absl::Now();
  pool->close();
  const absl::Duration took = absl::Now() - start;
  INFO("close() took " << absl::FormatDuration(took) << "; connect_timeout "
                       << absl::FormatDuration(connect_timeout));
  if (abandons) {
    CHECK(took < absl::Seconds(5));
  } else {
    CHECK(took < connect_timeout + absl::Seconds(3));
  }
  CHECK(pool->stats().total == 0);
  CHECK(pool->stats().connect_failures == 0);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
