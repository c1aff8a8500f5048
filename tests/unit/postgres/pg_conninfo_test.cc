// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// From builder settings to libpq parameters: DSN parsing, merge rules and
// option checks, without a server.
#include "postgres/pg_conninfo.h"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

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

// The message of the kInvalidArgument that `dsn` must produce.
std::string DsnError(const std::string& dsn) {
  ConnectSettings s;
  s.dsn = dsn;
  auto p = BuildPgConnectParams(s);
  INFO(dsn);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

// Each DSN (first) must be refused with exactly its message (second).
using DsnErrors = std::vector<std::pair<std::string, std::string>>;

void CheckDsnErrors(const DsnErrors& cases) {
  for (const auto& [dsn, want] : cases) CHECK(DsnError(dsn) == want);
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

TEST_CASE("an unterminated quote is reported at its opening quote", "[postgres][dsn]") {
  ConnectSettings s;
  s.dsn = "host=a dbname='x";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(p.status().message() ==
        "dbpool: dsn: unterminated quoted string in connection info string at position 14");
}

TEST_CASE("DSN errors never show the password", "[postgres][dsn]") {
  for (const char* dsn : {"postgresql://u:s3cr3tpw@h:notaport/db",
                          "postgresql://u:s3cr3tpw%zz@h/db", "host=h password=s3cr3tpw garbage"}) {
    CHECK_THAT(DsnError(dsn), !Catch::Contains("s3cr3tpw"));
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

TEST_CASE("a percent-encoded URI query key is found where it is", "[postgres][dsn]") {
  // libpq names the key decoded, "bogus", which the DSN does not hold.
  CheckDsnErrors({
      {"postgresql://h/db?%62ogus=1",
       "dbpool: dsn: invalid URI query parameter: \"bogus\" at position 18"},
      {"postgresql://h/db?sslmode=require&b%6Fgus=1",
       "dbpool: dsn: invalid URI query parameter: \"bogus\" at position 34"},
  });
}

TEST_CASE("the position is the refused parameter's, not that of equal text before it",
          "[postgres][dsn]") {
  CheckDsnErrors({
      {"postgresql://bogus@h/db?bogus=1",
       "dbpool: dsn: invalid URI query parameter: \"bogus\" at position 24"},
      {"application_name=bogus bogus=1",
       "dbpool: dsn: invalid connection option \"bogus\" at position 23"},
      {"postgresql://h/db?sslmode=require&sslmode=a=b",
       "dbpool: dsn: extra key/value separator \"=\" in URI query parameter: \"sslmode\" at "
       "position 43"},
  });
}

TEST_CASE("an empty key is reported at its position", "[postgres][dsn]") {
  CheckDsnErrors({
      {"=x", "dbpool: dsn: invalid connection option \"\" at position 0"},
      {"host=h  =x", "dbpool: dsn: invalid connection option \"\" at position 8"},
      {"postgresql://h/db?a",
       "dbpool: dsn: missing key/value separator \"=\" in URI query parameter: \"a\" at "
       "position 18"},
      {"postgresql://h/db?sslmode=require&&",
       "dbpool: dsn: missing key/value separator \"=\" in URI query parameter: \"\" at position "
       "34"},
  });
}

TEST_CASE("tokens holding quotes, backslashes or newlines get a position and are escaped",
          "[postgres][dsn]") {
  CheckDsnErrors({
      {"\"x", "dbpool: dsn: missing \"=\" after \"\\\"x\" in connection info string at position 0"},
      {"host=h a\\'b=1", "dbpool: dsn: invalid connection option \"a\\\\'b\" at position 7"},
      {"postgresql://h/d%zz\nb",
       "dbpool: dsn: invalid percent-encoded token: \"d%zz\\x0ab\" at position 16"},
      // In the user info: the position only.
      {"postgresql://u%zz\nx@h/db",
       "dbpool: dsn: invalid percent-encoded token: (text not shown: it may be part of the "
       "password) at position 14"},
  });
}

TEST_CASE("errors in host and port lists give the position of the item", "[postgres][dsn]") {
  CheckDsnErrors({
      // libpq decodes a URI's lists joined: "1,%zz" is not in the DSN.
      {"postgresql://h:1,h:%zz/db",
       "dbpool: dsn: invalid percent-encoded token: \"1,%zz\" at position 19"},
      {"postgresql://a,b%zz:1/db",
       "dbpool: dsn: invalid percent-encoded token: \"a,b%zz\" at position 16"},
      {"postgresql://h:1,h:99999/db",
       "dbpool: dsn: port \"99999\" is not in the allowed range 1..65535 at position 19"},
      {"postgresql://h1,,h3/db", "dbpool: dsn: host #2 of \"h1,,h3\" is empty at position 16"},
      {"host=h port=70000",
       "dbpool: dsn: port \"70000\" is not in the allowed range 1..65535 at position 12"},
      {"host=a,b,c port=1,2",
       "dbpool: dsn: 3 hosts but 2 ports at position 16 (give one port, or one per host)"},
      // A query parameter overrides the authority: its value is where the list is.
      {"postgres://h?port=1,2,3&host=a,b",
       "dbpool: dsn: 2 hosts but 3 ports at position 18 (give one port, or one per host)"},
  });
}

TEST_CASE("the URI's own syntax errors give their position, not the URI", "[postgres][dsn]") {
  CheckDsnErrors({
      {"postgresql://u:Sekr3t@[::1/db",
       "dbpool: dsn: end of string reached when looking for matching \"]\" in IPv6 host "
       "address in URI at position 22"},
      {"postgresql://u:Sekr3t@[]/db",
       "dbpool: dsn: IPv6 host address may not be empty in URI at position 22"},
      {"postgresql://u:Sekr3t@[::1]x/db",
       "dbpool: dsn: unexpected character \"x\" in URI (expected \":\" or \"/\") at position 27"},
      {"postgresql://h/db%00",
       "dbpool: dsn: forbidden value %00 in percent-encoded value: \"db%00\" at position 17"},
  });
}

TEST_CASE("a URI password holding '@' is not shown: libpq ends the user info at the first '@'",
          "[postgres][dsn]") {
  const std::string message = DsnError("postgresql://app:50%offSekr3t@2024@db.example/app");
  CHECK(message ==
        "dbpool: dsn: invalid percent-encoded token: (text not shown: it may be part of the "
        "password) at position 19");
  CHECK_FALSE(Catch::contains(message, "Sekr3t"));
  CHECK_FALSE(Catch::contains(message, "50%off"));
}

TEST_CASE("text that may be part of a password never shows, whatever the error",
          "[postgres][dsn]") {
  // Each DSN holds "Sekr3t" where a password is or may have been meant,
  // and has an error that libpq or dbpool reports quoting some text.
  const std::pair<const char*, size_t> kCases[] = {
      {"postgresql://u:Sekr3t%zz@h/db", 21},
      {"postgresql://u:Sekr3t%00@h/db", 21},
      {"postgresql://u:Sekr3t@2024%zz@h/db", 26},     // '@' in the password
      {"postgresql://Sekr3t%zz@h/db", 19},            // the user name, before the '@'
      {"postgresql://u:p/w?Sekr3t=1@h", 19},          // '/' in the password: a query key
      {"postgresql://u:p/w?k=Sekr3t%zz@h", 27},       // ... or a query value
      {"postgresql://u:p/w?Sekr3t@h", 19},            // ... or a query without '='
      {"postgresql://u:p/w?k=1=Sekr3t@h", 22},        // ... with two '='
      {"postgresql://u:Sekr3t/x@h", 15},              // the port
      {"postgresql://u:Sekr3t,,x/y@h", 15},           // the port list
      {"postgresql://[::1]:Sekr3t/x@h", 19},          // the port after an IPv6 host
      {"postgresql://h,,Sekr3t/x@h", 15},             // the host list
      {"postgresql://u:p?Sekr3t@[::1]x/db", 29},      // libpq reads "p?Sekr3t" as the password
      {"postgresql://h/db?password=Sekr3t%zz", 33},   // a query password
      {"postgresql://h/db?password=a&Sekr3t&c", 29},  // ... with an unencoded '&'
      {"postgresql://h/db?password=a&Sekr3t=1", 29},
      {"postgresql://h/db?password=a&x=1=Sekr3t", 32},
      {"host=h password=abc Sekr3t=1", 20},  // an unquoted space in a password
      {"host=h password=abc Sekr3t host=h", 20},
      {"password='it's Sekr3t' host=h", 13},  // an unescaped quote in a password
  };
  for (const auto& [dsn, position] : kCases) {
    const std::string message = DsnError(dsn);
    INFO(dsn << " -> " << message);
    CHECK(Catch::startsWith(message, "dbpool: dsn: "));
    CHECK_FALSE(Catch::contains(message, "Sekr3t"));
    CHECK(Catch::endsWith(message, " at position " + std::to_string(position)));
  }
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
