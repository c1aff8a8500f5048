// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What a pool buys: many threads multiplexed onto few server connections,
// and the cost of a query through the pool against opening a connection per
// request. Reads the server from DBPOOL_TEST_PG_* (scripts/demo.sh sets them)
// or from a DSN given as the first argument.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "dbpool/postgres.h"

namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

std::string DsnFromEnv() {
  return absl::StrCat("postgresql://", EnvOr("DBPOOL_TEST_PG_USER", "postgres"), "@",
                      EnvOr("DBPOOL_TEST_PG_HOST", "127.0.0.1"), ":",
                      EnvOr("DBPOOL_TEST_PG_PORT", "5432"), "/",
                      EnvOr("DBPOOL_TEST_PG_DB", "postgres"), "?application_name=dbpool_demo");
}

// A plain libpq connection: the DSN, with the password and application_name
// given on the side (expand_dbname lets libpq parse the DSN itself).
PGconn* Connect(const std::string& dsn, const std::string& password, const char* app) {
  const char* keys[] = {"dbname", "application_name", password.empty() ? nullptr : "password",
                        nullptr};
  const char* values[] = {dsn.c_str(), app, password.c_str(), nullptr};
  return PQconnectdbParams(keys, values, /*expand_dbname=*/1);
}

bool SelectOne(PGconn* conn) {
  PGresult* r = PQexec(conn, "SELECT 1");
  const bool ok = dbpool::PgStatus(r, conn).ok();
  PQclear(r);
  return ok;
}

int ServerConnections(PGconn* admin) {
  PGresult* r = PQexec(admin,
                       "SELECT count(*) FROM pg_stat_activity "
                       "WHERE application_name = 'dbpool_demo'");
  const int n = PQresultStatus(r) == PGRES_TUPLES_OK ? std::atoi(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dsn = argc > 1 ? argv[1] : DsnFromEnv();
  const std::string password = EnvOr("DBPOOL_TEST_PG_PASSWORD", "");
  constexpr int kThreads = 64;
  constexpr int kConnections = 8;
  constexpr int kQueriesPerThread = 100;

  dbpool::PgPool::Builder builder;
  builder.dsn(dsn).max_size(kConnections).acquire_timeout(absl::Seconds(30));
  if (!password.empty()) builder.password(password);
  absl::StatusOr<dbpool::PgPool> pool = builder.build();
  if (!pool.ok()) {
    std::fprintf(stderr, "build: %s\n", pool.status().ToString().c_str());
    return 1;
  }

  // 1. Many threads, few connections.
  std::printf("dbpool demo: %d threads x %d queries over a pool of max_size %d\n", kThreads,
              kQueriesPerThread, kConnections);
  std::atomic<int> errors{0};
  std::atomic<bool> done{false};
  std::atomic<int> server_max{0};
  PGconn* admin = Connect(dsn, password, "dbpool_demo_admin");
  std::thread monitor([&] {
    while (!done) {
      server_max = std::max(server_max.load(), ServerConnections(admin));
      absl::SleepFor(absl::Milliseconds(2));  // sampling period of a progress display
    }
  });
  absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kQueriesPerThread; ++i) {
        absl::StatusOr<dbpool::PgLease> lease = pool->acquire();
        if (!lease.ok() || !SelectOne(lease->native())) ++errors;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const absl::Duration pooled_all = absl::Now() - start;
  done = true;
  monitor.join();
  PQfinish(admin);
  const dbpool::PoolStats s = pool->stats();
  std::printf("  %d queries in %s, %d errors\n", kThreads * kQueriesPerThread,
              absl::FormatDuration(pooled_all).c_str(), errors.load());
  std::printf("  server connections seen at most: %d (pool opened %llu in total)\n",
              server_max.load(), static_cast<unsigned long long>(s.created));

  // 2. Pooled vs connect-per-request, one thread.
  constexpr int kSerial = 300;
  start = absl::Now();
  for (int i = 0; i < kSerial; ++i) {
    absl::StatusOr<dbpool::PgLease> lease = pool->acquire();
    if (!lease.ok() || !SelectOne(lease->native())) ++errors;
  }
  const absl::Duration pooled = (absl::Now() - start) / kSerial;
  start = absl::Now();
  for (int i = 0; i < kSerial; ++i) {
    PGconn* c = Connect(dsn, password, "dbpool_demo_direct");
    if (PQstatus(c) != CONNECTION_OK || !SelectOne(c)) ++errors;
    PQfinish(c);
  }
  const absl::Duration per_request = (absl::Now() - start) / kSerial;
  std::printf("\nSELECT 1, one thread, %d requests each:\n", kSerial);
  std::printf("  through the pool:       %10s per request\n", absl::FormatDuration(pooled).c_str());
  std::printf("  connect per request:    %10s per request\n",
              absl::FormatDuration(per_request).c_str());
  std::printf("  the pool is %.1fx faster\n", absl::FDivDuration(per_request, pooled));
  std::printf("\npool stats: %s\n", dbpool::ToString(pool->stats()).c_str());
  return errors == 0 ? 0 : 1;
}
