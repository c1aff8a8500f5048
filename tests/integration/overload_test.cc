// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Overload and network faults per driver: the server's max_connections
// reached, a host name that does not resolve, and connections reset in the
// middle of a query. Tests that disturb a server use one of their own
// (ScratchServers) so that nothing they leave behind reaches other tests.
#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "fault_proxy.h"
#include "harnesses.h"
#include "scratch_servers.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

// What these tests say to H's server (PostgreSQL or MariaDB).
template <typename H>
struct OverloadSql {
  static constexpr bool kPostgres = std::string_view(H::kServerName) == "pg";
  // A connection limit far below the scratch server's (200, 300); applied
  // by a restart on PostgreSQL.
  static constexpr const char* kLowerLimit =
      kPostgres ? "ALTER SYSTEM SET max_connections = 20" : "SET GLOBAL max_connections = 20";
  static constexpr bool kLimitNeedsRestart = kPostgres;
  // The server's refusal once the limit is reached: SQLSTATE 53300, MySQL
  // error 1040.
  static constexpr const char* kServerFull =
      kPostgres ? "too many clients" : "Too many connections";
  static constexpr const char* kSleep = kPostgres ? "SELECT pg_sleep(30)" : "SELECT SLEEP(30)";
  static constexpr const char* kCountSleeping =
      kPostgres ? "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' "
                  "AND state = 'active'"
                : "SELECT count(*) FROM information_schema.PROCESSLIST "
                  "WHERE INFO = 'SELECT SLEEP(30)'";
};

// A name under the reserved .invalid TLD: it never resolves (RFC 6761).
constexpr const char* kNoSuchHost = "dbpool-no-such-host.invalid";

template <typename H>
absl::StatusOr<std::string> QueryOnLease(const typename H::PoolType& pool, const std::string& sql) {
  auto lease = pool.acquire();
  if (!lease.ok()) return lease.status();
  return H::Query(lease->native(), sql);
}

// No lease out, no waiter left behind, nothing over the cap.
void CheckQuiet(const PoolStats& s) {
  INFO(ToString(s));
  CHECK(s.in_use == 0);
  CHECK(s.waiting == 0);
  CHECK(s.total <= s.max_size);
}

// `rounds` acquires that each fail with kUnavailable, the message holding
// `reason`, at about the pool's acquire_timeout; then the pool holds
// nothing (no slot kept by a failed connect) and shows `reason` as its last
// connect error.
template <typename Pool>
void CheckAcquiresUnavailable(const Pool& pool, int rounds, const std::string& reason) {
  const absl::Duration timeout = pool.options().acquire_timeout;
  for (int i = 0; i < rounds; ++i) {
    const absl::Time start = absl::Now();
    auto lease = pool.acquire();
    const absl::Duration waited = absl::Now() - start;
    INFO("acquire #" << i << ": " << lease.status() << " after " << waited);
    REQUIRE(lease.status().code() == absl::StatusCode::kUnavailable);
    CHECK(waited < timeout + absl::Seconds(5));
    CHECK_THAT(std::string(lease.status().message()), Catch::Contains(reason));
  }
  const PoolStats s = pool.stats();
  CheckQuiet(s);
  CHECK(s.total == 0);
  CHECK(s.connect_failures >= 1);
  CHECK_THAT(s.last_connect_error, Catch::Contains(reason));
}

TEMPLATE_TEST_CASE(
    "a server at max_connections fails acquires with kUnavailable saying so, and the pool serves "
    "again once connections are freed",
    "[integration][overload]", DBPOOL_HARNESSES) {
  using H = TestType;
  using Sql = OverloadSql<H>;
  const DefaultScratchServers servers(H::kServerName);  // for H::Builder(), H::Admin
  {
    typename H::Admin admin;
    REQUIRE(admin.Execute(Sql::kLowerLimit).ok());
  }
  if (Sql::kLimitNeedsRestart) REQUIRE(H::RestartServer().ok());

  // Fill the server: another pool holds every connection it can get, until
  // the server refuses one.
  auto hog = H::Builder(UniqueTag("hog")).max_size(100).acquire_timeout(absl::Seconds(2)).build();
  REQUIRE(hog.ok());
  std::vector<typename H::PoolType::LeaseType> held;
  absl::Status refused;
  while (held.size() < 100) {
    auto lease = hog->acquire();
    if (!lease.ok()) {
      refused = lease.status();
      break;
    }
    held.push_back(*std::move(lease));
  }
  INFO("the server took " << held.size() << " connections, then: " << refused);
  REQUIRE(refused.code() == absl::StatusCode::kUnavailable);
  REQUIRE(held.size() >= 10);  // the limit is 20: the pool got them
  REQUIRE(held.size() < 100);

  auto pool = H::Builder(UniqueTag("full")).max_size(4).acquire_timeout(absl::Seconds(2)).build();
  REQUIRE(pool.ok());
  CheckAcquiresUnavailable(*pool, 2, Sql::kServerFull);  // the second while reconnects back off

  // Free the server's connections: the same pool serves, without a restart.
  held.clear();
  hog->close();
  AcquireOptions patient;  // past the reconnect backoff (at most 2.4 s)
  patient.timeout = absl::Seconds(20);
  auto lease = pool->acquire(patient);
  REQUIRE(lease.ok());
  CHECK(H::Query(lease->native(), "SELECT 6").value_or("") == "6");
  lease->release();
  for (int i = 0; i < 4; ++i) CHECK(QueryOnLease<H>(*pool, "SELECT 7").value_or("") == "7");
  CheckQuiet(pool->stats());
}

