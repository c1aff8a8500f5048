// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What no input can do to the PostgreSQL settings path: leak a password
// through a DSN that parses, cut a string at a NUL byte, turn one endpoint
// into a libpq host list, change routing through target_session_attrs or the
// environment, or put control characters into a message. No server needed:
// the connects here fail inside libpq before any network traffic.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dbpool/postgres.h"
#include "postgres/pg_conninfo.h"
#include "postgres/pg_tls.h"
#include "scoped_env.h"
#include "temp_files.h"

namespace dbpool {
namespace postgres_internal {
namespace {

using ::dbpool::testing::ScopedEnv;

using testing::TempFiles;

absl::Status ParseStatus(const ConnectSettings& s) { return BuildPgConnectParams(s).status(); }

absl::Status DsnStatus(const std::string& dsn) {
  ConnectSettings s;
  s.dsn = dsn;
  return ParseStatus(s);
}

TEST_CASE("a URI password with an unencoded '@', ',' or '/' is refused, never quoted",
          "[postgres][dsn][security]") {
  // Each parses in libpq, with part of the password as a host, port,
  // database or query value.
  const char* const kCases[] = {
      "postgresql://app:12,Secret/abc@db1/app",     // hosts "app:12", "Secret"
      "postgresql://u:5432/db?sslmode=xSecretx@h",  // the query holds the rest
      "postgresql://app:pa@Secret@db1/app",         // host "Secret@db1"
      "postgresql://app:12/Secret@db1",             // database "Secret@db1"
      "postgresql://db1/app?application_name=a@Secret",
  };
  for (const char* dsn : kCases) {
    const absl::Status status = DsnStatus(dsn);
    INFO(dsn << " -> " << status.ToString());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(status.message()), Catch::Contains("percent-encode"));
    CHECK_THAT(std::string(status.message()), !Catch::Contains("Secret"));
    CHECK_THAT(std::string(status.message()), Catch::StartsWith("dbpool: dsn: "));
  }
  // Encoded, the same passwords parse, and only the password holds them.
  ConnectSettings s;
  s.dsn = "postgresql://app:12%2CSecret%2Fabc@db1/app";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.ok());
  REQUIRE(p->endpoints.size() == 1);
  CHECK(p->endpoints[0].host == "db1");
  CHECK(*FindKeyword(p->keywords, "password") == "12,Secret/abc");
  CHECK(*FindKeyword(p->keywords, "dbname") == "app");
}

TEST_CASE("sslpassword, a libpq secret, is never quoted", "[postgres][dsn][security]") {
  CHECK(IsSecretKeyword("password"));
  CHECK(IsSecretKeyword("sslpassword"));
  CHECK_FALSE(IsSecretKeyword("sslmode"));
  for (const char* dsn : {"postgresql://h/db?sslpassword=S3cr%et", "host=h sslpassword=my S3cret",
                          "host=h sslpassword=a S3cret=1"}) {
    const absl::Status status = DsnStatus(dsn);
    INFO(dsn << " -> " << status.ToString());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(status.message()), !Catch::Contains("S3cr"));
  }
}

TEST_CASE("require_tls() conflicts never quote a value that may hold the password",
          "[postgres][tls][security]") {
  // "sslmode=Sekr3t" may be the end of the password "abc sslmode=Sekr3t".
  ConnectSettings s;
  s.dsn = "host=h password=abc sslmode=Sekr3t";
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.ok());
  absl::Status status = ApplyTlsPolicy(TlsPolicy(), &p->keywords, p->tainted);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("sslmode=(text not shown"));
  CHECK_THAT(std::string(status.message()), !Catch::Contains("Sekr3t"));
  // The same from option() is the user's own value: quoted, and escaped.
  PgKeywords keywords = {{"sslmode", "pre\x1b[0mfer"}};
  status = ApplyTlsPolicy(TlsPolicy(), &keywords);
  CHECK(std::string(status.message()) ==
        "dbpool: require_tls() conflicts with sslmode=\"pre\\x1b[0mfer\" (from option() or the "
        "DSN): require_tls() sets sslmode=verify-full; drop the setting or make it agree");
}

