// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Links dbpool::mysql from an installed dbpool. Runs one query when the test
// MariaDB server is configured (DBPOOL_TEST_MY_PORT); otherwise only checks
// that a pool builds.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dbpool/mysql.h"

int main() {
  const char* port = std::getenv("DBPOOL_TEST_MY_PORT");
  dbpool::MySqlPool::Builder builder;
  builder.max_size(1);
  if (port != nullptr) {
    builder.endpoint("127.0.0.1", std::atoi(port))
        .database(std::getenv("DBPOOL_TEST_MY_DB"))
        .user(std::getenv("DBPOOL_TEST_MY_USER"))
        .password(std::getenv("DBPOOL_TEST_MY_PASSWORD"));
  } else {
    builder.endpoint("127.0.0.1", 3306);
  }
  absl::StatusOr<dbpool::MySqlPool> pool = builder.build();
  if (!pool.ok()) return std::fprintf(stderr, "%s\n", pool.status().ToString().c_str()), 1;
  if (port == nullptr) {
    std::printf("mysql_consumer: built a pool (no DBPOOL_TEST_MY_PORT: no query)\n");
    return 0;
  }
  absl::Status st = pool->with_retry([](dbpool::MySqlLease& lease) -> absl::Status {
    if (mysql_query(lease.native(), "SELECT 6 * 7") != 0)
      return dbpool::MySqlStatus(lease.native());
    MYSQL_RES* res = mysql_store_result(lease.native());
    if (res == nullptr) return dbpool::MySqlStatus(lease.native());
    MYSQL_ROW row = mysql_fetch_row(res);
    const bool right = row != nullptr && row[0] != nullptr && std::string(row[0]) == "42";
    mysql_free_result(res);
    return right ? absl::OkStatus() : absl::InternalError("wrong answer");
  });
  std::printf("mysql_consumer: %s\n", st.ToString().c_str());
  return st.ok() ? 0 : 1;
}