TEMPLATE_TEST_CASE("a host name that does not resolve gives kUnavailable naming the host",
                   "[integration][dns]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::BaseBuilder(UniqueTag("dns"))
                  .endpoint(kNoSuchHost, H::Port())
                  .acquire_timeout(absl::Seconds(1))
                  .build();
  REQUIRE(pool.ok());  // names are resolved when connecting, not at build()
  CheckAcquiresUnavailable(*pool, 3, kNoSuchHost);
  // Marked by the driver as an error that waiting cannot heal.
  CHECK(IsConfigurationError(pool->ping()));
}

TEMPLATE_TEST_CASE("an endpoint whose host name does not resolve is skipped for the next one",
                   "[integration][dns]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::BaseBuilder(UniqueTag("dns2"))
                  .endpoint(kNoSuchHost, H::Port())
                  .endpoint(H::Host(), H::Port())
                  .acquire_timeout(absl::Seconds(10))
                  .build();
  REQUIRE(pool.ok());
  for (int i = 0; i < 5; ++i) {
    auto lease = pool->acquire();
    INFO("acquire #" << i << ": " << lease.status());
    REQUIRE(lease.ok());
    CHECK(lease->endpoint().host == H::Host());
    CHECK(H::Query(lease->native(), "SELECT 8").value_or("") == "8");
  }
  const PoolStats s = pool->stats();
  CheckQuiet(s);
  REQUIRE(s.endpoints.size() == 2);
  CHECK(s.endpoints[0].total == 0);  // no pooled connection to the bad name
  CHECK(s.endpoints[1].role == "primary");
}

TEMPLATE_TEST_CASE(
    "connections reset mid-query fail with kUnavailable, and with_retry recovers once the network "
    "is back",
    "[integration][reset]", DBPOOL_HARNESSES) {
  using H = TestType;
  // The server's side of a reset query sleeps on: a server of its own.
  const DefaultScratchServers servers(H::kServerName);
  auto proxy = FaultProxy::Start(H::Host(), H::Port());
  REQUIRE(proxy.ok());
  auto pool = H::BaseBuilder(UniqueTag("reset"))
                  .endpoint("127.0.0.1", (*proxy)->port())
                  .max_size(4)
                  .acquire_timeout(absl::Seconds(2))
                  .build();
  REQUIRE(pool.ok());
  auto observer = H::Builder(UniqueTag("observer")).max_size(1).build();  // not through the proxy
  REQUIRE(observer.ok());

  // Three queries in flight, and one idle connection, when the proxy resets
  // every connection.
  constexpr int kInFlight = 3;
  std::vector<absl::Status> results(kInFlight);
  std::vector<absl::Duration> took(kInFlight);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInFlight; ++i) {
    threads.emplace_back([&, i] {
      auto lease = pool->acquire();
      if (!lease.ok()) {
        results[i] = lease.status();
        return;
      }
      const absl::Time start = absl::Now();
      results[i] = H::Query(lease->native(), OverloadSql<H>::kSleep).status();
      took[i] = absl::Now() - start;
    });  // the lease goes back here, its connection broken
  }
  REQUIRE(Await([&] {
    return QueryOnLease<H>(*observer, OverloadSql<H>::kCountSleeping).value_or("") ==
           absl::StrCat(kInFlight);
  }));
  REQUIRE(QueryOnLease<H>(*pool, "SELECT 1").ok());  // the fourth connection, now idle
  REQUIRE((*proxy)->set_mode(FaultProxy::Mode::kReset).ok());
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kInFlight; ++i) {
    INFO("query #" << i << ": " << results[i] << " after " << took[i]);
    CHECK(results[i].code() == absl::StatusCode::kUnavailable);
    CHECK(took[i] < absl::Seconds(20));  // ended by the reset, not by the 30 s sleep
  }
  CHECK(Await([&] { return pool->stats().in_use == 0; }));
  CHECK(pool->stats().closed_broken >= kInFlight);  // closed, never handed out again

  // While every connection is reset, acquires fail with kUnavailable. The
  // reads are idempotent: a query that met a reset connection runs again.
  RetryOptions read;
  read.idempotent = true;
  const absl::Time start = absl::Now();
  const absl::Status during = pool->with_retry(
      [](typename H::PoolType::LeaseType& lease) -> absl::Status {
        return H::Query(lease.native(), "SELECT 1").status();
      },
      read);
  INFO("with_retry during the resets: " << during << " after " << absl::Now() - start);
  CHECK(during.code() == absl::StatusCode::kUnavailable);

  // Once the proxy forwards again, with_retry gets through: past the idle
  // connection that was reset and the reconnect backoff.
  REQUIRE((*proxy)->set_mode(FaultProxy::Mode::kPass).ok());
  int calls = 0;
  const absl::Status after = pool->with_retry(
      [&](typename H::PoolType::LeaseType& lease) -> absl::Status {
        ++calls;
        absl::StatusOr<std::string> v = H::Query(lease.native(), "SELECT 9");
        if (!v.ok()) return v.status();
        return *v == "9" ? absl::OkStatus() : absl::InternalError("wrong answer " + *v);
      },
      read);
  INFO("with_retry after the resets: " << after << " in " << calls << " calls");
  CHECK(after.ok());
  CHECK(Await([&] { return pool->stats().in_use == 0; }));
  CheckQuiet(pool->stats());
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