TEST_CASE("connect errors from libpq never quote a value that may hold the password",
          "[postgres][security]") {
  ConnectSettings s;
  s.dsn = "host=127.0.0.1 port=1 password=abc sslmode=Sekr3tMode";
  auto setup = Postgres::make_driver(s);
  REQUIRE(setup.ok());
  auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(5));
  REQUIRE_FALSE(conn.ok());
  INFO(conn.status().ToString());
  CHECK_THAT(std::string(conn.status().message()), Catch::Contains("sslmode"));
  CHECK_THAT(std::string(conn.status().message()), !Catch::Contains("Sekr3t"));
}

TEST_CASE("control characters in libpq's and servers' text are escaped in messages",
          "[postgres][security]") {
  ConnectSettings s;
  s.dsn = "host=127.0.0.1 port=1 sslmode='x\x1b[2J\ry'";
  auto setup = Postgres::make_driver(s);
  REQUIRE(setup.ok());
  auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(5));
  REQUIRE_FALSE(conn.ok());
  const std::string message(conn.status().message());
  INFO(message);
  CHECK_THAT(message, Catch::Contains("x\\x1b[2J\\x0dy"));
  for (char c : message) CHECK(static_cast<unsigned char>(c) >= 0x20);
  CHECK(EscapeServerText("a\r\nb\nc\x7f\t \n") == "a b c\\x7f");
}

TEST_CASE("a NUL byte in a builder string is refused naming the knob", "[postgres][security]") {
  const std::string nul("ab\0cd", 5);
  ConnectSettings s;
  s.password = nul;
  absl::Status status = ParseStatus(s);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::StartsWith("dbpool: password(): "));
  CHECK_THAT(std::string(status.message()), !Catch::Contains("ab"));
  s = ConnectSettings();
  s.user = nul;
  CHECK_THAT(std::string(ParseStatus(s).message()), Catch::StartsWith("dbpool: user(): "));
  s = ConnectSettings();
  s.database = nul;
  CHECK_THAT(std::string(ParseStatus(s).message()), Catch::StartsWith("dbpool: database(): "));
  s = ConnectSettings();
  s.options = {{"application_name", nul}};
  CHECK_THAT(std::string(ParseStatus(s).message()),
             Catch::StartsWith("dbpool: option(\"application_name\"): "));
  s = ConnectSettings();
  s.endpoints = {Endpoint{nul, 5432}};
  status = ParseStatus(s);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()),
             Catch::StartsWith("dbpool: endpoint(\"ab\\x00cd\", 5432): "));
}

TEST_CASE("a NUL byte from the credentials provider fails the connect, unsent",
          "[postgres][security]") {
  ConnectSettings s;
  s.endpoints = {Endpoint{"127.0.0.1", 1}};
  s.credentials = [](const Endpoint&) -> absl::StatusOr<Credentials> {
    return Credentials{"app", std::string("pw\0rest", 7)};
  };
  auto setup = Postgres::make_driver(s);
  REQUIRE(setup.ok());
  auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(5));
  CHECK(conn.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(conn.status().message()),
             Catch::Contains("credentials provider: the password holds a NUL byte"));
}

TEST_CASE("an endpoint host is one host: no ',' and brackets only around IPv6",
          "[postgres][security]") {
  ConnectSettings s;
  s.endpoints = {Endpoint{"a,b", 5432}};
  absl::Status status = ParseStatus(s);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("endpoint(\"a,b\", 5432)"));
  s.endpoints = {Endpoint{"[::1", 5432}};
  CHECK(ParseStatus(s).code() == absl::StatusCode::kInvalidArgument);
  s.endpoints = {Endpoint{"[::1]", 5433}};
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.ok());
  CHECK(p->endpoints[0].host == "::1");  // as libpq takes it
}

