// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The PostgreSQL side of the driver-parameterized integration suite: how to
// point a pool at the test server, run SQL, and watch or disturb the server
// from a separate admin connection.
#ifndef DBPOOL_TESTS_INTEGRATION_PG_HARNESS_H_
#define DBPOOL_TESTS_INTEGRATION_PG_HARNESS_H_

#include <libpq-fe.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dbpool/postgres.h"

namespace dbpool {
namespace testing {

struct PgHarness {
  using Traits = Postgres;
  using PoolType = PgPool;
  using Native = PGconn;
  static constexpr const char* kName = "postgres";

  // A builder with the test credentials but no endpoint; its connections
  // carry `tag`.
  static PgPool::Builder BaseBuilder(const std::string& tag);
  // BaseBuilder() pointed at the test server's primary.
  static PgPool::Builder Builder(const std::string& tag) {
    PgPool::Builder b = BaseBuilder(tag);
    b.endpoint(Host(), Port());
    return b;
  }
  static std::string Host();
  static int Port();

  // Whether the driver can abandon a connect in progress: always.
  static bool ConnectsCanBeAbandoned() { return true; }

  // Runs `sql` on `conn`; the first row's first column, or "" if none.
  static absl::StatusOr<std::string> Query(Native* conn, const std::string& sql);
  static bool InTransaction(Native* conn);

  // SQL for the shared tests.
  static constexpr const char* kSetSessionVar = "SET statement_timeout = '4321ms'";
  static constexpr const char* kGetSessionVar = "SHOW statement_timeout";
  static constexpr const char* kSessionVarDefault = "0";
  static constexpr const char* kCreateTempTable = "CREATE TEMP TABLE dbpool_tmp (x int)";
  static constexpr const char* kReadTempTable = "SELECT count(*) FROM dbpool_tmp";

  // For the TLS tests: the scratch server's name and port variable
  // (scripts/servers.sh), a query answering "true" on an encrypted session,
  // and an option weaker than require_tls().
  static constexpr const char* kServerName = "pg";
  static constexpr const char* kPortVariable = "DBPOOL_TEST_PG_PORT";
  static constexpr const char* kTlsInUseQuery =
      "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
  static constexpr const char* kWeakTlsKey = "sslmode";
  static constexpr const char* kWeakTlsValue = "prefer";

  // SQL managing a login of the test database with a password.
  static std::string CreateLoginSql(const std::string& user, const std::string& password);
  static std::string SetPasswordSql(const std::string& user, const std::string& password);
  static std::string DropLoginSql(const std::string& user);

  // A connection of the test user to the server, not counted as tagged.
  class Admin {
   public:
    Admin();
    ~Admin();
    Admin(const Admin&) = delete;
    Admin& operator=(const Admin&) = delete;
    // Server connections carrying `tag`.
    absl::StatusOr<int> CountConnections(const std::string& tag);
    // Terminates every server connection carrying `tag`; returns how many.
    absl::StatusOr<int> KillConnections(const std::string& tag);
    // Runs `sql`.
    absl::Status Execute(const std::string& sql);

   private:
    PGconn* conn_;
  };

  // Restarts the server on the same port (synchronously).
  static absl::Status RestartServer();
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_INTEGRATION_PG_HARNESS_H_
