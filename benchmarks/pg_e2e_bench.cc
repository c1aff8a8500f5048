// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// End-to-end PostgreSQL: SELECT 1 and an indexed point read through
//   raw                   libpq on persistent connections (the physical limit)
//   dbpool                PgPool acquire + query + release
//   connect-per-request   PQconnectdb + query + PQfinish
//   pgbouncer             persistent client connections to PgBouncer
//                         (transaction mode), one per thread
//   pgbouncer-per-request a new client connection to PgBouncer per request
//   poco                  Poco::Data::SessionPool, PostgreSQL connector
//   soci                  soci::connection_pool of soci::session (postgresql)
// SELECT 1 at 1, 2, 8 and 32 threads, the point read at 1 and 32, over
// min(threads, 8) server connections; then dbpool's own cost at one thread
// on one connection (RunPaired() in bench_util.h).
//
// Reads the servers from DBPOOL_TEST_PG_* and DBPOOL_TEST_PGBOUNCER_PORT
// (scripts/bench.sh starts them). Flags: see bench_util.h.
#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bench_util.h"
#include "dbpool/postgres.h"

#ifdef DBPOOL_BENCH_WITH_POCO
#include <Poco/Data/PostgreSQL/Connector.h>
#endif
#ifdef DBPOOL_BENCH_WITH_SOCI
#include <soci/postgresql/soci-postgresql.h>
#endif

namespace {

using dbpool_bench::Keys;
using dbpool_bench::Query;
using dbpool_bench::Server;
using dbpool_bench::Variant;

constexpr char kAppName[] = "dbpool_bench";

#if defined(DBPOOL_BENCH_WITH_POCO) || defined(DBPOOL_BENCH_WITH_SOCI)
// A libpq conninfo string for `s` at `port`, as Poco and SOCI take it.
std::string Conninfo(const Server& s, int port) {
  return absl::StrCat("host=", s.host, " port=", port, " dbname=", s.db, " user=", s.user,
                      " password=", s.password, " application_name=", kAppName);
}
#endif

// libpq as the variants in bench_util.h use it.
struct PgClient {
  using Traits = dbpool::Postgres;
  using Conn = PGconn;

  // A connected PGconn*, or an error (the handle is then closed).
  static absl::StatusOr<PGconn*> Connect(const Server& s, int port) {
    const std::string port_text = std::to_string(port);
    const char* keys[] = {"host", "port", "dbname", "user", "password", "application_name",
                          nullptr};
    const char* values[] = {s.host.c_str(),     port_text.c_str(), s.db.c_str(), s.user.c_str(),
                            s.password.c_str(), kAppName,          nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/0);
    if (conn == nullptr) return absl::ResourceExhaustedError("PQconnectdbParams returned null");
    if (absl::Status st = dbpool::PgStatus(conn); !st.ok()) {
      PQfinish(conn);
      return st;
    }
    return conn;
  }

  static void Close(PGconn* conn) { PQfinish(conn); }

  // Runs `q` on `conn` and checks it returned one row.
  static absl::Status Run(PGconn* conn, Query q, Keys& keys) {
    PGresult* r;
    if (q == Query::kSelect1) {
      r = PQexec(conn, "SELECT 1");
    } else {
      char key[16];
      std::snprintf(key, sizeof key, "%d", keys.next());
      const char* params[] = {key};
      r = PQexecParams(conn, "SELECT v FROM kv WHERE k = $1", 1, nullptr, params, nullptr, nullptr,
                       0);
    }
    absl::Status s = dbpool::PgStatus(r, conn);
    if (s.ok() && PQntuples(r) != 1) s = absl::InternalError("expected one row");
    PQclear(r);
    return s;
  }
};

using Persistent = dbpool_bench::PersistentVariant<PgClient>;
using PerRequest = dbpool_bench::PerRequestVariant<PgClient>;
using Dbpool = dbpool_bench::DbpoolVariant<PgClient>;

}  // namespace

int main(int argc, char** argv) {
  const dbpool_bench::Flags flags = dbpool_bench::ParseFlagsOrExit(argc, argv);
  const Server server = dbpool_bench::ServerFromEnv("DBPOOL_TEST_PG_");
  const int pgbouncer_port =
      std::atoi(dbpool_bench::RequireEnv("DBPOOL_TEST_PGBOUNCER_PORT").c_str());
  const Dbpool::Options options = {{"application_name", kAppName}};

  std::vector<std::unique_ptr<Variant>> variants;
  variants.push_back(std::make_unique<Persistent>("raw", server, server.port, false));
  variants.push_back(std::make_unique<Dbpool>(server, options));
  variants.push_back(std::make_unique<PerRequest>("connect-per-request", server, server.port));
  variants.push_back(std::make_unique<Persistent>("pgbouncer", server, pgbouncer_port, true));
  variants.push_back(std::make_unique<PerRequest>("pgbouncer-per-request", server, pgbouncer_port));
#ifdef DBPOOL_BENCH_WITH_POCO
  ::Poco::Data::PostgreSQL::Connector::registerConnector();
  variants.push_back(std::make_unique<dbpool_bench::PocoVariant<int>>(
      "PostgreSQL", Conninfo(server, server.port), "SELECT v FROM kv WHERE k = $1"));
#endif
#ifdef DBPOOL_BENCH_WITH_SOCI
  variants.push_back(std::make_unique<dbpool_bench::SociVariant<int>>(
      soci::postgresql, Conninfo(server, server.port)));
#endif

  const std::vector<dbpool_bench::SuiteResult> results = dbpool_bench::RunSuite(
      "pg", variants, dbpool_bench::EndToEndCases(flags, {1, 2, 8, 32}, {1, 32}), flags);

  // dbpool's own cost at one thread, on one connection (see RunPaired()).
  Dbpool dbpool(server, options);
  const std::vector<dbpool_bench::PairedResult> paired =
      dbpool_bench::RunOwnCost("pg", dbpool, flags);
  const bool written =
      dbpool_bench::Report("pg", "PostgreSQL end to end", results, paired, "raw", "dbpool", flags);
  const uint64_t errors = dbpool_bench::ErrorCount(results, paired);
  return errors == 0 && written ? 0 : 1;
}
