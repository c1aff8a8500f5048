// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Read/write splitting over a primary and a streaming replica: writes go
// through with_transaction() to the primary, reads through
// acquire(dbpool::Role::kReplica) to the replica. Each side reports
// pg_is_in_recovery(): f for the writes, t for the reads. Reads the servers
// from DBPOOL_TEST_PG_* (PORT: primary, REPLICA_PORT: replica) and exits
// non-zero on any error.
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "dbpool/postgres.h"

namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

// Runs `sql` and stores the first column of its first row (if any) in *value.
absl::Status Query(PGconn* conn, const std::string& sql, std::string* value = nullptr) {
  PGresult* r = PQexec(conn, sql.c_str());
  absl::Status s = dbpool::PgStatus(r, conn);
  if (s.ok() && value != nullptr) *value = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  return s;
}

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  const std::string host = EnvOr("DBPOOL_TEST_PG_HOST", "127.0.0.1");
  const char* replica_port = std::getenv("DBPOOL_TEST_PG_REPLICA_PORT");
  if (replica_port == nullptr) {
    std::fprintf(stderr, "DBPOOL_TEST_PG_REPLICA_PORT is not set (start the replica)\n");
    return 1;
  }
  absl::StatusOr<dbpool::PgPool> pool =
      dbpool::PgPool::Builder()
          .name("read_write_split")
          .endpoint(host, std::atoi(EnvOr("DBPOOL_TEST_PG_PORT", "5432").c_str()))
          .endpoint(host, std::atoi(replica_port))
          .database(EnvOr("DBPOOL_TEST_PG_DB", "postgres"))
          .user(EnvOr("DBPOOL_TEST_PG_USER", "postgres"))
          .password(EnvOr("DBPOOL_TEST_PG_PASSWORD", ""))
          .max_size(4)  // per endpoint
          .acquire_timeout(absl::Seconds(10))
          .build();
  if (!pool.ok()) return Fail("build", pool.status());

  // acquire(kReplica) falls back to the primary while no replica is known,
  // so wait until the health monitor has probed the replica.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (;;) {
    bool replica_up = false;
    for (const dbpool::EndpointStats& e : pool->stats().endpoints) {
      replica_up = replica_up || (e.role == "replica" && e.up);
    }
    if (replica_up) break;
    if (absl::Now() > deadline) {
      return Fail("waiting for the replica", absl::DeadlineExceededError("no replica probed"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }

  const std::string table = absl::StrCat("dbpool_example_rw_", getpid());
  std::printf("read/write split over %s (primary) and %s:%s (replica)\n",
              pool->stats().endpoints[0].endpoint.c_str(), host.c_str(), replica_port);

  // Writes: with_transaction() runs the function in a transaction on the
  // primary, again on a fresh connection if the connection is lost before
  // COMMIT; a COMMIT whose reply is lost is looked up, not replayed.
  constexpr int kRows = 5;
  for (int i = 1; i <= kRows; ++i) {
    std::string in_recovery;
    std::string endpoint;
    absl::Status s = pool->with_transaction([&](dbpool::PgLease& lease) -> absl::Status {
      endpoint = lease.endpoint().host + ":" + std::to_string(lease.endpoint().port);
      if (i == 1) {
        absl::Status c = Query(lease.native(), "CREATE TABLE " + table + " (n int)");
        if (!c.ok()) return c;
      }
      absl::Status w =
          Query(lease.native(), absl::StrCat("INSERT INTO ", table, " VALUES (", i, ")"));
      if (!w.ok()) return w;
      return Query(lease.native(), "SELECT pg_is_in_recovery()", &in_recovery);
    });
    if (!s.ok()) return Fail("write", s);
    std::printf("  write %d on %s: pg_is_in_recovery() = %s\n", i, endpoint.c_str(),
                in_recovery.c_str());
    if (in_recovery != "f") return Fail("write", absl::InternalError("a write went to a replica"));
  }

  // Reads: acquire(kReplica) leases a replica connection. Replication is
  // asynchronous, so poll until the rows written above have arrived.
  for (int i = 1; i <= 3; ++i) {
    absl::StatusOr<dbpool::PgLease> lease = pool->acquire(dbpool::Role::kReplica);
    if (!lease.ok()) return Fail("read", lease.status());
    std::string in_recovery;
    std::string rows;
    absl::Status s = Query(lease->native(), "SELECT pg_is_in_recovery()", &in_recovery);
    const absl::Time until = absl::Now() + absl::Seconds(10);
    std::string exists;
    while (s.ok()) {  // the table first: a query naming a missing table fails
      s = Query(lease->native(), "SELECT to_regclass('" + table + "') IS NOT NULL", &exists);
      if (!s.ok() || exists == "t" || absl::Now() > until) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    while (s.ok() && exists == "t") {
      s = Query(lease->native(), "SELECT count(*) FROM " + table, &rows);
      if (!s.ok() || rows == std::to_string(kRows) || absl::Now() > until) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (!s.ok()) return Fail("read", s);
    std::printf("  read %d on %s:%d: pg_is_in_recovery() = %s, rows replicated = %s\n", i,
                lease->endpoint().host.c_str(), lease->endpoint().port, in_recovery.c_str(),
                rows.c_str());
    if (in_recovery != "t") return Fail("read", absl::InternalError("a read went to the primary"));
    if (rows != std::to_string(kRows)) {
      return Fail("read", absl::DeadlineExceededError("rows did not replicate within 10s"));
    }
  }

  absl::Status s = pool->with_retry(
      [&](dbpool::PgLease& lease) { return Query(lease.native(), "DROP TABLE " + table); });
  if (!s.ok()) return Fail("drop", s);
  std::printf("  pool stats: %s\n", dbpool::ToString(pool->stats()).c_str());
  return 0;
}
