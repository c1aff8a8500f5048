// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Built against an installed dbpool (find_package or pkg-config) and written
// only against the public API: 8 threads over 2 connections to the test
// server, each asking for its own number. Exits non-zero unless every answer
// was right and the pool's counts add up.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "dbpool/postgres.h"

int main() {
  const char* port = std::getenv("DBPOOL_TEST_PG_PORT");
  if (port == nullptr) return std::fprintf(stderr, "DBPOOL_TEST_PG_PORT is not set\n"), 2;
  absl::StatusOr<dbpool::PgPool> pool = dbpool::PgPool::Builder()
                                            .endpoint("127.0.0.1", std::atoi(port))
                                            .database(std::getenv("DBPOOL_TEST_PG_DB"))
                                            .user(std::getenv("DBPOOL_TEST_PG_USER"))
                                            .password(std::getenv("DBPOOL_TEST_PG_PASSWORD"))
                                            .max_size(2)
                                            .build();
  if (!pool.ok()) return std::fprintf(stderr, "%s\n", pool.status().ToString().c_str()), 1;

  constexpr int kThreads = 8;
  constexpr int kCycles = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCycles; ++i) {
        const std::string expect = std::to_string(t * 1000 + i);
        absl::Status st = pool->with_retry([&](dbpool::PgLease& lease) {
          PGresult* r = PQexec(lease.native(), ("SELECT " + expect).c_str());
          absl::Status s = dbpool::PgStatus(r, lease.native());
          if (s.ok() && PQgetvalue(r, 0, 0) != expect) s = absl::InternalError("wrong answer");
          PQclear(r);
          return s;
        });
        if (!st.ok()) {
          std::fprintf(stderr, "%s\n", st.ToString().c_str());
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const dbpool::PoolStats s = pool->stats();
  std::printf("pg_consumer: %d failures; %s\n", failures.load(), dbpool::ToString(s).c_str());
  const bool ok =
      failures == 0 && s.acquired == kThreads * kCycles && s.in_use == 0 && s.total <= 2;
  return ok ? 0 : 1;
}
