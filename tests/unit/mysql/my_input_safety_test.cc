// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What no setting or environment variable can do to the MySQL driver:
// widen require_tls()'s trust (ssl_capath), loosen its ciphers
// (ssl_cipher), skip verification (MARIADB_TLS_DISABLE_PEER_VERIFICATION),
// take more endpoints than the pool allows, or pass a provider's NUL byte.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <tuple>

#include "absl/strings/match.h"
#include "dbpool/mysql.h"
#include "mysql/my_options.h"
#include "mysql/my_tls.h"
#include "scoped_env.h"
#include "temp_files.h"

namespace dbpool {
namespace mysql_internal {
namespace {

using ::dbpool::testing::ScopedEnv;

TEST_CASE("require_tls refuses ssl_capath, which would widen the trust to the union",
          "[mysql][tls][security]") {
  testing::TempFiles files;
  TlsPolicy policy;
  policy.ca_file = files.Add("ca.pem");
  MyOptions options;
  options.ssl_capath = "/etc/ssl/certs";
  absl::Status status = ApplyTlsPolicy(policy, &options);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("ssl_capath=\"/etc/ssl/certs\""));
  options = MyOptions();
  options.ssl_capath = "/etc/ssl/certs";
  CHECK(ApplyTlsPolicy(TlsPolicy(), &options).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("require_tls refuses ssl_cipher, which could allow a null cipher",
          "[mysql][tls][security]") {
  MyOptions options;
  options.ssl_cipher = "eNULL:@SECLEVEL=0";
  const absl::Status status = ApplyTlsPolicy(TlsPolicy(), &options);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("ssl_cipher="));
}

TEST_CASE("MARIADB_TLS_DISABLE_PEER_VERIFICATION is refused at build() and at connect",
          "[mysql][tls][environment]") {
  ConnectSettings settings;
  settings.endpoints = {{"127.0.0.1", 1}};
  settings.tls = TlsPolicy();
  settings.tls->ca_file = "/etc/ssl/certs/ca-certificates.crt";
  if (::access(settings.tls->ca_file.c_str(), R_OK) != 0) settings.tls->ca_file.clear();
  if (settings.tls->ca_file.empty() && SystemCaFile().empty()) return;  // no CA to test with
  {
    ScopedEnv env("MARIADB_TLS_DISABLE_PEER_VERIFICATION", "1");
    const auto refused = MySql::make_driver(settings);
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(refused.status().message()),
               Catch::Contains("MARIADB_TLS_DISABLE_PEER_VERIFICATION"));
    // ssl_mode=VERIFY_IDENTITY without require_tls() verifies too.
    ConnectSettings verify;
    verify.endpoints = settings.endpoints;
    verify.options = {{"ssl_mode", "VERIFY_IDENTITY"}};
    CHECK(MySql::make_driver(verify).status().code() == absl::StatusCode::kInvalidArgument);
  }
  const auto setup = MySql::make_driver(settings);
  REQUIRE(setup.ok());
  ScopedEnv env("MARIADB_TLS_DISABLE_PEER_VERIFICATION", "");
  const auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(5));
  CHECK(conn.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(conn.status().message()),
             Catch::Contains("MARIADB_TLS_DISABLE_PEER_VERIFICATION"));
}

TEST_CASE("more than 64 MySQL endpoints are refused naming the limit", "[mysql][security]") {
  ConnectSettings settings;
  for (int i = 0; i < 65; ++i) settings.endpoints.push_back({"h" + std::to_string(i), 3306});
  const auto refused = MySql::make_driver(settings);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(refused.status().message()), Catch::Contains("at most 64"));
  settings.endpoints.pop_back();
  CHECK(MySql::make_driver(settings).ok());
}

TEST_CASE("a NUL byte from the MySQL credentials provider fails the connect, unsent",
          "[mysql][security]") {
  ConnectSettings settings;
  settings.endpoints = {{"127.0.0.1", 1}};
  settings.credentials = [](const Endpoint&) -> absl::StatusOr<Credentials> {
    return Credentials{"app", std::string("pw\0rest", 7)};
  };
  const auto setup = MySql::make_driver(settings);
  REQUIRE(setup.ok());
  const auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(5));
  CHECK(conn.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(conn.status().message()),
             Catch::Contains("credentials provider: the password holds a NUL byte"));
}

}  // namespace
}  // namespace mysql_internal
}  // namespace dbpool

namespace dbpool {
namespace mysql_internal {
namespace {

int GetInt(int fd, int level, int option) {
  int value = -1;
  socklen_t len = sizeof(value);
  REQUIRE(::getsockopt(fd, level, option, &value, &len) == 0);
  return value;
}

TEST_CASE("MySQL sockets get TCP keepalives and a user timeout; tcp_keepalive=false opts out",
          "[mysql][socket]") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  REQUIRE(ApplyTcpKeepalive(fd).ok());
  CHECK(GetInt(fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
  CHECK(GetInt(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 30);
  CHECK(GetInt(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 10);
  CHECK(GetInt(fd, IPPROTO_TCP, TCP_KEEPCNT) == 3);
  CHECK(GetInt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT) == 30000);
  ::close(fd);
  MyOptions options;
  CHECK(options.tcp_keepalive);
  REQUIRE(SetOption("tcp_keepalive", "false", OptionSource{}, &options).ok());
  CHECK_FALSE(options.tcp_keepalive);
}

TEST_CASE("MySQL keepalive values are options with libpq's names, checked against their ranges",
          "[mysql][socket]") {
  MyOptions options;
  REQUIRE(SetOption("keepalives_idle", "5", OptionSource{}, &options).ok());
  REQUIRE(SetOption("keepalives_interval", "2", OptionSource{}, &options).ok());
  REQUIRE(SetOption("keepalives_count", "4", OptionSource{}, &options).ok());
  REQUIRE(SetOption("tcp_user_timeout", "7000", OptionSource{}, &options).ok());
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  REQUIRE(ApplyTcpKeepalive(fd, options.keepalive).ok());
  CHECK(GetInt(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 5);
  CHECK(GetInt(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 2);
  CHECK(GetInt(fd, IPPROTO_TCP, TCP_KEEPCNT) == 4);
  CHECK(GetInt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT) == 7000);
  ::close(fd);
  for (const auto& [key, bad, range] :
       {std::tuple<const char*, const char*, const char*>{"keepalives_idle", "0", "1..32767"},
        {"keepalives_interval", "40000", "1..32767"},
        {"keepalives_count", "128", "1..127"},
        {"tcp_user_timeout", "-1", "0..86400000"},
        {"keepalives_idle", "3s", "1..32767"}}) {
    const absl::Status s = SetOption(key, bad, OptionSource{}, &options);
    INFO(key << "=" << bad << ": " << s);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(s.message(), key));
    CHECK(absl::StrContains(s.message(), range));
  }
}

}  // namespace
}  // namespace mysql_internal
}  // namespace dbpool
