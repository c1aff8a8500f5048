// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Compiled with nothing but `pkg-config --cflags --libs dbpool-postgres`
// against an installed dbpool, including only the umbrella header (which
// brings PgPool): acquires a connection by hand, runs one query, releases.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dbpool/dbpool.h"

int main() {
  const char* port = std::getenv("DBPOOL_TEST_PG_PORT");
  if (port == nullptr) return std::fprintf(stderr, "DBPOOL_TEST_PG_PORT is not set\n"), 2;
  absl::StatusOr<dbpool::PgPool> pool = dbpool::PgPool::Builder()
                                            .endpoint("127.0.0.1", std::atoi(port))
                                            .database(std::getenv("DBPOOL_TEST_PG_DB"))
                                            .user(std::getenv("DBPOOL_TEST_PG_USER"))
                                            .password(std::getenv("DBPOOL_TEST_PG_PASSWORD"))
                                            .max_size(1)
                                            .build();
  if (!pool.ok()) return std::fprintf(stderr, "%s\n", pool.status().ToString().c_str()), 1;
  absl::StatusOr<dbpool::PgLease> lease = pool->acquire();
  if (!lease.ok()) return std::fprintf(stderr, "%s\n", lease.status().ToString().c_str()), 1;
  PGresult* r = PQexec(lease->native(), "SELECT 'via pkg-config'");
  absl::Status st = dbpool::PgStatus(r, lease->native());
  const bool right = st.ok() && std::string(PQgetvalue(r, 0, 0)) == "via pkg-config";
  PQclear(r);
  lease->release();
  std::printf("pkgconfig_consumer: %s\n", right ? "ok" : st.ToString().c_str());
  return right ? 0 : 1;
}