TEST_CASE("more than 64 endpoints are refused naming the limit", "[postgres][security]") {
  std::string hosts;
  for (int i = 0; i < 65; ++i) hosts += (i > 0 ? "," : "") + std::string("h") + std::to_string(i);
  absl::Status status = DsnStatus("host=" + hosts);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("at most 64"));
  CHECK(DsnStatus("host=" + hosts.substr(0, hosts.rfind(','))).ok());
}

TEST_CASE("target_session_attrs is the pool's routing, not each connection's",
          "[postgres][routing]") {
  for (const char* v : {"any", "read-write", "primary"}) {
    ConnectSettings s;
    s.dsn = std::string("host=a,b target_session_attrs=") + v;
    auto p = BuildPgConnectParams(s);
    INFO(v);
    REQUIRE(p.ok());
    CHECK(FindKeyword(p->keywords, "target_session_attrs") == nullptr);
  }
  for (const char* v : {"read-only", "standby", "prefer-standby"}) {
    ConnectSettings s;
    s.options = {{"target_session_attrs", v}};
    const absl::Status status = ParseStatus(s);
    INFO(v);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(status.message()), Catch::Contains("Role::kReplica"));
  }
}

TEST_CASE("PGTARGETSESSIONATTRS cannot make a server unconnectable", "[postgres][routing]") {
  // libpq checks the value before connecting: with the pool's explicit
  // "any", a bad one in the environment is never looked at.
  ScopedEnv env("PGTARGETSESSIONATTRS", "bogus");
  ConnectSettings s;
  s.endpoints = {Endpoint{"127.0.0.1", 1}};
  auto setup = Postgres::make_driver(s);
  REQUIRE(setup.ok());
  auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(5));
  REQUIRE_FALSE(conn.ok());
  CHECK_THAT(std::string(conn.status().message()), !Catch::Contains("target_session_attrs"));
  CHECK(conn.status().code() == absl::StatusCode::kUnavailable);  // port 1 refuses
}

TEST_CASE("PGHOSTADDR in the environment is refused at build() and at connect",
          "[postgres][environment]") {
  ConnectSettings s;
  s.endpoints = {Endpoint{"127.0.0.1", 1}};
  absl::StatusOr<DriverSetup> setup;
  {
    ScopedEnv env("PGHOSTADDR", "127.0.0.9");
    const absl::StatusOr<DriverSetup> refused = Postgres::make_driver(s);
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(refused.status().message()), Catch::Contains("PGHOSTADDR"));
  }
  setup = Postgres::make_driver(s);
  REQUIRE(setup.ok());
  ScopedEnv env("PGHOSTADDR", "127.0.0.9");
  auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(5));
  CHECK(conn.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(conn.status().message()), Catch::Contains("PGHOSTADDR"));
}

TEST_CASE("a PGSERVICE file that sets hostaddr is refused; under require_tls any service is",
          "[postgres][environment]") {
  TempFiles files;
  const std::string evil = files.Add("pg_service.conf", "[evil]\nhostaddr=127.0.0.9\n");
  const std::string mild = files.Add("pg_mild.conf", "[mild]\napplication_name=x\n");
  ConnectSettings s;
  s.endpoints = {Endpoint{"db.example", 5432}};
  {
    ScopedEnv file("PGSERVICEFILE", evil.c_str());
    ScopedEnv service("PGSERVICE", "evil");
    const auto refused = Postgres::make_driver(s);
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(refused.status().message()), Catch::Contains("PGSERVICE"));
  }
  {
    ScopedEnv file("PGSERVICEFILE", mild.c_str());
    ScopedEnv service("PGSERVICE", "mild");
    CHECK(Postgres::make_driver(s).ok());
    s.tls = TlsPolicy();
    const auto refused = Postgres::make_driver(s);
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(refused.status().message()), Catch::Contains("PGSERVICE"));
  }
  s.options = {{"service", "mild"}};
  const auto refused = Postgres::make_driver(s);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(refused.status().message()), Catch::Contains("service="));
}

