// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Failover against real PostgreSQL: a primary and its streaming replica of
// the test's own (ScratchServers), many writers through with_retry(), and
// the primary blackholed or killed while the replica is promoted.
#if DBPOOL_TEST_WITH_POSTGRES

#include <libpq-fe.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "await.h"
#include "failover_workload.h"
#include "fault_proxy.h"
#include "pg_harness.h"
#include "scratch_servers.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

constexpr int kWriters = 8;
constexpr int kMaxSize = 4;

// A plain libpq connection to one server of `s`.
std::unique_ptr<PGconn, void (*)(PGconn*)> ConnectTo(const ScratchServers& s, int port) {
  const std::string info =
      absl::StrCat("host=127.0.0.1 port=", port, " dbname=", s.Get("DBPOOL_TEST_PG_DB"),
                   " user=", s.Get("DBPOOL_TEST_PG_USER"),
                   " password=", s.Get("DBPOOL_TEST_PG_PASSWORD"), " connect_timeout=5");
  return {PQconnectdb(info.c_str()), PQfinish};
}

// Creates failover_writes on the primary and waits until the replica has it.
void CreateWritesTable(const ScratchServers& s) {
  auto primary = ConnectTo(s, s.Port("DBPOOL_TEST_PG_PORT"));
  REQUIRE(PgHarness::Query(primary.get(),
                           "CREATE TABLE failover_writes (writer int, seq int, "
                           "PRIMARY KEY (writer, seq))")
              .ok());
  auto replica = ConnectTo(s, s.Port("DBPOOL_TEST_PG_REPLICA_PORT"));
  REQUIRE(Await([&] {
    return PgHarness::Query(replica.get(), "SELECT to_regclass('failover_writes') IS NOT NULL")
               .value_or("") == "t";
  }));
}

// Every write in `writes` is on the server at `port`.
void CheckWritesLanded(const ScratchServers& s, int port,
                       const std::vector<FailoverWorkload<PgHarness>::Write>& writes) {
  auto conn = ConnectTo(s, port);
  PGresult* r = PQexec(conn.get(), "SELECT writer, seq FROM failover_writes");
  REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
  std::set<std::pair<int, int>> stored;
  for (int i = 0; i < PQntuples(r); ++i) {
    int w = 0, q = 0;
    REQUIRE(absl::SimpleAtoi(PQgetvalue(r, i, 0), &w));
    REQUIRE(absl::SimpleAtoi(PQgetvalue(r, i, 1), &q));
    stored.emplace(w, q);
  }
  PQclear(r);
  int missing = 0;
  for (const auto& w : writes) missing += stored.count({w.writer, w.seq}) == 0 ? 1 : 0;
  CHECK(missing == 0);
}

void ReportErrors(const std::vector<absl::Status>& errors) {
  for (size_t i = 0; i < errors.size() && i < 5; ++i) UNSCOPED_INFO(errors[i].ToString());
}

absl::Duration FirstWriteAfter(const std::vector<FailoverWorkload<PgHarness>::Write>& writes,
                               absl::Time fault) {
  absl::Time first = absl::InfiniteFuture();
  for (const auto& w : writes) first = std::min(first, w.done);
  return first - fault;
}

