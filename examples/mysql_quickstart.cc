// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The README's MySQL/MariaDB quickstart.
//   mysql_quickstart "mysql://user:secret@127.0.0.1:3306/app"
#include <cstdio>

#include "dbpool/mysql.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MYSQL_DSN\n", argv[0]);
    return 2;
  }
  absl::StatusOr<dbpool::MySqlPool> pool =
      dbpool::MySqlPool::Builder().dsn(argv[1]).max_size(4).build();
  if (!pool.ok()) return std::fprintf(stderr, "%s\n", pool.status().ToString().c_str()), 1;

  // A read: safe to run again whatever happened to it (writes go through
  // with_transaction()).
  dbpool::RetryOptions read;
  read.idempotent = true;
  absl::Status st = pool->with_retry(
      [](dbpool::MySqlLease& lease) -> absl::Status {
        MYSQL* m = lease.native();
        if (mysql_query(m, "SELECT VERSION()") != 0) return dbpool::MySqlStatus(m);
        MYSQL_RES* res = mysql_store_result(m);
        if (res == nullptr) return dbpool::MySqlStatus(m);
        if (MYSQL_ROW row = mysql_fetch_row(res)) std::printf("%s\n", row[0]);
        mysql_free_result(res);
        return absl::OkStatus();
      },
      read);
  if (!st.ok()) return std::fprintf(stderr, "%s\n", st.ToString().c_str()), 1;
  std::printf("pool: %s\n", dbpool::ToString(pool->stats()).c_str());
  return 0;
}
