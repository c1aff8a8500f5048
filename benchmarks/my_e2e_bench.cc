// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// End-to-end MariaDB: SELECT 1 and an indexed point read through
//   raw                   MYSQL* on persistent connections (the physical limit)
//   dbpool                MySqlPool acquire + query + release
//   connect-per-request   mysql_real_connect + query + mysql_close
//   poco                  Poco::Data::SessionPool, MySQL connector
//   soci                  soci::connection_pool of soci::session (mysql)
// at 1 and 32 threads over min(threads, 8) server connections; then dbpool's
// own cost at one thread on one connection (RunPaired() in bench_util.h). The raw,
// dbpool and per-request variants send the point read as text
// (mysql_real_query); Poco prepares it and SOCI substitutes it client-side,
// as each does by default.
//
// Reads the server from DBPOOL_TEST_MY_* (scripts/bench.sh starts it).
// Flags: see bench_util.h.
#include <mysql.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench_util.h"
#include "dbpool/mysql.h"

#ifdef DBPOOL_BENCH_WITH_POCO
#include <Poco/Data/MySQL/Connector.h>
#include <Poco/Types.h>
#endif
#ifdef DBPOOL_BENCH_WITH_SOCI
#include <soci/mysql/soci-mysql.h>
#endif

namespace {

using dbpool_bench::Keys;
using dbpool_bench::Query;
using dbpool_bench::Server;
using dbpool_bench::Variant;

// The MariaDB C API as the variants in bench_util.h use it.
struct MyClient {
  using Traits = dbpool::MySql;
  using Conn = MYSQL;

  // A connected MYSQL*, or an error (the handle is then closed).
  static absl::StatusOr<MYSQL*> Connect(const Server& s, int port) {
    MYSQL* conn = mysql_init(nullptr);
    if (conn == nullptr) return absl::ResourceExhaustedError("mysql_init failed");
    if (mysql_real_connect(conn, s.host.c_str(), s.user.c_str(), s.password.c_str(), s.db.c_str(),
                           static_cast<unsigned>(port), nullptr, 0) == nullptr) {
      absl::Status st = dbpool::MySqlStatus(conn);
      mysql_close(conn);
      return st;
    }
    return conn;
  }

  static void Close(MYSQL* conn) { mysql_close(conn); }

  // Runs `q` on `conn` and checks it returned one row.
  static absl::Status Run(MYSQL* conn, Query q, Keys& keys) {
    char sql[64];
    int n;
    if (q == Query::kSelect1) {
      n = std::snprintf(sql, sizeof sql, "SELECT 1");
    } else {
      n = std::snprintf(sql, sizeof sql, "SELECT v FROM kv WHERE k = %d", keys.next());
    }
    if (mysql_real_query(conn, sql, static_cast<unsigned long>(n)) != 0) {
      return dbpool::MySqlStatus(conn);
    }
    MYSQL_RES* res = mysql_store_result(conn);
    if (res == nullptr) return dbpool::MySqlStatus(conn);
    const bool one = mysql_num_rows(res) == 1;
    mysql_free_result(res);
    return one ? absl::OkStatus() : absl::InternalError("expected one row");
  }
};

}  // namespace

int main(int argc, char** argv) {
  const dbpool_bench::Flags flags = dbpool_bench::ParseFlagsOrExit(argc, argv);
  const Server server = dbpool_bench::ServerFromEnv("DBPOOL_TEST_MY_");
  if (mysql_library_init(0, nullptr, nullptr) != 0) {
    std::fprintf(stderr, "mysql_library_init failed\n");
    return 1;
  }

  std::vector<std::unique_ptr<Variant>> variants;
  variants.push_back(std::make_unique<dbpool_bench::PersistentVariant<MyClient>>(
      "raw", server, server.port, false));
  variants.push_back(std::make_unique<dbpool_bench::DbpoolVariant<MyClient>>(server));
  variants.push_back(std::make_unique<dbpool_bench::PerRequestVariant<MyClient>>(
      "connect-per-request", server, server.port));
#ifdef DBPOOL_BENCH_WITH_POCO
  ::Poco::Data::MySQL::Connector::registerConnector();
  variants.push_back(std::make_unique<dbpool_bench::PocoVariant<::Poco::Int64>>(
      "MySQL",
      absl::StrCat("host=", server.host, ";port=", server.port, ";user=", server.user,
                   ";password=", server.password, ";db=", server.db, ";auto-reconnect=false"),
      "SELECT v FROM kv WHERE k = ?"));
#endif
#ifdef DBPOOL_BENCH_WITH_SOCI
  variants.push_back(std::make_unique<dbpool_bench::SociVariant<long long>>(
      soci::mysql, absl::StrCat("host=", server.host, " port=", server.port, " dbname=", server.db,
                                " user=", server.user, " password=", server.password)));
#endif

  const std::vector<dbpool_bench::SuiteResult> results = dbpool_bench::RunSuite(
      "mariadb", variants, dbpool_bench::EndToEndCases(flags, {1, 32}, {1, 32}), flags);

  // dbpool's own cost at one thread, on one connection (see RunPaired()).
  dbpool_bench::DbpoolVariant<MyClient> dbpool(server);
  const std::vector<dbpool_bench::PairedResult> paired =
      dbpool_bench::RunOwnCost("mariadb", dbpool, flags);
  const bool written = dbpool_bench::Report("mariadb", "MariaDB end to end", results, paired, "raw",
                                            "dbpool", flags);
  const uint64_t errors = dbpool_bench::ErrorCount(results, paired);
  mysql_library_end();
  return errors == 0 && written ? 0 : 1;
}
