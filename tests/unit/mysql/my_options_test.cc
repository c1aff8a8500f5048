// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Option key validation and the mysql_options() mapping. No server needed:
// options are applied to handles from mysql_init(), which does no I/O.
#include "mysql/my_options.h"

#include <mysql.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "mysql/my_library.h"
#include "mysql/my_params.h"

namespace dbpool {
namespace mysql_internal {
namespace {

absl::Status Set(MyOptions* options, const std::string& key, const std::string& value) {
  return SetOption(key, value, OptionSource{}, options);
}

// Applies every key=value, then FinishOptions().
absl::StatusOr<MyOptions> Build(const std::vector<std::pair<std::string, std::string>>& kvs) {
  MyOptions options;
  for (const auto& [key, value] : kvs) {
    if (absl::Status s = Set(&options, key, value); !s.ok()) return s;
  }
  if (absl::Status s = FinishOptions(&options); !s.ok()) return s;
  return options;
}

std::string ErrorOf(const std::vector<std::pair<std::string, std::string>>& kvs) {
  absl::StatusOr<MyOptions> options = Build(kvs);
  REQUIRE_FALSE(options.ok());
  CHECK(options.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(options.status().message());
}

// A temporary directory holding one readable file, for the path options.
class TempTlsDir {
 public:
  TempTlsDir() {
    char pattern[] = "/tmp/dbpool_mysql_test.XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    file_ = dir_ + "/ca.pem";
    std::ofstream(file_) << "not a certificate\n";
  }
  ~TempTlsDir() {
    std::remove(file_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& dir() const { return dir_; }
  const std::string& file() const { return file_; }

 private:
  std::string dir_;
  std::string file_;
};

struct MysqlCloser {
  void operator()(MYSQL* mysql) const { mysql_close(mysql); }
};

TEST_CASE("every documented option key is accepted with a valid value", "[mysql][options]") {
  const TempTlsDir tls;
  const std::vector<std::pair<std::string, std::string>> kCases = {
      {"connect_timeout", "10"},
      {"read_timeout", "30"},
      {"write_timeout", "86400"},
      {"charset", "utf8mb4"},
      {"init_command", "SET SESSION sql_mode='ANSI'"},
      {"compress", "true"},
      {"ssl_mode", "REQUIRED"},
      {"ssl-mode", "verify_identity"},
      {"ssl_ca", tls.file()},
      {"ssl_capath", tls.dir()},
      {"ssl_cert", tls.file()},
      {"ssl_key", tls.file()},
      {"ssl_cipher", "ECDHE-RSA-AES256-GCM-SHA384"},
      {"tls_version", "TLSv1.2,TLSv1.3"},
      {"ssl_verify_server_cert", "off"},
      {"keepalives_idle", "5"},
      {"keepalives_interval", "1"},
      {"keepalives_count", "127"},
      {"tcp_user_timeout", "0"},
  };
  for (const auto& [key, value] : kCases) {
    INFO(key << "=" << value);
    MyOptions options;
    CHECK(Set(&options, key, value).ok());
  }
  CHECK(KnownOptionKeys().size() == 20);
}

TEST_CASE("option keys are case-insensitive and '-' equals '_'", "[mysql][options]") {
  absl::StatusOr<MyOptions> options =
      Build({{"Read-Timeout", "7"}, {"SSL-MODE", "preferred"}, {"tls-version", "tlsv1.3"}});
  REQUIRE(options.ok());
  CHECK(options->read_timeout == 7u);
  CHECK(options->ssl_mode == SslMode::kPreferred);
  CHECK(options->tls_version == "TLSv1.3");
}

TEST_CASE("an unknown option key is rejected naming the key and the known keys",
          "[mysql][options]") {
  const std::string message = ErrorOf({{"reconnect", "1"}});
  CHECK(absl::StartsWith(message,
                         "dbpool: option \"reconnect\" is unknown; known keys: charset, "
                         "compress, connect_timeout,"));
  CHECK(absl::StrContains(message, "write_timeout"));
}

TEST_CASE("the value of an unknown option key is never quoted", "[mysql][options]") {
  const std::string message = ErrorOf({{"password", "hunter2-Sekr3t"}});
  CHECK(absl::StrContains(message, "\"password\" is unknown"));
  CHECK_FALSE(absl::StrContains(message, "hunter2"));
}

TEST_CASE("a DSN option error gives the option's position in the DSN", "[mysql][options]") {
  MyOptions options;
  OptionSource source;
  source.from_dsn = true;
  source.position.offset = 13;
  absl::Status status = SetOption("bogus", "1", source, &options);
  CHECK(absl::StartsWith(status.message(),
                         "dbpool: dsn: option \"bogus\" at position 13 is unknown; known keys:"));
  status = SetOption("read_timeout", "soon", source, &options);
  CHECK(status.message() ==
        "dbpool: dsn: option \"read_timeout\" at position 13: invalid value \"soon\"; expected a "
        "whole number of seconds in 1..86400");
}

// What a DSN option that may hold the password (it starts at offset 18,
// before the DSN's last '@') is refused with.
constexpr char kHiddenAt18[] =
    "dbpool: dsn: option at position 18 is unknown or invalid; its key and value are not shown "
    "since it starts before the DSN's last '@' and may be part of the password (percent-encode "
    "'@', '/' and '?' in a password)";

TEST_CASE("a DSN option that may hold the password is refused by its position only",
          "[mysql][options]") {
  OptionSource source;
  source.from_dsn = true;
  source.position = DsnPosition{18, /*may_hold_secret=*/true};
  const std::vector<std::pair<std::string, std::string>> kCases = {
      {"Sekr3tKey", "1"},
      {"charset", "Sekr3t@db/app"},
      {"read_timeout", "Sekr3t@db"},
      {"ssl_mode", "Sekr3t@db"},
      {"compress", "Sekr3t@db"},
      {"tls_version", "Sekr3t@db"},
      {"ssl_ca", "/nonexistent/Sekr3t@db"},
      {"ssl_capath", "/nonexistent/Sekr3t@db"},
      {"init_command", ""},
  };
  for (const auto& [key, value] : kCases) {
    MyOptions options;
    const absl::Status status = SetOption(key, value, source, &options);
    INFO(key << "=" << value << " -> " << status.ToString());
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(status.message() == kHiddenAt18);
    // Neither the key nor what it allows, which would tell the key.
    CHECK_FALSE(absl::StrContains(status.message(), "Sekr3t"));
    CHECK_FALSE(absl::StrContains(status.message(), key));
    CHECK_FALSE(absl::StrContains(status.message(), "expected"));
  }
  // Valid, it is taken like any other.
  MyOptions options;
  REQUIRE(SetOption("charset", "utf8mb4", source, &options).ok());
  CHECK(options.charset == "utf8mb4");
}

TEST_CASE("a conflict with a DSN option that may hold the password names it by position only",
          "[mysql][options]") {
  OptionSource hidden;
  hidden.from_dsn = true;
  hidden.position = DsnPosition{18, /*may_hold_secret=*/true};
  MyOptions options;
  REQUIRE(SetOption("ssl_mode", "disabled", hidden, &options).ok());
  REQUIRE(Set(&options, "ssl_cipher", "AES256-SHA").ok());
  absl::Status status = FinishOptions(&options);
  CHECK(status.message() ==
        "dbpool: dsn: option at position 18 conflicts with another option; its key and value are "
        "not shown since it starts before the DSN's last '@' and may be part of the password "
        "(percent-encode '@', '/' and '?' in a password)");

  options = MyOptions{};
  REQUIRE(SetOption("ssl_verify_server_cert", "true", hidden, &options).ok());
  REQUIRE(Set(&options, "ssl_mode", "required").ok());
  status = FinishOptions(&options);
  CHECK(absl::StartsWith(status.message(),
                         "dbpool: dsn: option at position 18 conflicts with another option;"));
  CHECK_FALSE(absl::StrContains(status.message(), "ssl_"));

  // A later value from elsewhere replaces the hidden one, and is named.
  options = MyOptions{};
  REQUIRE(SetOption("ssl_mode", "disabled", hidden, &options).ok());
  REQUIRE(Set(&options, "ssl_mode", "disabled").ok());
  REQUIRE(Set(&options, "ssl_cipher", "AES256-SHA").ok());
  status = FinishOptions(&options);
  CHECK(status.message() ==
        "dbpool: option ssl_cipher is set but ssl_mode is DISABLED; drop one of them");
}

TEST_CASE("a password with an unencoded '?' never shows in a DSN option error",
          "[mysql][options]") {
  // "mysql://root:3306?<password>@db/app": "3306" reads as the port, the rest
  // of the password as the query, so a key or a value holds it.
  // Such a DSN is refused by the parser (my_dsn_test.cc) before any option
  // is looked at.
  const std::string kStray =
      "(a password holding an unencoded '/', '?' or '@' does this: percent-encode them as %2F, "
      "%3F and %40, and any '@' in the database or an option value as %40; text before the last "
      "'@' is not shown)";
  const std::pair<const char*, std::string> kCases[] = {
      {"mysql://root:3306?Sekr3t=x@db/app",
       "dbpool: dsn: an '@' after the user info at position 26 " + kStray},
      {"mysql://root:3306?charset=Sekr3t@db/app",
       "dbpool: dsn: an '@' after the user info at position 32 " + kStray},
      {"mysql://root:3306?read_timeout=Sekr3t@db/app",
       "dbpool: dsn: an '@' after the user info at position 37 " + kStray},
      {"mysql://root:3306?ssl_mode=disabled&ssl_cipher=Sekr3t@db/app",
       "dbpool: dsn: an '@' after the user info at position 53 " + kStray},
  };
  for (const auto& [dsn, want] : kCases) {
    ConnectSettings settings;
    settings.dsn = dsn;
    absl::StatusOr<MyConnectParams> params = BuildMyConnectParams(settings);
    INFO(dsn << " -> " << params.status().ToString());
    REQUIRE_FALSE(params.ok());
    CHECK(params.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(params.status().message() == want);
    CHECK_FALSE(absl::StrContains(params.status().message(), "Sekr3t"));
  }
  // Options after the last '@' are still named with their value.
  ConnectSettings settings;
  settings.dsn = "mysql://root:pw@db/app?charset=bad-";
  CHECK(BuildMyConnectParams(settings).status().message() ==
        "dbpool: dsn: option \"charset\" at position 23: invalid value \"bad-\"; expected a "
        "character set name such as utf8mb4 ([A-Za-z0-9_]+)");
}

TEST_CASE("timeouts must be whole seconds in 1..86400", "[mysql][options]") {
  for (const char* key : {"connect_timeout", "read_timeout", "write_timeout"}) {
    for (const char* bad : {"0", "86401", "abc", "-1", "1.5", "", " 5", "99999999999"}) {
      INFO(key << "=" << bad);
      CHECK(ErrorOf({{key, bad}}) == std::string("dbpool: option \"") + key +
                                         "\": invalid value \"" + bad +
                                         "\"; expected a whole number of seconds in 1..86400");
    }
  }
  absl::StatusOr<MyOptions> options =
      Build({{"connect_timeout", "1"}, {"read_timeout", "86400"}, {"write_timeout", "15"}});
  REQUIRE(options.ok());
  CHECK(options->connect_timeout == 1u);
  CHECK(options->read_timeout == 86400u);
  CHECK(options->write_timeout == 15u);
}

TEST_CASE("bad option values are rejected naming the allowed values", "[mysql][options]") {
  CHECK(ErrorOf({{"compress", "maybe"}}) ==
        "dbpool: option \"compress\": invalid value \"maybe\"; expected 1, 0, true, false, on, "
        "off, yes or no");
  CHECK(ErrorOf({{"ssl_mode", "STRICT"}}) ==
        "dbpool: option \"ssl_mode\": invalid value \"STRICT\"; expected DISABLED, PREFERRED, "
        "REQUIRED, VERIFY_CA or VERIFY_IDENTITY");
  CHECK(absl::StartsWith(ErrorOf({{"tls_version", "TLSv1.1"}}),
                         "dbpool: option \"tls_version\": invalid value \"TLSv1.1\"; expected "
                         "TLSv1.2, TLSv1.3 or both"));
  CHECK(absl::StartsWith(ErrorOf({{"tls_version", ""}}),
                         "dbpool: option \"tls_version\": invalid value \"\""));
  CHECK(absl::StartsWith(ErrorOf({{"charset", "utf-8"}}),
                         "dbpool: option \"charset\": invalid value \"utf-8\"; expected a "
                         "character set name"));
  CHECK(absl::StartsWith(ErrorOf({{"ssl_verify_server_cert", "2"}}),
                         "dbpool: option \"ssl_verify_server_cert\": invalid value \"2\""));
  for (const char* key :
       {"ssl_ca", "ssl_capath", "ssl_cert", "ssl_key", "ssl_cipher", "init_command"}) {
    INFO(key);
    CHECK(absl::StartsWith(ErrorOf({{key, ""}}),
                           std::string("dbpool: option \"") + key + "\": invalid value \"\""));
  }
}

TEST_CASE("a later option value replaces an earlier one, but init_command accumulates",
          "[mysql][options]") {
  absl::StatusOr<MyOptions> options = Build({{"read_timeout", "5"},
                                             {"init_command", "SET @a = 1"},
                                             {"read_timeout", "9"},
                                             {"init_command", "SET @b = 2"},
                                             {"compress", "yes"},
                                             {"compress", "no"}});
  REQUIRE(options.ok());
  CHECK(options->read_timeout == 9u);
  CHECK_FALSE(options->compress);
  CHECK(options->init_commands == std::vector<std::string>{"SET @a = 1", "SET @b = 2"});
}

TEST_CASE("ssl_verify_server_cert=true alone means ssl_mode VERIFY_IDENTITY", "[mysql][options]") {
  absl::StatusOr<MyOptions> options = Build({{"ssl_verify_server_cert", "1"}});
  REQUIRE(options.ok());
  CHECK(options->ssl_mode == SslMode::kVerifyIdentity);
  CHECK(RequiresTls(*options));
  options = Build({{"ssl_verify_server_cert", "true"}, {"ssl_mode", "VERIFY_CA"}});
  REQUIRE(options.ok());
  CHECK(options->ssl_mode == SslMode::kVerifyCa);
}

TEST_CASE("ssl_verify_server_cert conflicting with ssl_mode is rejected naming both",
          "[mysql][options]") {
  CHECK(ErrorOf({{"ssl_verify_server_cert", "true"}, {"ssl_mode", "REQUIRED"}}) ==
        "dbpool: options ssl_verify_server_cert=true and ssl_mode=REQUIRED conflict; use "
        "ssl_mode=VERIFY_CA or VERIFY_IDENTITY");
  CHECK(ErrorOf({{"ssl_verify_server_cert", "false"}, {"ssl_mode", "VERIFY_IDENTITY"}}) ==
        "dbpool: options ssl_verify_server_cert=false and ssl_mode=VERIFY_IDENTITY conflict; "
        "drop ssl_verify_server_cert or use ssl_mode=REQUIRED");
  CHECK(Build({{"ssl_verify_server_cert", "false"}, {"ssl_mode", "PREFERRED"}}).ok());
}

TEST_CASE("TLS files with ssl_mode=DISABLED are rejected naming the option", "[mysql][options]") {
  const TempTlsDir tls;
  CHECK(ErrorOf({{"ssl_ca", tls.file()}, {"ssl_mode", "DISABLED"}}) ==
        "dbpool: option ssl_ca is set but ssl_mode is DISABLED; drop one of them");
  CHECK(absl::StartsWith(ErrorOf({{"ssl_mode", "DISABLED"}, {"tls_version", "TLSv1.3"}}),
                         "dbpool: option tls_version is set but ssl_mode is DISABLED"));
}

TEST_CASE("TLS paths that cannot be read are rejected at build time", "[mysql][options]") {
  const TempTlsDir tls;
  CHECK(ErrorOf({{"ssl_ca", "/nonexistent/ca.pem"}}) ==
        "dbpool: option \"ssl_ca\": cannot read \"/nonexistent/ca.pem\": No such file or "
        "directory");
  CHECK(ErrorOf({{"ssl_cert", tls.dir()}}) ==
        "dbpool: option \"ssl_cert\": cannot read \"" + tls.dir() + "\": a directory, not a file");
  CHECK(ErrorOf({{"ssl_capath", tls.file()}}) ==
        "dbpool: option \"ssl_capath\": cannot read \"" + tls.file() + "\": not a directory");
  CHECK(absl::StartsWith(ErrorOf({{"ssl_key", "/nonexistent/k.pem"}}),
                         "dbpool: option \"ssl_key\": cannot read"));
}

TEST_CASE("only REQUIRED and the VERIFY modes require TLS after connecting", "[mysql][options]") {
  const std::pair<const char*, bool> kCases[] = {{"DISABLED", false},
                                                 {"PREFERRED", false},
                                                 {"REQUIRED", true},
                                                 {"VERIFY_CA", true},
                                                 {"VERIFY_IDENTITY", true}};
  for (const auto& [mode, required] : kCases) {
    absl::StatusOr<MyOptions> options = Build({{"ssl_mode", mode}});
    REQUIRE(options.ok());
    CHECK(SslModeName(options->ssl_mode) == mode);
    CHECK(RequiresTls(*options) == required);
  }
  CHECK_FALSE(RequiresTls(MyOptions{}));
}

TEST_CASE("the connect timeout is the remaining time rounded up, capped by connect_timeout",
          "[mysql][options]") {
  MyOptions options;
  CHECK(ConnectTimeoutSeconds(options, absl::Milliseconds(700)) == 1u);
  CHECK(ConnectTimeoutSeconds(options, absl::Seconds(5)) == 5u);
  CHECK(ConnectTimeoutSeconds(options, absl::Milliseconds(5001)) == 6u);
  CHECK(ConnectTimeoutSeconds(options, absl::ZeroDuration()) == 1u);
  CHECK(ConnectTimeoutSeconds(options, -absl::Seconds(3)) == 1u);
  CHECK(ConnectTimeoutSeconds(options, absl::InfiniteDuration()) == 86400u);
  options.connect_timeout = 2;
  CHECK(ConnectTimeoutSeconds(options, absl::Seconds(10)) == 2u);
  CHECK(ConnectTimeoutSeconds(options, absl::Milliseconds(1500)) == 2u);
  CHECK(ConnectTimeoutSeconds(options, absl::Milliseconds(300)) == 1u);
}

TEST_CASE("the client library accepts every option the mapping sets", "[mysql][options]") {
  const TempTlsDir tls;
  REQUIRE(EnsureLibraryInit().ok());
  EnsureThreadInit();
  const std::vector<std::vector<std::pair<std::string, std::string>>> kSets = {
      {},
      {{"connect_timeout", "3"},
       {"read_timeout", "4"},
       {"write_timeout", "5"},
       {"charset", "utf8mb4"},
       {"init_command", "SET @a = 1"},
       {"init_command", "SET @b = 2"},
       {"compress", "1"}},
      {{"ssl_mode", "DISABLED"}},
      {{"ssl_mode", "PREFERRED"}, {"tls_version", "TLSv1.2,TLSv1.3"}},
      {{"ssl_mode", "REQUIRED"}, {"ssl_cipher", "ECDHE-RSA-AES256-GCM-SHA384"}},
      {{"ssl_mode", "VERIFY_CA"}, {"ssl_ca", tls.file()}},
      {{"ssl_mode", "VERIFY_IDENTITY"},
       {"ssl_capath", tls.dir()},
       {"ssl_cert", tls.file()},
       {"ssl_key", tls.file()}},
      {{"ssl_verify_server_cert", "0"}},
  };
  for (const auto& set : kSets) {
    absl::StatusOr<MyOptions> options = Build(set);
    REQUIRE(options.ok());
    std::unique_ptr<MYSQL, MysqlCloser> mysql(mysql_init(nullptr));
    REQUIRE(mysql != nullptr);
    absl::Status applied = ApplyOptions(*options, mysql.get());
    INFO(applied.ToString());
    CHECK(applied.ok());
    CHECK(ApplyConnectTimeout(*options, absl::Seconds(2), mysql.get()).ok());
  }
}

}  // namespace
}  // namespace mysql_internal
}  // namespace dbpool
