// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The MySQL/MariaDB side of the driver-parameterized integration suite.
#ifndef DBPOOL_TESTS_INTEGRATION_MY_HARNESS_H_
#define DBPOOL_TESTS_INTEGRATION_MY_HARNESS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dbpool/mysql.h"

namespace dbpool {
namespace testing {

struct MyHarness {
  using Traits = MySql;
  using PoolType = MySqlPool;
  using Native = MYSQL;
  static constexpr const char* kName = "mysql";

  // A builder with the test credentials but no endpoint. MySQL has no
  // application_name: `tag` is accepted for symmetry, and connections are
  // counted per test user instead (integration tests run one at a time).
  static MySqlPool::Builder BaseBuilder(const std::string& tag);
  static MySqlPool::Builder Builder(const std::string& tag) {
    MySqlPool::Builder b = BaseBuilder(tag);
    b.endpoint(Host(), Port());
    return b;
  }
  static std::string Host();
  static int Port();

  // Runs `sql` (one statement); the first row's first column, or "".
  static absl::StatusOr<std::string> Query(Native* conn, const std::string& sql);
  static bool InTransaction(Native* conn);

  static constexpr const char* kSetSessionVar = "SET @dbpool_marker = 4321";
  static constexpr const char* kGetSessionVar = "SELECT IFNULL(@dbpool_marker, 'unset')";
  static constexpr const char* kSessionVarDefault = "unset";
  static constexpr const char* kCreateTempTable = "CREATE TEMPORARY TABLE dbpool_tmp (x int)";
  static constexpr const char* kReadTempTable = "SELECT count(*) FROM dbpool_tmp";

  // See PgHarness.
  static constexpr const char* kServerName = "mysql";
  static constexpr const char* kPortVariable = "DBPOOL_TEST_MY_PORT";
  static constexpr const char* kTlsInUseQuery =
      "SELECT VARIABLE_VALUE <> '' FROM information_schema.SESSION_STATUS "
      "WHERE VARIABLE_NAME = 'Ssl_cipher'";
  static constexpr const char* kWeakTlsKey = "ssl_mode";
  static constexpr const char* kWeakTlsValue = "PREFERRED";

  static std::string CreateLoginSql(const std::string& user, const std::string& password);
  static std::string SetPasswordSql(const std::string& user, const std::string& password);
  static std::string DropLoginSql(const std::string& user);

  class Admin {
   public:
    Admin();
    ~Admin();
    Admin(const Admin&) = delete;
    Admin& operator=(const Admin&) = delete;
    // Connections of the test user other than this one.
    absl::StatusOr<int> CountConnections(const std::string& tag);
    // KILLs them; returns how many.
    absl::StatusOr<int> KillConnections(const std::string& tag);
    // Runs `sql`.
    absl::Status Execute(const std::string& sql);

   private:
    absl::Status Reconnect();
    MYSQL* conn_ = nullptr;
  };

  static absl::Status RestartServer();

  // Whether the driver can abandon a connect in progress (close() does not
  // wait it out): with the non-blocking calls of MariaDB Connector/C, not
  // with the blocking ones (Oracle's library, DBPOOL_MYSQL_FORCE_BLOCKING).
  static bool ConnectsCanBeAbandoned();
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_INTEGRATION_MY_HARNESS_H_
