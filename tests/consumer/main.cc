// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Written only against the public API: 16 threads over 4 connections, each
// query through with_retry. Exits non-zero unless every query succeeded and
// the pool's counts add up.
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
                                            .max_size(4)
                                            .failover(dbpool::FailoverPolicy().max_attempts(2))
                                            .build();
  if (!pool.ok()) return std::fprintf(stderr, "%s\n", pool.status().ToString().c_str()), 1;

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        absl::Status st = pool->with_retry([&](dbpool::PgLease& lease) {
          PGresult* r = PQexec(lease.native(), "SELECT 40 + 2");
          absl::Status s = dbpool::PgStatus(r, lease.native());
          if (s.ok() && std::string(PQgetvalue(r, 0, 0)) != "42") s = absl::InternalError("wrong");
          PQclear(r);
          return s;
        });
        if (!st.ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const dbpool::PoolStats s = pool->stats();
  std::printf("consumer: %d failures; %s\n", failures.load(), dbpool::ToString(s).c_str());
  const bool ok = failures == 0 && s.acquired == 16 * 50 && s.in_use == 0 && s.total <= 4;
  return ok ? 0 : 1;
}
