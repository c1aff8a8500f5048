// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// From builder settings to libpq parameters: DSN parsing, merge rules and
// option checks, without a server.
#include "postgres/pg_conninfo.h"

#include <catch2/catch.hpp>
#include <string>

#include "dbpool/postgres.h"

namespace dbpool {
namespace postgres_internal {
namespace {

std::string Get(const PgConnectParams& p, const std::string& key) {
  for (const auto& [k, v] : p.keywords) {
    if (k == key) return v;
  }
  return "<unset>";
}

TEST_CASE("a multi-host URI becomes one endpoint per host, in order", "[postgres][dsn]") {
  ConnectSettings s;
  s.dsn = "postgresql://app@h1:5432,h2:5433/appdb?sslmode=require&application_name=svc";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.ok());
  REQUIRE(p->endpoints.size() == 2);
  CHECK(p->endpoints[0].host == "h1");
  CHECK(p->endpoints[0].port == 5432);
  CHECK(p->endpoints[1].host == "h2");
  CHECK(p->endpoints[1].port == 5433);
  CHECK(Get(*p, "dbname") == "appdb");
  CHECK(Get(*p, "user") == "app");
  CHECK(Get(*p, "sslmode") == "require");
  CHECK(Get(*p, "application_name") == "svc");
  CHECK(Get(*p, "host") == "<unset>");  // hosts go to endpoints, never to libpq directly
}

TEST_CASE("a key=value DSN with one port applies it to every host", "[postgres][dsn]") {
  ConnectSettings s;
  s.dsn = "host=a,b port=6000 dbname=x";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.ok());
  REQUIRE(p->endpoints.size() == 2);
  CHECK(p->endpoints[1].port == 6000);
  CHECK(Get(*p, "dbname") == "x");
}

TEST_CASE("a host without a port gets 5432", "[postgres][dsn]") {
  ConnectSettings s;
  s.dsn = "postgresql://db.example";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.ok());
  REQUIRE(p->endpoints.size() == 1);
  CHECK(p->endpoints[0].port == 5432);
}

TEST_CASE("builder endpoints come before DSN hosts and explicit settings win", "[postgres][dsn]") {
  ConnectSettings s;
  s.endpoints.push_back(Endpoint{"first", 1111});
  s.dsn = "postgresql://dsnuser:dsnpass@second:2222/dsndb";
  s.database = "explicitdb";
  s.user = "explicituser";
  s.password = "explicitpass";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.ok());
  REQUIRE(p->endpoints.size() == 2);
  CHECK(p->endpoints[0].host == "first");
  CHECK(p->endpoints[1].host == "second");
  CHECK(Get(*p, "dbname") == "explicitdb");
  CHECK(Get(*p, "user") == "explicituser");
  CHECK(Get(*p, "password") == "explicitpass");
}

TEST_CASE("option() accepts libpq keywords and later values win", "[postgres][options]") {
  ConnectSettings s;
  s.options = {{"application_name", "one"}, {"sslmode", "disable"}, {"application_name", "two"}};
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.ok());
  CHECK(Get(*p, "application_name") == "two");
  CHECK(Get(*p, "sslmode") == "disable");
}

TEST_CASE("option() rejects an unknown keyword by name", "[postgres][options]") {
  ConnectSettings s;
  s.options = {{"no_such_keyword", "1"}};
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(p.status().message()), Catch::Contains("no_such_keyword"));
}

TEST_CASE("option() refuses host and port: endpoints carry them", "[postgres][options]") {
  for (const char* key : {"host", "hostaddr", "port"}) {
    ConnectSettings s;
    s.options = {{key, "x"}};
    auto p = BuildPgConnectParams(s);
    REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(p.status().message()), Catch::Contains("endpoint()"));
  }
}

TEST_CASE("a malformed key=value DSN is rejected with the position of the problem",
          "[postgres][dsn]") {
  ConnectSettings s;
  s.dsn = "host=a garbage dbname=x";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(p.status().message()),
             Catch::StartsWith("dbpool: dsn: ") && Catch::Contains("at position 7"));
}

