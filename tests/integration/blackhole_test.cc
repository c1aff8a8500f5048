// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A statement in flight on a server that goes silent (no packets back, no
// reset: a crashed host, a cut link) with one endpoint, where no prober
// interrupts it: TCP keepalives and tcp_user_timeout, on by default, end it.
// The test takes loopback down inside a network namespace of its own
// (unshare(CLONE_NEWNET), as root), with a server started inside it, so
// that packets are dropped rather than refused; a proxy cannot show this,
// as its kernel still acknowledges. Hidden from the discovered test cases
// (running it in a shared process would move that process's network): each
// driver's case is a ctest entry of its own, run by name.
#include <sched.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "harnesses.h"
#include "scratch_servers.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

// Sending a statement without waiting, then waiting for its answer, with
// each client library.
template <typename H>
struct InFlight;
#if DBPOOL_TEST_WITH_POSTGRES
template <>
struct InFlight<PgHarness> {
  static constexpr const char* kSleep = "SELECT pg_catalog.pg_sleep(600)";
  static bool Send(PGconn* conn, const char* sql) {
    return PQsendQuery(conn, sql) == 1 && PQflush(conn) == 0;
  }
  // The error that ended the wait, or "" if the statement succeeded.
  static std::string Wait(PGconn* conn) {
    PGresult* result = PQgetResult(conn);
    const bool failed = PQresultStatus(result) != PGRES_TUPLES_OK;
    PQclear(result);
    return failed ? PQerrorMessage(conn) : "";
  }
};
#endif
#if DBPOOL_TEST_WITH_MYSQL
template <>
struct InFlight<MyHarness> {
  static constexpr const char* kSleep = "SELECT SLEEP(600)";
  static bool Send(MYSQL* conn, const char* sql) {
    return mysql_send_query(conn, sql, std::strlen(sql)) == 0;
  }
  static std::string Wait(MYSQL* conn) {
    if (mysql_read_query_result(conn) == 0) return "";
    return absl::StrCat(mysql_error(conn), " (", mysql_errno(conn), ")");
  }
};
#endif

TEMPLATE_TEST_CASE(
    "a statement in flight on a blackholed server fails within the TCP keepalive "
    "bound",
    "[.blackhole][integration]", DBPOOL_HARNESSES) {
  using H = TestType;
  REQUIRE(::unshare(CLONE_NEWNET) == 0);  // needs root (CAP_SYS_ADMIN), as the servers do
  REQUIRE(std::system("ip link set lo up") == 0);
  const DefaultScratchServers servers(H::kServerName);  // inside this namespace
  // The defaults (keepalives after 30 s of silence, tcp_user_timeout 30 s)
  // give up after about a minute; the same settings, shortened, bound this
  // test at a few seconds. Both drivers take libpq's names.
  auto pool = H::Builder(UniqueTag("blackhole"))
                  .max_size(1)
                  .option("keepalives_idle", "1")
                  .option("keepalives_interval", "1")
                  .option("keepalives_count", "2")
                  .option("tcp_user_timeout", "3000")
                  .build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  // On loopback the statement is in the server's socket once it is sent:
  // from here on only an answer, or TCP giving up, ends the wait.
  REQUIRE(InFlight<H>::Send(lease->native(), InFlight<H>::kSleep));

  REQUIRE(std::system("ip link set lo down") == 0);  // from now on every packet is dropped
  const absl::Time start = absl::Now();
  const std::string error = InFlight<H>::Wait(lease->native());
  const absl::Duration waited = absl::Now() - start;
  INFO("waited " << waited << ": " << error);
  CHECK_FALSE(error.empty());
  CHECK(lease->broken());
  CHECK(waited < absl::Seconds(30));  // about 3 s; without keepalives it would never end
  REQUIRE(std::system("ip link set lo up") == 0);

  // The lease returns a broken connection, which the pool closes; the next
  // acquire connects anew and is served.
  lease->release();
  auto fresh = pool->acquire();
  REQUIRE(fresh.ok());
  CHECK(H::Query(fresh->native(), "SELECT 1").value_or("") == "1");
  CHECK(pool->stats().closed_broken == 1);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
