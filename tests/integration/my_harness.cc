// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "my_harness.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mysql/my_compat.h"  // DBPOOL_MYSQL_NONBLOCKING, as the driver was built
#include "test_servers.h"

namespace dbpool {
namespace testing {

std::string MyHarness::Host() { return RequireEnv("DBPOOL_TEST_MY_HOST"); }
int MyHarness::Port() { return RequirePort("DBPOOL_TEST_MY_PORT"); }

bool MyHarness::ConnectsCanBeAbandoned() {
#if defined(DBPOOL_MYSQL_NONBLOCKING)
  return true;
#else
  return false;
#endif
}

MySqlPool::Builder MyHarness::BaseBuilder(const std::string& /*tag*/) {
  MySqlPool::Builder b;
  b.database(RequireEnv("DBPOOL_TEST_MY_DB"))
      .user(RequireEnv("DBPOOL_TEST_MY_USER"))
      .password(RequireEnv("DBPOOL_TEST_MY_PASSWORD"));
  return b;
}

absl::StatusOr<std::string> MyHarness::Query(MYSQL* conn, const std::string& sql) {
  if (mysql_real_query(conn, sql.data(), sql.size()) != 0) return MySqlStatus(conn);
  std::string value;
  MYSQL_RES* res = mysql_store_result(conn);
  if (res != nullptr) {
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row != nullptr && mysql_num_fields(res) > 0 && row[0] != nullptr) value = row[0];
    mysql_free_result(res);
  } else if (mysql_field_count(conn) != 0) {
    return MySqlStatus(conn);
  }
  return value;
}

bool MyHarness::InTransaction(MYSQL* conn) {
  return Query(conn, "SELECT @@in_transaction").value_or("") == "1";
}

MyHarness::Admin::Admin() { (void)Reconnect(); }

MyHarness::Admin::~Admin() {
  if (conn_ != nullptr) mysql_close(conn_);
}

absl::Status MyHarness::Admin::Reconnect() {
  if (conn_ != nullptr) mysql_close(conn_);
  conn_ = mysql_init(nullptr);
  if (mysql_real_connect(conn_, Host().c_str(), RequireEnv("DBPOOL_TEST_MY_USER").c_str(),
                         RequireEnv("DBPOOL_TEST_MY_PASSWORD").c_str(),
                         RequireEnv("DBPOOL_TEST_MY_DB").c_str(), Port(), nullptr, 0) == nullptr) {
    return MySqlStatus(conn_);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> MyHarness::Admin::CountConnections(const std::string& /*tag*/) {
  const std::string sql =
      absl::StrCat("SELECT count(*) FROM information_schema.PROCESSLIST WHERE USER = '",
                   RequireEnv("DBPOOL_TEST_MY_USER"), "' AND ID <> CONNECTION_ID()");
  absl::StatusOr<std::string> n = Query(conn_, sql);
  if (!n.ok()) {
    if (absl::Status st = Reconnect(); !st.ok()) return st;
    n = Query(conn_, sql);
    if (!n.ok()) return n.status();
  }
  int count = 0;
  if (!absl::SimpleAtoi(*n, &count)) return absl::InternalError("bad count");
  return count;
}

absl::StatusOr<int> MyHarness::Admin::KillConnections(const std::string& /*tag*/) {
  const std::string sql =
      absl::StrCat("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '",
                   RequireEnv("DBPOOL_TEST_MY_USER"), "' AND ID <> CONNECTION_ID()");
  if (mysql_real_query(conn_, sql.data(), sql.size()) != 0) return MySqlStatus(conn_);
  std::vector<std::string> ids;
  MYSQL_RES* res = mysql_store_result(conn_);
  if (res == nullptr) return MySqlStatus(conn_);
  while (MYSQL_ROW row = mysql_fetch_row(res)) ids.emplace_back(row[0]);
  mysql_free_result(res);
  int killed = 0;
  for (const std::string& id : ids) {
    // A connection may end between the listing and the KILL (error 1094).
    if (Query(conn_, absl::StrCat("KILL ", id)).ok()) ++killed;
  }
  return killed;
}

absl::Status MyHarness::Admin::Execute(const std::string& sql) {
  if (absl::Status s = Query(conn_, sql).status(); s.ok()) return s;
  if (absl::Status st = Reconnect(); !st.ok()) return st;
  return Query(conn_, sql).status();
}

std::string MyHarness::CreateLoginSql(const std::string& user, const std::string& password) {
  return absl::StrCat("GRANT SELECT ON ", RequireEnv("DBPOOL_TEST_MY_DB"), ".* TO '", user, "'@'",
                      Host(), "' IDENTIFIED BY '", password, "'");
}

std::string MyHarness::SetPasswordSql(const std::string& user, const std::string& password) {
  return absl::StrCat("ALTER USER '", user, "'@'", Host(), "' IDENTIFIED BY '", password, "'");
}

std::string MyHarness::DropLoginSql(const std::string& user) {
  return absl::StrCat("DROP USER IF EXISTS '", user, "'@'", Host(), "'");
}

absl::Status MyHarness::RestartServer() { return ServersCtl("my-restart"); }

}  // namespace testing
}  // namespace dbpool