TEST_CASE("a blackholed primary fails over to the promoted replica with no error surfaced",
          "[integration][failover][postgres]") {
  ScratchServers servers("pg replica");
  CreateWritesTable(servers);
  const int primary_port = servers.Port("DBPOOL_TEST_PG_PORT");
  const int replica_port = servers.Port("DBPOOL_TEST_PG_REPLICA_PORT");
  auto proxy = FaultProxy::Start("127.0.0.1", primary_port);
  REQUIRE(proxy.ok());

  struct FailoverRecorder : PoolListener {
    absl::Mutex mu;
    std::vector<FailoverEvent> events ABSL_GUARDED_BY(mu);
    void on_failover(const FailoverEvent& e) override {
      absl::MutexLock lock(&mu);
      events.push_back(e);
    }
  };
  auto recorder = std::make_shared<FailoverRecorder>();
  auto pool = PgHarness::BaseBuilder(UniqueTag("stall"))
                  .endpoint("127.0.0.1", (*proxy)->port())
                  .endpoint("127.0.0.1", replica_port)
                  .max_size(kMaxSize)
                  .listener(recorder)
                  .build();
  REQUIRE(pool.ok());
  FailoverWorkload<PgHarness> load(*pool, kWriters, /*readers=*/0);
  load.Start();
  REQUIRE(load.AwaitWritesAfter(absl::InfinitePast(), 50));

  REQUIRE((*proxy)->set_mode(FaultProxy::Mode::kStall).ok());
  const absl::Time fault = absl::Now();
  REQUIRE(servers.Ctl("pg-promote").ok());
  REQUIRE(load.AwaitWritesAfter(fault, 100));
  REQUIRE(load.Stop());  // no writer left blocked on the stalled socket

  const auto after = load.WritesAfter(fault);
  WARN("blackholed primary: first write " << absl::FormatDuration(FirstWriteAfter(after, fault))
                                          << " after the fault");
  ReportErrors(load.errors());
  CHECK(load.errors().empty());
  ReportErrors(load.outcome_unknown());
  CHECK(load.outcome_unknown().size() <= static_cast<size_t>(load.writers()));
  for (const auto& w : after) CHECK(w.port == replica_port);
  CheckWritesLanded(servers, replica_port, after);
  CHECK(load.max_total() <= 2 * kMaxSize);
  const PoolStats s = pool->stats();
  CHECK(s.failovers >= 1);
  REQUIRE(s.endpoints.size() == 2);
  CHECK_FALSE(s.endpoints[0].up);
  CHECK(s.endpoints[1].role == "primary");
  // The listener heard of it: from the blackholed endpoint to the replica.
  absl::MutexLock lock(&recorder->mu);
  bool seen = false;
  for (const FailoverEvent& e : recorder->events) {
    seen = seen || (e.from == absl::StrCat("127.0.0.1:", (*proxy)->port()) &&
                    e.to == absl::StrCat("127.0.0.1:", replica_port));
  }
  CHECK(seen);
}

TEST_CASE(
    "writers through with_transaction ride out a blackholed primary: no write doubled, no "
    "error but outcome-unknown",
    "[integration][failover][postgres]") {
  ScratchServers servers("pg replica");
  CreateWritesTable(servers);  // (writer, seq) is its primary key: a replay would be refused
  const int primary_port = servers.Port("DBPOOL_TEST_PG_PORT");
  const int replica_port = servers.Port("DBPOOL_TEST_PG_REPLICA_PORT");
  auto proxy = FaultProxy::Start("127.0.0.1", primary_port);
  REQUIRE(proxy.ok());
  auto pool = PgHarness::BaseBuilder(UniqueTag("stalltxn"))
                  .endpoint("127.0.0.1", (*proxy)->port())
                  .endpoint("127.0.0.1", replica_port)
                  .max_size(kMaxSize)
                  .build();
  REQUIRE(pool.ok());
  FailoverWorkload<PgHarness> load(*pool, kWriters, /*readers=*/0, /*transactions=*/true);
  load.Start();
  REQUIRE(load.AwaitWritesAfter(absl::InfinitePast(), 50));

  REQUIRE((*proxy)->set_mode(FaultProxy::Mode::kStall).ok());
  const absl::Time fault = absl::Now();
  REQUIRE(servers.Ctl("pg-promote").ok());
  REQUIRE(load.AwaitWritesAfter(fault, 100));
  REQUIRE(load.Stop());

  const auto after = load.WritesAfter(fault);
  const PoolStats s = pool->stats();
  WARN("blackholed primary, with_transaction: first write "
       << absl::FormatDuration(FirstWriteAfter(after, fault)) << " after the fault; lost COMMITs "
       << s.commits_resolved_committed << " committed, " << s.commits_resolved_aborted
       << " rolled back, " << s.commits_unresolved << " unresolved; "
       << load.outcome_unknown().size() << " outcome-unknown");
  ReportErrors(load.errors());
  CHECK(load.errors().empty());  // no kAlreadyExists: nothing committed was run again
  ReportErrors(load.outcome_unknown());
  CHECK(load.outcome_unknown().size() <= static_cast<size_t>(load.writers()));
  CHECK(s.commits_unresolved == load.outcome_unknown().size());
  for (const auto& w : after) CHECK(w.port == replica_port);
  CheckWritesLanded(servers, replica_port, after);
  CHECK(s.failovers >= 1);
}

