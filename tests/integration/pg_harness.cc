// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "pg_harness.h"

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {

std::string PgHarness::Host() { return RequireEnv("DBPOOL_TEST_PG_HOST"); }
int PgHarness::Port() { return RequirePort("DBPOOL_TEST_PG_PORT"); }

PgPool::Builder PgHarness::BaseBuilder(const std::string& tag) {
  PgPool::Builder b;
  b.database(RequireEnv("DBPOOL_TEST_PG_DB"))
      .user(RequireEnv("DBPOOL_TEST_PG_USER"))
      .password(RequireEnv("DBPOOL_TEST_PG_PASSWORD"))
      .option("application_name", tag);
  return b;
}

absl::StatusOr<std::string> PgHarness::Query(PGconn* conn, const std::string& sql) {
  std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQexec(conn, sql.c_str()), PQclear);
  absl::Status status = PgStatus(result.get(), conn);
  if (!status.ok()) return status;
  if (PQntuples(result.get()) > 0 && PQnfields(result.get()) > 0) {
    return std::string(PQgetvalue(result.get(), 0, 0));
  }
  return std::string();
}

bool PgHarness::InTransaction(PGconn* conn) { return PQtransactionStatus(conn) != PQTRANS_IDLE; }

PgHarness::Admin::Admin() {
  const std::string conninfo = absl::StrCat(
      "host=", Host(), " port=", Port(), " dbname=", RequireEnv("DBPOOL_TEST_PG_DB"),
      " user=", RequireEnv("DBPOOL_TEST_PG_USER"),
      " password=", RequireEnv("DBPOOL_TEST_PG_PASSWORD"), " application_name=dbpool_admin");
  conn_ = PQconnectdb(conninfo.c_str());
}

PgHarness::Admin::~Admin() { PQfinish(conn_); }

absl::StatusOr<int> PgHarness::Admin::CountConnections(const std::string& tag) {
  if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
  absl::StatusOr<std::string> n = Query(
      conn_,
      absl::StrCat("SELECT count(*) FROM pg_stat_activity WHERE application_name = '", tag, "'"));
  if (!n.ok()) return n.status();
  int count = 0;
  if (!absl::SimpleAtoi(*n, &count)) return absl::InternalError("bad count");
  return count;
}

absl::StatusOr<int> PgHarness::Admin::KillConnections(const std::string& tag) {
  if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
  absl::StatusOr<std::string> n =
      Query(conn_, absl::StrCat("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE application_name = '",
                                tag, "'"));
  if (!n.ok()) return n.status();
  int count = 0;
  if (!absl::SimpleAtoi(*n, &count)) return absl::InternalError("bad count");
  return count;
}

absl::Status PgHarness::Admin::Execute(const std::string& sql) {
  if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
  return Query(conn_, sql).status();
}

std::string PgHarness::CreateLoginSql(const std::string& user, const std::string& password) {
  return absl::StrCat("CREATE ROLE ", user, " LOGIN PASSWORD '", password, "'");
}

std::string PgHarness::SetPasswordSql(const std::string& user, const std::string& password) {
  return absl::StrCat("ALTER ROLE ", user, " PASSWORD '", password, "'");
}

std::string PgHarness::DropLoginSql(const std::string& user) {
  return absl::StrCat("DROP ROLE IF EXISTS ", user);
}

absl::Status PgHarness::RestartServer() { return ServersCtl("pg-restart"); }

}  // namespace testing
}  // namespace dbpool
