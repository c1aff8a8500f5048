// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A live failover: a pool over a primary and its streaming replica, 4 writer
// threads inserting through with_transaction(). After 2 s the primary is stopped
// and the replica promoted ($DBPOOL_TEST_SERVERS_CTL pg-stop, then
// pg-promote); the writers keep going. Prints the time from the fault to the
// first write on the new primary, the errors surfaced to the writers
// (expected: 0, apart from writes whose COMMIT was cut by the kill and could
// not be resolved on the asynchronous replica: outcome-unknown, counted
// apart) and stats().failovers. It changes the servers' topology: run
// it last. Exits non-zero on any error.
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "dbpool/postgres.h"

namespace {

constexpr int kWriters = 4;

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

absl::Status Exec(PGconn* conn, const std::string& sql) {
  PGresult* r = PQexec(conn, sql.c_str());
  absl::Status s = dbpool::PgStatus(r, conn);
  PQclear(r);
  return s;
}

// Runs "$DBPOOL_TEST_SERVERS_CTL <command> $DBPOOL_TEST_SERVERS_DIR".
bool ServersCtl(const std::string& ctl, const std::string& dir, const char* command) {
  std::string quoted = "'";
  for (char c : dir) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  const std::string cmd = absl::StrCat(ctl, " ", command, " ", quoted, " >/dev/null");
  return std::system(cmd.c_str()) == 0;
}

}  // namespace