TEST_CASE("a killed primary fails over to the promoted replica while replica reads go on",
          "[integration][failover][postgres]") {
  ScratchServers servers("pg replica");
  CreateWritesTable(servers);
  const int primary_port = servers.Port("DBPOOL_TEST_PG_PORT");
  const int replica_port = servers.Port("DBPOOL_TEST_PG_REPLICA_PORT");

  auto pool = PgHarness::BaseBuilder(UniqueTag("kill"))
                  .endpoint("127.0.0.1", primary_port)
                  .endpoint("127.0.0.1", replica_port)
                  .max_size(kMaxSize)
                  .build();
  REQUIRE(pool.ok());
  FailoverWorkload<PgHarness> load(*pool, kWriters, /*readers=*/2);
  load.Start();
  REQUIRE(load.AwaitWritesAfter(absl::InfinitePast(), 50));

  REQUIRE(servers.Ctl("pg-stop").ok());
  const absl::Time fault = absl::Now();
  // With no primary at all, reads on the replica keep working.
  const int reads_at_fault = load.reads();
  REQUIRE(Await([&] { return load.reads() >= reads_at_fault + 50; }));
  CHECK(load.WritesAfter(fault).empty());  // no writable endpoint yet

  const absl::Time promote = absl::Now();
  REQUIRE(servers.Ctl("pg-promote").ok());
  REQUIRE(load.AwaitWritesAfter(fault, 100));
  REQUIRE(load.Stop());

  const auto after = load.WritesAfter(fault);
  WARN("killed primary: first write " << absl::FormatDuration(FirstWriteAfter(after, promote))
                                      << " after the promotion started");
  ReportErrors(load.errors());
  CHECK(load.errors().empty());
  ReportErrors(load.outcome_unknown());
  CHECK(load.outcome_unknown().size() <= static_cast<size_t>(load.writers()));
  ReportErrors(load.read_errors());
  CHECK(load.read_errors().empty());
  for (const auto& w : after) CHECK(w.port == replica_port);
  CheckWritesLanded(servers, replica_port, after);
  CHECK(load.max_total() <= 2 * kMaxSize);
  const PoolStats s = pool->stats();
  CHECK(s.failovers >= 1);
  CHECK(s.time_without_primary > absl::ZeroDuration());
}

TEST_CASE("acquire(kReplica) reads from the replica and kPrimary writes to the primary",
          "[integration][failover][postgres]") {
  ScratchServers servers("pg replica");
  const int primary_port = servers.Port("DBPOOL_TEST_PG_PORT");
  const int replica_port = servers.Port("DBPOOL_TEST_PG_REPLICA_PORT");
  // Replica listed first: routing follows roles, not list order.
  auto pool = PgHarness::BaseBuilder(UniqueTag("split"))
                  .endpoint("127.0.0.1", replica_port)
                  .endpoint("127.0.0.1", primary_port)
                  .build();
  REQUIRE(pool.ok());
  auto writer = pool->acquire(Role::kPrimary);
  REQUIRE(writer.ok());
  CHECK(writer->endpoint().port == primary_port);
  CHECK(PgHarness::Query(writer->native(), "SELECT pg_is_in_recovery()").value_or("") == "f");
  auto reader = pool->acquire(Role::kReplica);
  REQUIRE(reader.ok());
  CHECK(reader->endpoint().port == replica_port);
  CHECK(PgHarness::Query(reader->native(), "SELECT pg_is_in_recovery()").value_or("") == "t");
  auto any = pool->acquire(Role::kAny);
  CHECK(any.ok());
}

TEST_CASE(
    "a replica further behind than max_replica_lag serves no replica reads until it catches up",
    "[integration][failover][postgres]") {
  ScratchServers servers("pg replica");
  const int primary_port = servers.Port("DBPOOL_TEST_PG_PORT");
  const int replica_port = servers.Port("DBPOOL_TEST_PG_REPLICA_PORT");
  CreateWritesTable(servers);
  auto pool = PgHarness::BaseBuilder(UniqueTag("lag"))
                  .endpoint("127.0.0.1", replica_port)
                  .endpoint("127.0.0.1", primary_port)
                  .failover(FailoverPolicy()
                                .probe_interval(absl::Milliseconds(50))
                                .max_replica_lag(absl::Milliseconds(500)))
                  .build();
  REQUIRE(pool.ok());
  auto reads_from = [&](int port) {
    auto reader = pool->acquire(Role::kReplica);
    return reader.ok() && reader->endpoint().port == port;
  };
  REQUIRE(Await([&] { return reads_from(replica_port); }));  // caught up
  CHECK(pool->stats().replica_fallbacks == 0);

  // Replay paused while the primary writes: the replica falls behind.
  auto replica = ConnectTo(servers, replica_port);
  auto primary = ConnectTo(servers, primary_port);
  REQUIRE(PgHarness::Query(replica.get(), "SELECT pg_wal_replay_pause()").ok());
  REQUIRE(PgHarness::Query(primary.get(), "INSERT INTO failover_writes VALUES (1, 1)").ok());
  REQUIRE(Await([&] { return reads_from(primary_port); }));
  PoolStats s = pool->stats();
  CHECK(s.replica_fallbacks == 1);
  REQUIRE(s.endpoints.size() == 2);
  CHECK(s.endpoints[0].lagging);
  REQUIRE(s.endpoints[0].replica_lag.has_value());
  CHECK(*s.endpoints[0].replica_lag > absl::Milliseconds(500));
  CHECK_FALSE(s.endpoints[1].replica_lag.has_value());  // the primary

  // Replay resumed: it catches up and serves the reads again.
  REQUIRE(PgHarness::Query(replica.get(), "SELECT pg_wal_replay_resume()").ok());
  REQUIRE(Await([&] { return reads_from(replica_port); }));
  s = pool->stats();
  CHECK_FALSE(s.endpoints[0].lagging);
  CHECK(s.endpoints[0].replica_lag == absl::ZeroDuration());
}

