// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// make_driver(): how builder settings and the DSN merge, and what build-time
// validation refuses. No server needed (make_driver never connects).
#include "mysql/my_params.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "dbpool/mysql.h"

namespace dbpool {
namespace mysql_internal {
namespace {

ConnectSettings WithDsn(std::string dsn) {
  ConnectSettings settings;
  settings.dsn = std::move(dsn);
  return settings;
}

MyConnectParams MustBuild(const ConnectSettings& settings) {
  absl::StatusOr<MyConnectParams> params = BuildMyConnectParams(settings);
  INFO(params.status().ToString());
  REQUIRE(params.ok());
  return *params;
}

std::string ErrorOf(const ConnectSettings& settings) {
  absl::StatusOr<DriverSetup> setup = MySql::make_driver(settings);
  REQUIRE_FALSE(setup.ok());
  CHECK(setup.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(setup.status().message());
}

TEST_CASE("DSN hosts are appended after the builder's endpoints, in order", "[mysql][merge]") {
  ConnectSettings settings = WithDsn("mysql://d1:3311,[::1]/app");
  settings.endpoints = {{"b1", 3301}, {"b2", 3302}};
  absl::StatusOr<DriverSetup> setup = MySql::make_driver(settings);
  REQUIRE(setup.ok());
  REQUIRE(setup->endpoints.size() == 4);
  CHECK(setup->endpoints[0].host == "b1");
  CHECK(setup->endpoints[0].port == 3301);
  CHECK(setup->endpoints[1].host == "b2");
  CHECK(setup->endpoints[2].host == "d1");
  CHECK(setup->endpoints[2].port == 3311);
  CHECK(setup->endpoints[3].host == "::1");
  CHECK(setup->endpoints[3].port == 3306);
  REQUIRE(setup->driver != nullptr);
  CHECK(setup->driver->name() == "mysql");
}

TEST_CASE("explicit database, user and password win over the DSN's", "[mysql][merge]") {
  ConnectSettings settings = WithDsn("mysql://dsn_user:dsn_pw@h/dsn_db");
  settings.database = "db";
  settings.user = "user";
  settings.password = "pw";
  const MyConnectParams params = MustBuild(settings);
  CHECK(params.database == "db");
  CHECK(params.user == "user");
  CHECK(params.password == "pw");
}

TEST_CASE("the DSN's database, user and password fill what the builder left empty",
          "[mysql][merge]") {
  ConnectSettings settings = WithDsn("mysql://dsn_user:dsn_pw@h/dsn_db");
  settings.user = "user";
  const MyConnectParams params = MustBuild(settings);
  CHECK(params.user == "user");
  CHECK(params.password == "dsn_pw");
  CHECK(params.database == "dsn_db");
}

TEST_CASE("builder options apply after DSN options, so the builder's win", "[mysql][merge]") {
  ConnectSettings settings =
      WithDsn("mysql://h/db?read_timeout=5&init_command=SET%20%40a%3D1&ssl_mode=REQUIRED");
  settings.options = {
      {"read_timeout", "9"}, {"init_command", "SET @b=2"}, {"ssl_mode", "PREFERRED"}};
  const MyConnectParams params = MustBuild(settings);
  CHECK(params.options.read_timeout == 9u);
  CHECK(params.options.ssl_mode == SslMode::kPreferred);
  CHECK(params.options.init_commands == std::vector<std::string>{"SET @a=1", "SET @b=2"});
}

TEST_CASE("a pool without any endpoint is rejected", "[mysql][merge]") {
  CHECK(ErrorOf(ConnectSettings{}) ==
        "dbpool: no endpoint: call endpoint() or give hosts in dsn()");
  CHECK(ErrorOf(WithDsn("mysql://u:pw@/db")) ==
        "dbpool: no endpoint: call endpoint() or give hosts in dsn()");
}

TEST_CASE("an endpoint port outside 1..65535 is rejected naming the knob", "[mysql][merge]") {
  ConnectSettings settings;
  settings.endpoints = {{"db1", 0}};
  CHECK(ErrorOf(settings) == "dbpool: endpoint port 0 is out of range 1..65535 (host \"db1\")");
  settings.endpoints = {{"db1", 3306}, {"db2", 65536}};
  CHECK(ErrorOf(settings) == "dbpool: endpoint port 65536 is out of range 1..65535 (host \"db2\")");
  settings.endpoints = {{"", 3306}};
  CHECK(ErrorOf(settings) == "dbpool: endpoint host is empty");
}

TEST_CASE("a malformed DSN fails make_driver with its position", "[mysql][merge]") {
  CHECK(ErrorOf(WithDsn("mysql://h:99999/db")) ==
        "dbpool: dsn: invalid port \"99999\" at position 10 (allowed: 1..65535)");
}

TEST_CASE("option problems fail make_driver, not the first connect", "[mysql][merge]") {
  CHECK(absl::StartsWith(ErrorOf(WithDsn("mysql://h/db?bogus=1")),
                         "dbpool: dsn: option \"bogus\" at position 13 is unknown"));
  ConnectSettings settings = WithDsn("mysql://h/db");
  settings.options = {{"connect_timeout", "0"}};
  CHECK(absl::StartsWith(ErrorOf(settings), "dbpool: option \"connect_timeout\": invalid value"));
  settings.options = {{"ssl_ca", "/nonexistent/ca.pem"}, {"ssl_mode", "REQUIRED"}};
  CHECK(ErrorOf(settings) ==
        "dbpool: option \"ssl_ca\": cannot read \"/nonexistent/ca.pem\": No such file or "
        "directory");
  settings.options = {{"ssl_mode", "DISABLED"}, {"tls_version", "TLSv1.3"}};
  CHECK(ErrorOf(settings) ==
        "dbpool: option tls_version is set but ssl_mode is DISABLED; drop one of them");
}

TEST_CASE("NUL bytes in credentials are rejected without quoting them", "[mysql][merge]") {
  ConnectSettings settings = WithDsn("mysql://h/db");
  settings.password = std::string("Sekr\0et", 7);
  CHECK(ErrorOf(settings) == "dbpool: password contains a NUL byte");
  settings = WithDsn("mysql://h/db");
  settings.user = std::string("u\0", 2);
  CHECK(ErrorOf(settings) == "dbpool: user contains a NUL byte");
}

TEST_CASE("the password never appears in a make_driver error", "[mysql][merge]") {
  const std::string kPassword = "Sekr3t-Pw";
  std::vector<ConnectSettings> cases;
  cases.push_back(WithDsn("mysql://u:" + kPassword + "@h:0/db"));
  cases.push_back(WithDsn("mysql://u:" + kPassword + "@h/db?bogus=" + kPassword));
  cases.push_back(WithDsn("mysql://u:" + kPassword + "/x@h/db"));
  cases.push_back(WithDsn("mysql://u:" + kPassword + "@/db"));
  ConnectSettings explicit_password = WithDsn("mysql://h:70000");
  explicit_password.password = kPassword;
  cases.push_back(explicit_password);
  ConnectSettings bad_option = WithDsn("mysql://h");
  bad_option.password = kPassword;
  bad_option.options = {{"password", kPassword}};
  cases.push_back(bad_option);
  for (const ConnectSettings& settings : cases) {
    absl::StatusOr<DriverSetup> setup = MySql::make_driver(settings);
    INFO(settings.dsn << " -> " << setup.status().ToString());
    REQUIRE_FALSE(setup.ok());
    CHECK_FALSE(absl::StrContains(setup.status().message(), "Sekr3t"));
  }
}

}  // namespace
}  // namespace mysql_internal
}  // namespace dbpool
