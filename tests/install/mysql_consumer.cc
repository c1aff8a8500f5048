// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Links dbpool::mysql from an installed dbpool and runs one query against the
// test MariaDB server (DBPOOL_TEST_MY_*; a missing server is a failure).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dbpool/mysql.h"

int main() {
  const char* port = std::getenv("DBPOOL_TEST_MY_PORT");
  if (port == nullptr) return std::fprintf(stderr, "DBPOOL_TEST_MY_PORT is not set\n"), 2;
  absl::StatusOr<dbpool::MySqlPool> pool = dbpool::MySqlPool::Builder()
                                               .endpoint("127.0.0.1", std::atoi(port))
                                               .database(std::getenv("DBPOOL_TEST_MY_DB"))
                                               .user(std::getenv("DBPOOL_TEST_MY_USER"))
                                               .password(std::getenv("DBPOOL_TEST_MY_PASSWORD"))
                                               .max_size(1)
                                               .build();
  if (!pool.ok()) return std::fprintf(stderr, "%s\n", pool.status().ToString().c_str()), 1;
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
