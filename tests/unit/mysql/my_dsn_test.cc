// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The mysql:// DSN parser: good URIs, and every malformed form with the
// position it is reported at. No server needed.
#include "mysql/my_dsn.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"

namespace dbpool {
namespace mysql_internal {
namespace {

ParsedDsn MustParse(const std::string& dsn) {
  absl::StatusOr<ParsedDsn> parsed = ParseMySqlDsn(dsn);
  INFO(dsn << " -> " << parsed.status().ToString());
  REQUIRE(parsed.ok());
  return *parsed;
}

// The message of the kInvalidArgument that `dsn` must produce.
std::string ErrorOf(const std::string& dsn) {
  absl::StatusOr<ParsedDsn> parsed = ParseMySqlDsn(dsn);
  INFO(dsn);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST_CASE("a DSN with user, password, several hosts, database and options parses fully",
          "[mysql][dsn]") {
  const ParsedDsn dsn = MustParse(
      "mysql://app:secret@db1:3307,db2,[::1]:3308,10.0.0.5/appdb?charset=utf8mb4&read_timeout=5");
  CHECK(dsn.user == "app");
  CHECK(dsn.password == "secret");
  CHECK(dsn.database == "appdb");
  REQUIRE(dsn.endpoints.size() == 4);
  CHECK(dsn.endpoints[0].host == "db1");
  CHECK(dsn.endpoints[0].port == 3307);
  CHECK(dsn.endpoints[1].host == "db2");
  CHECK(dsn.endpoints[1].port == 3306);
  CHECK(dsn.endpoints[2].host == "::1");
  CHECK(dsn.endpoints[2].port == 3308);
  CHECK(dsn.endpoints[3].host == "10.0.0.5");
  CHECK(dsn.endpoints[3].port == 3306);
  REQUIRE(dsn.options.size() == 2);
  CHECK(dsn.options[0].key == "charset");
  CHECK(dsn.options[0].value == "utf8mb4");
  CHECK(dsn.options[0].position.offset == 58);
  CHECK(dsn.options[1].key == "read_timeout");
  CHECK(dsn.options[1].value == "5");
  CHECK(dsn.options[1].position.offset == 74);
}

TEST_CASE("a DSN host without a port gets 3306 and unset parts stay unset", "[mysql][dsn]") {
  const ParsedDsn dsn = MustParse("mysql://localhost");
  REQUIRE(dsn.endpoints.size() == 1);
  CHECK(dsn.endpoints[0].host == "localhost");
  CHECK(dsn.endpoints[0].port == kDefaultMySqlPort);
  CHECK_FALSE(dsn.user.has_value());
  CHECK_FALSE(dsn.password.has_value());
  CHECK_FALSE(dsn.database.has_value());
  CHECK(dsn.options.empty());
}

TEST_CASE("an empty DSN parses to nothing", "[mysql][dsn]") {
  const ParsedDsn dsn = MustParse("");
  CHECK(dsn.endpoints.empty());
  CHECK_FALSE(dsn.user.has_value());
  CHECK(dsn.options.empty());
}

TEST_CASE("mariadb:// and upper-case schemes are accepted", "[mysql][dsn]") {
  CHECK(MustParse("mariadb://h").endpoints.size() == 1);
  CHECK(MustParse("MySQL://h").endpoints.size() == 1);
}

TEST_CASE("a DSN without hosts leaves the endpoints to the builder", "[mysql][dsn]") {
  const ParsedDsn dsn = MustParse("mysql://app@/appdb");
  CHECK(dsn.endpoints.empty());
  CHECK(dsn.user == "app");
  CHECK(dsn.database == "appdb");
  CHECK(MustParse("mysql:///appdb").endpoints.empty());
}

TEST_CASE("IPv6 hosts in brackets parse with and without a port, zones included", "[mysql][dsn]") {
  const ParsedDsn dsn = MustParse("mysql://[::1],[2001:db8::7]:3310,[fe80::1%25eth0]:3311");
  REQUIRE(dsn.endpoints.size() == 3);
  CHECK(dsn.endpoints[0].host == "::1");
  CHECK(dsn.endpoints[0].port == 3306);
  CHECK(dsn.endpoints[1].host == "2001:db8::7");
  CHECK(dsn.endpoints[1].port == 3310);
  CHECK(dsn.endpoints[2].host == "fe80::1%eth0");
  CHECK(dsn.endpoints[2].port == 3311);
  CHECK(MustParse("mysql://[::ffff:127.0.0.1]:3306").endpoints[0].host == "::ffff:127.0.0.1");
}

TEST_CASE("user, password, database, hosts and option values are percent-decoded", "[mysql][dsn]") {
  const ParsedDsn dsn =
      MustParse("mysql://us%40er:p%2Fw%3Ad%25%2b@h/my%20db?init_command=SET%20NAMES%20utf8mb4");
  CHECK(dsn.user == "us@er");
  CHECK(dsn.password == "p/w:d%+");
  CHECK(dsn.database == "my db");
  REQUIRE(dsn.options.size() == 1);
  CHECK(dsn.options[0].value == "SET NAMES utf8mb4");
}

TEST_CASE("a plus sign in a DSN stays a plus sign", "[mysql][dsn]") {
  const ParsedDsn dsn = MustParse("mysql://u:a+b@h?init_command=SELECT+1");
  CHECK(dsn.password == "a+b");
  CHECK(dsn.options[0].value == "SELECT+1");
}

TEST_CASE("an unencoded '@' in the password is tolerated: the last '@' ends the user info",
          "[mysql][dsn]") {
  const ParsedDsn dsn = MustParse("mysql://u:p@ss@h:3307/db");
  CHECK(dsn.user == "u");
  CHECK(dsn.password == "p@ss");
  REQUIRE(dsn.endpoints.size() == 1);
  CHECK(dsn.endpoints[0].host == "h");
  CHECK(dsn.endpoints[0].port == 3307);
}

TEST_CASE("empty user and empty password are set, not absent", "[mysql][dsn]") {
  const ParsedDsn anonymous = MustParse("mysql://@h");
  CHECK(anonymous.user == "");
  CHECK_FALSE(anonymous.password.has_value());
  const ParsedDsn no_password = MustParse("mysql://u:@h");
  CHECK(no_password.user == "u");
  CHECK(no_password.password == "");
}

TEST_CASE("a percent-encoded host starting with '/' is a Unix socket path", "[mysql][dsn]") {
  const ParsedDsn dsn = MustParse("mysql://u@%2Frun%2Fmysqld%2Fmysqld.sock/db");
  REQUIRE(dsn.endpoints.size() == 1);
  CHECK(dsn.endpoints[0].host == "/run/mysqld/mysqld.sock");
  CHECK(dsn.endpoints[0].port == 3306);
}

TEST_CASE("empty query pieces are skipped and an empty database stays unset", "[mysql][dsn]") {
  const ParsedDsn dsn = MustParse("mysql://h/?&a=1&&b=&");
  CHECK_FALSE(dsn.database.has_value());
  REQUIRE(dsn.options.size() == 2);
  CHECK(dsn.options[0].key == "a");
  CHECK(dsn.options[1].key == "b");
  CHECK(dsn.options[1].value == "");
  CHECK(MustParse("mysql://h?a=1").options.size() == 1);
}

TEST_CASE("a DSN with an out-of-range port is rejected with its position", "[mysql][dsn]") {
  CHECK(ErrorOf("mysql://h:99999/db") ==
        "dbpool: dsn: invalid port \"99999\" at position 10 (allowed: 1..65535)");
  CHECK(ErrorOf("mysql://h:0") ==
        "dbpool: dsn: invalid port \"0\" at position 10 (allowed: 1..65535)");
  CHECK(ErrorOf("mysql://a:3306,b:65536") ==
        "dbpool: dsn: invalid port \"65536\" at position 17 (allowed: 1..65535)");
  CHECK(ErrorOf("mysql://[::1]:123456789012") ==
        "dbpool: dsn: invalid port \"123456789012\" at position 14 (allowed: 1..65535)");
}

TEST_CASE("a DSN with a non-numeric or missing port is rejected with its position",
          "[mysql][dsn]") {
  CHECK(ErrorOf("mysql://h:33a06") ==
        "dbpool: dsn: invalid port \"33a06\" at position 10 (allowed: 1..65535)");
  CHECK(ErrorOf("mysql://h:/db") ==
        "dbpool: dsn: missing port after ':' at position 10 (allowed: 1..65535)");
  CHECK(ErrorOf("mysql://h:-1") ==
        "dbpool: dsn: invalid port \"-1\" at position 10 (allowed: 1..65535)");
}

TEST_CASE("a DSN without the mysql scheme is rejected at position 0", "[mysql][dsn]") {
  CHECK(ErrorOf("postgres://h/db") ==
        "dbpool: dsn: expected \"mysql://\" or \"mariadb://\" at position 0");
  CHECK(absl::StrContains(ErrorOf("mysql:/h"), "at position 0"));
  CHECK(absl::StrContains(ErrorOf("h:3306"), "at position 0"));
}

TEST_CASE("a DSN with an empty host in its list is rejected with its position", "[mysql][dsn]") {
  CHECK(ErrorOf("mysql://h1,,h2") == "dbpool: dsn: empty host in the host list at position 11");
  CHECK(ErrorOf("mysql://h1,") == "dbpool: dsn: empty host in the host list at position 11");
  CHECK(ErrorOf("mysql://,h1") == "dbpool: dsn: empty host in the host list at position 8");
  CHECK(ErrorOf("mysql://:3306") == "dbpool: dsn: empty host before ':' at position 8");
}

TEST_CASE("a DSN with a bad character in a host is rejected with its position", "[mysql][dsn]") {
  CHECK(absl::StartsWith(ErrorOf("mysql://ho$t/db"),
                         "dbpool: dsn: invalid character in host \"$\" at position 10"));
  CHECK(absl::StartsWith(ErrorOf("mysql://h%21x"),
                         "dbpool: dsn: invalid character in the decoded host \"h%21x\" at "
                         "position 8"));
}

TEST_CASE("malformed IPv6 hosts are rejected with their position", "[mysql][dsn]") {
  CHECK(ErrorOf("mysql://[::1") ==
        "dbpool: dsn: unterminated '[' in the host list at position 8 (expected "
        "[address]:port)");
  CHECK(ErrorOf("mysql://[::1]x") ==
        "dbpool: dsn: unexpected character after ']' \"x\" at position 13 (expected ':port')");
  CHECK(ErrorOf("mysql://[]:3306") == "dbpool: dsn: empty IPv6 address in brackets at position 8");
  CHECK(ErrorOf("mysql://[12.0.0.1]") ==
        "dbpool: dsn: invalid IPv6 address \"12.0.0.1\" at position 9 (brackets hold IPv6 "
        "addresses only)");
  CHECK(ErrorOf("mysql://[::g]") ==
        "dbpool: dsn: invalid character in IPv6 address \"g\" at position 11");
  CHECK(absl::StartsWith(ErrorOf("mysql://[fe80::1%eth0]"),
                         "dbpool: dsn: invalid percent-encoding in the IPv6 zone \"%et\" at "
                         "position 16"));
  CHECK(absl::StartsWith(ErrorOf("mysql://[fe80::1%25]"),
                         "dbpool: dsn: invalid IPv6 zone \"%25\" at position 16"));
}

TEST_CASE("a DSN with a '/' inside the database name is rejected with its position",
          "[mysql][dsn]") {
  CHECK(absl::StartsWith(ErrorOf("mysql://h/db/x"),
                         "dbpool: dsn: unexpected '/' in the database name at position 12"));
}

TEST_CASE("malformed DSN query options are rejected with their position", "[mysql][dsn]") {
  CHECK(ErrorOf("mysql://h/db?timeout") ==
        "dbpool: dsn: option without a value \"timeout\" at position 13 (expected key=value)");
  CHECK(ErrorOf("mysql://h/db?a=1&=2") ==
        "dbpool: dsn: empty option name at position 17 (expected key=value)");
  CHECK(ErrorOf("mysql://h/db?k(ey=2") ==
        "dbpool: dsn: invalid character in option name \"(\" at position 14");
}

TEST_CASE("bad percent-encoding and NUL bytes are rejected with their position", "[mysql][dsn]") {
  CHECK(ErrorOf("mysql://h/d%zzb") ==
        "dbpool: dsn: invalid percent-encoding in the database name \"%zz\" at position 11 "
        "(expected %XX with two hex digits)");
  CHECK(ErrorOf("mysql://h/db%4") ==
        "dbpool: dsn: invalid percent-encoding in the database name \"%4\" at position 12 "
        "(expected %XX with two hex digits)");
  CHECK(ErrorOf("mysql://h/d%00") ==
        "dbpool: dsn: percent-encoded NUL byte in the database name at position 11");
  CHECK(absl::StartsWith(ErrorOf("mysql://h?charset=%G1"),
                         "dbpool: dsn: invalid percent-encoding in the option value \"%G1\" at "
                         "position 18"));
}

TEST_CASE("spaces, control characters and fragments are rejected with their position",
          "[mysql][dsn]") {
  CHECK(ErrorOf("mysql://h/db?a b=1") ==
        "dbpool: dsn: unexpected space or control character (percent-encode it) at position 14");
  CHECK(ErrorOf("mysql://h/d\tb") ==
        "dbpool: dsn: unexpected space or control character (percent-encode it) at position 11");
  CHECK(ErrorOf("mysql://h/db#frag") ==
        "dbpool: dsn: unexpected '#' (fragments are not allowed) at position 12");
}

TEST_CASE("a malformed password is reported by position without quoting it", "[mysql][dsn]") {
  const std::string message = ErrorOf("mysql://u:Sekr%zzet@h/db");
  CHECK(message ==
        "dbpool: dsn: invalid percent-encoding in the password (text before the last '@' is not "
        "shown) at position 14 (expected %XX with two hex digits)");
  CHECK(ErrorOf("mysql://u:Sekr%00et@h/db") ==
        "dbpool: dsn: percent-encoded NUL byte in the password at position 14");
}

TEST_CASE("an '@' after the user info is refused by position, never quoting the text",
          "[mysql][dsn][security]") {
  // An unencoded '?' or '/' in the password ends the authority early:
  // "2024" reads as the port and the rest of the password, up to the '@'
  // and past it, as the query or the database. Such a DSN is refused.
  const std::pair<const char*, size_t> kCases[] = {
      {"mysql://app:2024?Spring@db/app", 17},       // a query piece with no "="
      {"mysql://app:2024?k=Spr%zzing@db/app", 22},  // its own error comes first
      {"mysql://app:12/Secret@db1", 21},            // database "Secret@db1"
      {"mysql://root:3306?Sekr3t=x@db/app", 26},
      {"mysql://u:p@h/db?charset=utf8mb4&ssl_ca=/etc/a@b.pem&read_timeout=5", 46},
      {"mysql://u:a@b/Secret@h", 20},  // '@' and '/' in the password
  };
  for (const auto& [dsn, position] : kCases) {
    const std::string message = ErrorOf(dsn);
    INFO(dsn << " -> " << message);
    CHECK(absl::StrContains(message, " at position " + std::to_string(position)));
    CHECK_FALSE(absl::StrContains(message, "Spr"));
    CHECK_FALSE(absl::StrContains(message, "Secret"));
    CHECK_FALSE(absl::StrContains(message, "Sekr3t"));
  }
  CHECK(ErrorOf("mysql://app:12/Secret@db1") ==
        "dbpool: dsn: an '@' after the user info at position 21 (a password holding an unencoded "
        "'/', '?' or '@' does this: percent-encode them as %2F, %3F and %40, and any '@' in the "
        "database or an option value as %40; text before the last '@' is not shown)");
  // Text that starts after the last '@' is still quoted.
  CHECK(ErrorOf("mysql://u:p@h/db?timeout") ==
        "dbpool: dsn: option without a value \"timeout\" at position 17 (expected key=value)");
  // Encoded, the same DSNs parse with the whole password in the password.
  const ParsedDsn dsn = MustParse("mysql://app:12%2FSecret@db1/app?init_command=SET%20%40a%3D1");
  CHECK(dsn.password == "12/Secret");
  CHECK(dsn.database == "app");
  REQUIRE(dsn.options.size() == 1);
  CHECK_FALSE(dsn.options[0].position.may_hold_secret);
}

TEST_CASE("the password never appears in any DSN error message", "[mysql][dsn]") {
  // Each DSN holds the password "Sekr3t" (sometimes with an unencoded
  // reserved character that derails the parse) and is malformed somewhere.
  const char* const kCases[] = {
      "mysql://u:Sekr3t@h:99999/db",     "mysql://u:Sekr3t@h:x/db",
      "mysql://u:Sekr3t@h,,g/db",        "mysql://u:Sekr3t@[::1/db",
      "mysql://u:Sekr3t@h/d/b",          "mysql://u:Sekr3t@h/db?novalue",
      "mysql://u:Sekr3t/x@h/db",         "mysql://u:Sekr3t?x@h/db",
      "mysql://u:Sekr3t#x@h/db",         "mysql://u:Sekr3t x@h/db",
      "mysql://u:Sekr3t%zz@h/db",        "mysql://u:Sekr3t:p@h$/db",
      "mysql://u:Sekr3t@h/d%zz",         "mysql://u:Sekr3t/x@h/db?k=v",
      "mysql://u:Sekr3t/x:1@h/db?k=v",   "postgres://u:Sekr3t@h/db",
      "mysql://Sekr3t:Sekr3t@h:0",       "mysql://u:Sekr3t@h?init_command=%",
      "mysql://u:Sekr3t@[Sekr3t]:1/db",  "mysql://u:2024?Sekr3t@h/db",
      "mysql://u:2024?k=Sekr3t%zz@h/db", "mysql://u:2024?Sekr3t(@h/db",
  };
  for (const char* dsn : kCases) {
    absl::StatusOr<ParsedDsn> parsed = ParseMySqlDsn(dsn);
    INFO(dsn << " -> " << parsed.status().ToString());
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_FALSE(absl::StrContains(parsed.status().message(), "Sekr3t"));
    CHECK_FALSE(absl::StrContains(parsed.status().message(), "Sekr"));
  }
}

}  // namespace
}  // namespace mysql_internal
}  // namespace dbpool