TEST_CASE("an unknown URI parameter is rejected with its position", "[postgres][dsn]") {
  ConnectSettings s;
  s.dsn = "postgresql://h/db?bogus_param=1";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(p.status().message()),
             Catch::Contains("bogus_param") && Catch::Contains("at position 18"));
}

TEST_CASE("an unterminated quote is reported at the end of the DSN", "[postgres][dsn]") {
  ConnectSettings s;
  s.dsn = "host=a dbname='x";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(p.status().message()), Catch::Contains("at position 16"));
}

TEST_CASE("DSN errors never show the password", "[postgres][dsn]") {
  for (const char* dsn : {"postgresql://u:s3cr3tpw@h:notaport/db",
                          "postgresql://u:s3cr3tpw%zz@h/db", "host=h password=s3cr3tpw garbage"}) {
    ConnectSettings s;
    s.dsn = dsn;
    auto p = BuildPgConnectParams(s);
    INFO(dsn);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(p.status().message()), !Catch::Contains("s3cr3tpw"));
  }
}

TEST_CASE("a DSN port out of range is rejected naming the range", "[postgres][dsn]") {
  ConnectSettings s;
  s.dsn = "host=h port=70000";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(p.status().message()), Catch::Contains("1..65535"));
}

TEST_CASE("mismatched host and port lists are rejected", "[postgres][dsn]") {
  ConnectSettings s;
  s.dsn = "host=a,b,c port=1,2";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(p.status().message()), Catch::Contains("3 hosts but 2 ports"));
}

TEST_CASE("SQLSTATEs map to canonical status codes", "[postgres][status]") {
  CHECK(PgStatusFromSqlState("08006") == absl::StatusCode::kUnavailable);
  CHECK(PgStatusFromSqlState("57P01") == absl::StatusCode::kUnavailable);
  CHECK(PgStatusFromSqlState("57P03") == absl::StatusCode::kUnavailable);
  CHECK(PgStatusFromSqlState("25006") == absl::StatusCode::kUnavailable);
  CHECK(PgStatusFromSqlState("28P01") == absl::StatusCode::kUnauthenticated);
  CHECK(PgStatusFromSqlState("28000") == absl::StatusCode::kPermissionDenied);
  CHECK(PgStatusFromSqlState("42501") == absl::StatusCode::kPermissionDenied);
  CHECK(PgStatusFromSqlState("23505") == absl::StatusCode::kAlreadyExists);
  CHECK(PgStatusFromSqlState("23503") == absl::StatusCode::kFailedPrecondition);
  CHECK(PgStatusFromSqlState("40001") == absl::StatusCode::kAborted);
  CHECK(PgStatusFromSqlState("40P01") == absl::StatusCode::kAborted);
  CHECK(PgStatusFromSqlState("57014") == absl::StatusCode::kCancelled);
  CHECK(PgStatusFromSqlState("53300") == absl::StatusCode::kResourceExhausted);
  CHECK(PgStatusFromSqlState("42P01") == absl::StatusCode::kNotFound);
  CHECK(PgStatusFromSqlState("42601") == absl::StatusCode::kInvalidArgument);
  CHECK(PgStatusFromSqlState("22012") == absl::StatusCode::kInvalidArgument);
  CHECK(PgStatusFromSqlState("0A000") == absl::StatusCode::kUnimplemented);
  CHECK(PgStatusFromSqlState("XX000") == absl::StatusCode::kUnknown);
  CHECK(PgStatusFromSqlState("bad") == absl::StatusCode::kUnknown);
}

TEST_CASE("a null result on no connection is unavailable", "[postgres][status]") {
  CHECK(PgStatus(static_cast<const PGconn*>(nullptr)).code() == absl::StatusCode::kUnavailable);
  CHECK(PgStatus(nullptr, nullptr).code() == absl::StatusCode::kUnknown);
}

}  // namespace
}  // namespace postgres_internal
}  // namespace dbpool
