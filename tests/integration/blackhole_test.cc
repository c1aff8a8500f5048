// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A statement in flight on a server that goes silent (no packets back, no
// reset: a crashed host, a cut link) with one endpoint, where no prober
// interrupts it: TCP keepalives and tcp_user_timeout, on by default, end it.
// The test takes loopback down inside a network namespace of its own
// (unshare(CLONE_NEWNET), as root), with a server started inside it, so
// that packets are dropped rather than refused; a proxy cannot show this,
// as its kernel still acknowledges. Hidden from the discovered test cases
// (running it in a shared process would move that process's network): the
// ctest entry runs it by tag, in a process of its own.
#include <libpq-fe.h>
#include <sched.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "pg_harness.h"
#include "scratch_servers.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

// Takes this process into a network namespace of its own with loopback up.
void EnterOwnNetwork() {
  REQUIRE(::unshare(CLONE_NEWNET) == 0);  // needs root (CAP_SYS_ADMIN), as the servers do
  REQUIRE(std::system("ip link set lo up") == 0);
}

TEST_CASE("a statement in flight on a blackholed server fails within the TCP keepalive bound",
          "[.blackhole][integration]") {
  EnterOwnNetwork();
  const DefaultScratchServers servers("pg");
  // The defaults (keepalives after 30 s of silence, tcp_user_timeout 30 s)
  // give up after about a minute; the same settings, shortened, bound this
  // test at a few seconds.
  const std::string tag = UniqueTag("blackhole");
  auto pool = PgHarness::Builder(tag)
                  .max_size(1)
                  .option("keepalives_idle", "1")
                  .option("keepalives_interval", "1")
                  .option("keepalives_count", "2")
                  .option("tcp_user_timeout", "3000")
                  .build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  PGconn* conn = lease->native();
  REQUIRE(PQsendQuery(conn, "SELECT pg_catalog.pg_sleep(600)") == 1);
  REQUIRE(PQflush(conn) == 0);
  // On loopback the query is in the server's socket once PQsendQuery()
  // returns: from here on only an answer, or TCP giving up, ends the wait.
  REQUIRE(std::system("ip link set lo down") == 0);  // from now on every packet is dropped
  const absl::Time start = absl::Now();
  PGresult* result = PQgetResult(conn);  // blocks until the server answers or TCP gives up
  const absl::Duration waited = absl::Now() - start;
  INFO("waited " << waited << ": " << PQerrorMessage(conn));
  CHECK(PQresultStatus(result) == PGRES_FATAL_ERROR);
  PQclear(result);
  CHECK(PQstatus(conn) == CONNECTION_BAD);
  CHECK(absl::StrContains(PQerrorMessage(conn), "timed out"));
  CHECK(waited < absl::Seconds(30));  // about 3 s; without keepalives it would never end
  REQUIRE(std::system("ip link set lo up") == 0);

  // The lease returns a broken connection, which the pool closes; the next
  // acquire connects anew and is served.
  lease->release();
  auto fresh = pool->acquire();
  REQUIRE(fresh.ok());
  CHECK(PgHarness::Query(fresh->native(), "SELECT 1").value_or("") == "1");
  CHECK(pool->stats().closed_broken == 1);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