TEST_CASE("require_tls refuses Unix-socket endpoints, where libpq ignores sslmode",
          "[postgres][tls][security]") {
  // A CA file of its own: a new machine may have no system CA bundle, which
  // require_tls() would refuse first.
  TempFiles files;
  TlsPolicy policy;
  policy.ca_file = files.Add("ca.pem");
  for (const char* dsn : {"host=/run/postgresql", "postgresql://%2Ftmp/db", "host=@abstract"}) {
    ConnectSettings s;
    s.dsn = dsn;
    s.tls = policy;
    const auto refused = Postgres::make_driver(s);
    INFO(dsn);
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(refused.status().message()), Catch::Contains("Unix-domain socket"));
    s.tls.reset();
    CHECK(Postgres::make_driver(s).ok());
  }
}

TEST_CASE("require_tls sets a TLS 1.2 floor that PGSSLMINPROTOCOLVERSION cannot lower",
          "[postgres][tls]") {
  TempFiles files;  // a CA file of its own: a new machine may have no system bundle
  TlsPolicy policy;
  policy.ca_file = files.Add("ca.pem");
  PgKeywords keywords;
  REQUIRE(ApplyTlsPolicy(policy, &keywords).ok());
  CHECK(*FindKeyword(keywords, "ssl_min_protocol_version") == "TLSv1.2");
  keywords = {{"ssl_min_protocol_version", "TLSv1.3"}};
  REQUIRE(ApplyTlsPolicy(policy, &keywords).ok());
  CHECK(*FindKeyword(keywords, "ssl_min_protocol_version") == "TLSv1.3");
  keywords = {{"ssl_min_protocol_version", "TLSv1"}};
  const absl::Status status = ApplyTlsPolicy(policy, &keywords);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("ssl_min_protocol_version"));
}

TEST_CASE("TCP keepalives and tcp_user_timeout are on by default and given values win",
          "[postgres][socket]") {
  ConnectSettings s;
  s.endpoints = {Endpoint{"db", 5432}};
  auto p = BuildPgConnectParams(s);
  REQUIRE(p.ok());
  CHECK(*FindKeyword(p->keywords, "keepalives") == "1");
  CHECK(*FindKeyword(p->keywords, "keepalives_idle") == "30");
  CHECK(*FindKeyword(p->keywords, "keepalives_interval") == "10");
  CHECK(*FindKeyword(p->keywords, "keepalives_count") == "3");
  CHECK(*FindKeyword(p->keywords, "tcp_user_timeout") == "30000");
  s.dsn = "keepalives_idle=5";
  s.options = {{"tcp_user_timeout", "0"}, {"keepalives", "0"}};
  p = BuildPgConnectParams(s);
  REQUIRE(p.ok());
  CHECK(*FindKeyword(p->keywords, "keepalives") == "0");
  CHECK(*FindKeyword(p->keywords, "keepalives_idle") == "5");
  CHECK(*FindKeyword(p->keywords, "tcp_user_timeout") == "0");
}

TEST_CASE("an encrypted sslkey without sslpassword fails build(), so OpenSSL never prompts",
          "[postgres][tls][security]") {
  TempFiles files;
  const std::string key = files.Add(
      "client.key",
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n");
  ConnectSettings s;
  s.endpoints = {{"127.0.0.1", 5432}};
  s.options = {{"sslkey", key}};
  auto setup = Postgres::make_driver(s);
  INFO(setup.status());
  CHECK(setup.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(setup.status().message()), Catch::Contains("sslkey \"" + key));
  s.options.push_back({"sslpassword", "the-passphrase"});
  CHECK(Postgres::make_driver(s).ok());
}

}  // namespace
}  // namespace postgres_internal
}  // namespace dbpool