TEST_CASE(
    "a primary fenced with default_transaction_read_only loses writes to the promoted replica",
    "[integration][failover][postgres]") {
  // The fence a cluster manager may apply without a restart: the old
  // primary stays up, not in recovery, but its sessions become read-only.
  ScratchServers servers("pg replica");
  CreateWritesTable(servers);
  const int primary_port = servers.Port("DBPOOL_TEST_PG_PORT");
  const int replica_port = servers.Port("DBPOOL_TEST_PG_REPLICA_PORT");
  auto pool = PgHarness::BaseBuilder(UniqueTag("fence"))
                  .endpoint("127.0.0.1", primary_port)
                  .endpoint("127.0.0.1", replica_port)
                  .max_size(kMaxSize)
                  .build();
  REQUIRE(pool.ok());
  FailoverWorkload<PgHarness> load(*pool, kWriters, /*readers=*/0);
  load.Start();
  REQUIRE(load.AwaitWritesAfter(absl::InfinitePast(), 50));

  auto admin = ConnectTo(servers, primary_port);
  REQUIRE(
      PgHarness::Query(admin.get(), "ALTER SYSTEM SET default_transaction_read_only = on").ok());
  REQUIRE(PgHarness::Query(admin.get(), "SELECT pg_reload_conf()").ok());
  // Sessions apply the reload at their next command: writes until then
  // still land on the old primary. By the time the promotion returns, the
  // fence holds everywhere.
  REQUIRE(servers.Ctl("pg-promote").ok());
  const absl::Time promoted = absl::Now();
  REQUIRE(load.AwaitWritesAfter(promoted, 100));
  REQUIRE(load.Stop());

  const auto after = load.WritesAfter(promoted);
  WARN("fenced primary: first write " << absl::FormatDuration(FirstWriteAfter(after, promoted))
                                      << " after the promotion returned");
  ReportErrors(load.errors());
  CHECK(load.errors().empty());
  for (const auto& w : after) CHECK(w.port == replica_port);
  CheckWritesLanded(servers, replica_port, after);
}

TEST_CASE("an old primary that comes back writable after a failover does not take writes back",
          "[integration][failover][postgres]") {
  // Stop the primary, promote the replica, then start the old primary as a
  // standby of nothing: PostgreSQL brings it back writable (split brain), so
  // dbpool must keep routing writes to the promoted one (its timeline is higher).
  ScratchServers servers("pg replica");
  const int primary_port = servers.Port("DBPOOL_TEST_PG_PORT");
  const int replica_port = servers.Port("DBPOOL_TEST_PG_REPLICA_PORT");
  auto pool = PgHarness::BaseBuilder(UniqueTag("sticky"))
                  .endpoint("127.0.0.1", primary_port)
                  .endpoint("127.0.0.1", replica_port)
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(pool->acquire(Role::kPrimary).ok());
  REQUIRE(servers.Ctl("pg-stop").ok());
  REQUIRE(servers.Ctl("pg-promote").ok());
  REQUIRE(Await([&] {
    auto l = pool->acquire(Role::kPrimary);
    return l.ok() && l->endpoint().port == replica_port;
  }));
  REQUIRE(servers.Ctl("pg-start").ok());
  REQUIRE(Await([&] {
    const PoolStats s = pool->stats();
    return s.endpoints.size() == 2 && s.endpoints[0].up;
  }));
  for (int i = 0; i < 10; ++i) {
    auto l = pool->acquire(Role::kPrimary);
    REQUIRE(l.ok());
    CHECK(l->endpoint().port == replica_port);
  }
}

}  // namespace
}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TEST_WITH_POSTGRES
