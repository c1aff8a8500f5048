// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The README's quickstart: build a pool once, acquire around each query.
//   pg_quickstart "postgresql://user:secret@127.0.0.1:5432/app"
#include <cstdio>

#include "dbpool/postgres.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s POSTGRES_DSN\n", argv[0]);
    return 2;
  }
  absl::StatusOr<dbpool::PgPool> pool = dbpool::PgPool::Builder().dsn(argv[1]).max_size(4).build();
  if (!pool.ok()) return std::fprintf(stderr, "%s\n", pool.status().ToString().c_str()), 1;

  // A read: safe to run again whatever happened to it (writes go through
  // with_transaction()).
  dbpool::RetryOptions read;
  read.idempotent = true;
  absl::Status st = pool->with_retry(
      [](dbpool::PgLease& lease) -> absl::Status {
        PGresult* r = PQexec(lease.native(), "SELECT version()");
        absl::Status s = dbpool::PgStatus(r, lease.native());
        if (s.ok()) std::printf("%s\n", PQgetvalue(r, 0, 0));
        PQclear(r);
        return s;
      },
      read);
  if (!st.ok()) return std::fprintf(stderr, "%s\n", st.ToString().c_str()), 1;
  std::printf("pool: %s\n", dbpool::ToString(pool->stats()).c_str());
  return 0;
}