int main() {
  const std::string host = EnvOr("DBPOOL_TEST_PG_HOST", "127.0.0.1");
  const int primary_port = std::atoi(EnvOr("DBPOOL_TEST_PG_PORT", "5432").c_str());
  const int replica_port = std::atoi(EnvOr("DBPOOL_TEST_PG_REPLICA_PORT", "0").c_str());
  const std::string ctl = EnvOr("DBPOOL_TEST_SERVERS_CTL", "");
  const std::string dir = EnvOr("DBPOOL_TEST_SERVERS_DIR", "");
  if (replica_port == 0 || ctl.empty() || dir.empty()) {
    std::fprintf(stderr,
                 "needs DBPOOL_TEST_PG_REPLICA_PORT, DBPOOL_TEST_SERVERS_CTL and "
                 "DBPOOL_TEST_SERVERS_DIR (scripts/demo.sh sets them)\n");
    return 1;
  }

  absl::StatusOr<dbpool::PgPool> pool =
      dbpool::PgPool::Builder()
          .name("failover_demo")
          .endpoint(host, primary_port)
          .endpoint(host, replica_port)
          .database(EnvOr("DBPOOL_TEST_PG_DB", "postgres"))
          .user(EnvOr("DBPOOL_TEST_PG_USER", "postgres"))
          .password(EnvOr("DBPOOL_TEST_PG_PASSWORD", ""))
          .max_size(kWriters)
          // Writers wait (when_no_primary kWait) while there is no primary:
          // the deadline must cover the stop and the promotion.
          .acquire_timeout(absl::Seconds(20))
          .failover(dbpool::FailoverPolicy()  // docs/failover.md, "Tuning"
                        .probe_interval(absl::Milliseconds(100))
                        .probe_timeout(absl::Milliseconds(150))
                        .failure_threshold(2)
                        .max_attempts(10))
          .build();
  if (!pool.ok()) {
    std::fprintf(stderr, "build: %s\n", pool.status().ToString().c_str());
    return 1;
  }

  const std::string table = absl::StrCat("dbpool_failover_demo_", getpid());
  absl::Status s = pool->with_retry([&](dbpool::PgLease& lease) {
    return Exec(lease.native(), "CREATE TABLE " + table + " (writer int, n int)");
  });
  if (!s.ok()) {
    std::fprintf(stderr, "create table: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("failover demo: %d writers on %s:%d, replica %s:%d\n", kWriters, host.c_str(),
              primary_port, host.c_str(), replica_port);

  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::atomic<int> errors{0};
  std::atomic<int> unknown{0};  // COMMITs cut by the fault that the new primary cannot resolve
  std::atomic<int> last_port{0};
  std::mutex mu;
  std::optional<absl::Time> fault;         // guarded by mu
  std::optional<absl::Time> first_on_new;  // guarded by mu
  const absl::Time start = absl::Now();

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int n = 0; !stop; ++n) {
        int port = 0;
        absl::Status st = pool->with_transaction([&](dbpool::PgLease& lease) {
          port = lease.endpoint().port;
          return Exec(lease.native(),
                      absl::StrCat("INSERT INTO ", table, " VALUES (", w, ", ", n, ")"));
        });
        if (!st.ok()) {
          std::atomic<int>& count = dbpool::IsOutcomeUnknown(st) ? unknown : errors;
          if (count++ < 5) std::fprintf(stderr, "writer %d: %s\n", w, st.ToString().c_str());
          continue;
        }
        ++writes;
        last_port = port;
        if (port == replica_port) {
          const absl::Time now = absl::Now();
          std::lock_guard<std::mutex> lock(mu);
          if (fault.has_value() && !first_on_new.has_value()) first_on_new = now;
        }
      }
    });
  }

  std::thread progress([&] {
    while (!stop) {
      absl::SleepFor(absl::Milliseconds(500));
      std::printf("  t=%4.1fs  writes=%6d  errors=%d  last write on port %d\n",
                  absl::ToDoubleSeconds(absl::Now() - start), writes.load(), errors.load(),
                  last_port.load());
      std::fflush(stdout);
    }
  });

  absl::SleepFor(absl::Seconds(2));
  {
    std::lock_guard<std::mutex> lock(mu);
    fault = absl::Now();
  }
  std::printf("  -- stopping the primary (pg-stop), then promoting the replica (pg-promote)\n");
  std::fflush(stdout);
  bool ctl_ok = ServersCtl(ctl, dir, "pg-stop");
  const absl::Time stopped = absl::Now();
  ctl_ok = ServersCtl(ctl, dir, "pg-promote") && ctl_ok;
  const absl::Time promoted = absl::Now();

  // Keep writing until 2 s after the first write on the new primary (at most 20 s).
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  for (;;) {
    std::optional<absl::Time> first;
    {
      std::lock_guard<std::mutex> lock(mu);
      first = first_on_new;
    }
    if ((first.has_value() && absl::Now() > *first + absl::Seconds(2)) || absl::Now() > give_up) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  stop = true;
  for (std::thread& t : writers) t.join();
  progress.join();

  const dbpool::PoolStats stats = pool->stats();
  std::printf("\n  pg-stop took %s, pg-promote %s\n",
              absl::FormatDuration(stopped - *fault).c_str(),
              absl::FormatDuration(promoted - stopped).c_str());
  bool ok = ctl_ok && errors == 0 && stats.failovers >= 1;
  if (first_on_new.has_value()) {
    std::printf("  fault to first write on the new primary: %s (%s after pg-promote started)\n",
                absl::FormatDuration(*first_on_new - *fault).c_str(),
                absl::FormatDuration(*first_on_new - stopped).c_str());
  } else {
    std::printf("  no write reached the new primary\n");
    ok = false;
  }
  std::printf(
      "  writes: %d, errors surfaced: %d, outcome unknown: %d, failovers: %llu, detection: %s\n",
      writes.load(), errors.load(), unknown.load(),
      static_cast<unsigned long long>(stats.failovers),
      absl::FormatDuration(stats.last_detection_time).c_str());
  std::printf("  lost COMMITs resolved: %llu committed, %llu rolled back, %llu unresolved\n",
              static_cast<unsigned long long>(stats.commits_resolved_committed),
              static_cast<unsigned long long>(stats.commits_resolved_aborted),
              static_cast<unsigned long long>(stats.commits_unresolved));
  std::printf("  pool stats: %s\n", dbpool::ToString(stats).c_str());
  if (!ctl_ok) std::fprintf(stderr, "error: %s pg-stop/pg-promote failed\n", ctl.c_str());
  return ok ? 0 : 1;
}
