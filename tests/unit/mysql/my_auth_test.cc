// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A server (or a man in the middle of a connection without verified TLS)
// that asks for mysql_clear_password must not get the password: the driver
// restricts the client to the hashing authentication plugins by default.
// Against tests/support/fake_mysql_server.h, on loopback.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "dbpool/mysql.h"
#include "fake_mysql_server.h"
#include "mysql/my_compat.h"

namespace dbpool {
namespace mysql_internal {
namespace {

constexpr char kPassword[] = "Pa55-Secret-w0rd";

// Connects to a fake server that switches to mysql_clear_password; returns
// what the server received, with *connected saying whether it succeeded.
std::string ReceivedBy(const ConnectSettings& base) {
  testing::FakeMySqlServer server;
  REQUIRE(server.port() > 0);
  ConnectSettings settings = base;
  settings.endpoints = {{"127.0.0.1", server.port()}};
  settings.user = "app";
  settings.password = kPassword;
  const auto setup = MySql::make_driver(settings);
  REQUIRE(setup.ok());
  const auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(10));
  CHECK_FALSE(conn.ok());  // the fake server never lets anyone in
  INFO(conn.status().ToString());
  std::string received = server.received();
  CHECK(server.switch_sent());  // the client answered the greeting
  return received;
}

#if defined(DBPOOL_MYSQL_HAVE_RESTRICTED_AUTH)
TEST_CASE("a server asking for mysql_clear_password never receives the password",
          "[mysql][security]") {
  const std::string received = ReceivedBy(ConnectSettings());
  CHECK_FALSE(received.empty());  // the handshake response, with a scramble
  CHECK_FALSE(absl::StrContains(received, kPassword));
}

TEST_CASE("restricted_auth opts back into mysql_clear_password, which sends the password",
          "[mysql][security]") {
  // The same fake server sees the password when cleartext is allowed: the
  // test above would catch its absence.
  ConnectSettings settings;
  settings.options = {{"restricted_auth", "mysql_native_password,mysql_clear_password"}};
  CHECK(absl::StrContains(ReceivedBy(settings), kPassword));
}

TEST_CASE("an empty password is sent as empty: MYSQL_PWD is never used", "[mysql][environment]") {
  // With cleartext allowed, the fake server would receive whatever password
  // the library picked, MYSQL_PWD included.
  const char* old = std::getenv("MYSQL_PWD");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("MYSQL_PWD", "EnvPa55word", 1);
  testing::FakeMySqlServer server;
  REQUIRE(server.port() > 0);
  ConnectSettings settings;
  settings.endpoints = {{"127.0.0.1", server.port()}};
  settings.user = "app";
  settings.options = {{"restricted_auth", "mysql_native_password,mysql_clear_password"}};
  const auto setup = MySql::make_driver(settings);
  REQUIRE(setup.ok());
  const auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(10));
  CHECK_FALSE(conn.ok());
  const std::string received = server.received();
  if (old != nullptr) {
    ::setenv("MYSQL_PWD", saved.c_str(), 1);
  } else {
    ::unsetenv("MYSQL_PWD");
  }
  CHECK(server.switch_sent());
  CHECK_FALSE(absl::StrContains(received, "EnvPa55word"));
}
#endif

}  // namespace
}  // namespace mysql_internal
}  // namespace dbpool
