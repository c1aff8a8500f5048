// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Option key -> mysql_options() mapping, and its validation.
#include "mysql/my_options.h"

#include <mysql.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "mysql/my_compat.h"

namespace dbpool {
namespace mysql_internal {
namespace {

constexpr unsigned int kMaxTimeoutSeconds = 86400;

// Sorted; KnownOptionKeys() hands it out.
constexpr absl::string_view kKeys[] = {
    "charset",
    "compress",
    "connect_timeout",
    "init_command",
    "keepalives_count",
    "keepalives_idle",
    "keepalives_interval",
    "read_timeout",
    "restricted_auth",
    "ssl_ca",
    "ssl_capath",
    "ssl_cert",
    "ssl_cipher",
    "ssl_key",
    "ssl_mode",
    "ssl_verify_server_cert",
    "tcp_keepalive",
    "tcp_user_timeout",
    "tls_version",
    "write_timeout",
};

// The client authentication plugins that never send the password itself:
// the default of restricted_auth.
constexpr absl::string_view kHashingPlugins =
    "mysql_native_password,client_ed25519,caching_sha2_password,sha256_password";

constexpr absl::string_view kSslModes[] = {"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA",
                                           "VERIFY_IDENTITY"};

// "charset", "ssl_mode": lower case, '-' as '_'.
std::string CanonicalKey(absl::string_view key) {
  std::string out = absl::AsciiStrToLower(key);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

// Why a DSN option is named by its position alone (DsnPosition).
constexpr absl::string_view kNotShown =
    "; its key and value are not shown since it starts before the DSN's last '@' and may be part "
    "of the password (percent-encode '@', '/' and '?' in a password)";

// "dbpool: dsn: option at position <position> <what>; its key and value ...".
absl::Status HiddenOptionError(size_t position, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("dbpool: dsn: option at position ", position, " ", what, kNotShown));
}

// Builds messages of the form
//   dbpool: option "read_timeout": "abc" is not ...
//   dbpool: dsn: option "read_timeout" at position 40: "abc" is not ...
// or, for a DSN option that may hold a secret, only
//   dbpool: dsn: option at position 40 is unknown or invalid; its key ...
class OptionErrors {
 public:
  OptionErrors(absl::string_view key, const OptionSource& source)
      : hidden_(source.from_dsn && source.position.may_hold_secret),
        position_(source.position.offset),
        prefix_(absl::StrCat("dbpool: ", source.from_dsn ? "dsn: " : "", "option \"", key, "\"",
                             source.from_dsn ? absl::StrCat(" at position ", position_) : "")) {}

  absl::Status Unknown() const {
    if (hidden_) return Hidden();
    return absl::InvalidArgumentError(
        absl::StrCat(prefix_, " is unknown; known keys: ", absl::StrJoin(KnownOptionKeys(), ", ")));
  }

  // A path that cannot be used, with the reason.
  absl::Status Unreadable(absl::string_view path, absl::string_view reason) const {
    if (hidden_) return Hidden();
    return absl::InvalidArgumentError(
        absl::StrCat(prefix_, ": cannot read \"", path, "\": ", reason));
  }

  // `value` is quoted; `expected` says what is allowed.
  absl::Status BadValue(absl::string_view value, absl::string_view expected) const {
    if (hidden_) return Hidden();
    return absl::InvalidArgumentError(
        absl::StrCat(prefix_, ": invalid value \"", value, "\"; expected ", expected));
  }

 private:
  // Even what the key allows would tell what the key is.
  absl::Status Hidden() const { return HiddenOptionError(position_, "is unknown or invalid"); }

  bool hidden_;
  size_t position_;
  std::string prefix_;  // after position_, which it uses
};

// A whole number of `unit` in [min, max], digits only.
absl::Status ParseWhole(absl::string_view value, const OptionErrors& errors, int min, int max,
                        absl::string_view unit, int* out) {
  const std::string expected = absl::StrCat("a whole number of ", unit, " in ", min, "..", max);
  int n = 0;
  if (value.empty() ||
      !std::all_of(value.begin(), value.end(),
                   [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) ||
      !absl::SimpleAtoi(value, &n) || n < min || n > max) {
    return errors.BadValue(value, expected);
  }
  *out = n;
  return absl::OkStatus();
}

absl::Status ParseSeconds(absl::string_view value, const OptionErrors& errors,
                          std::optional<unsigned int>* out) {
  int seconds = 0;
  if (absl::Status s =
          ParseWhole(value, errors, 1, static_cast<int>(kMaxTimeoutSeconds), "seconds", &seconds);
      !s.ok()) {
    return s;
  }
  *out = static_cast<unsigned int>(seconds);
  return absl::OkStatus();
}

absl::Status ParseBool(absl::string_view value, const OptionErrors& errors, bool* out) {
  const std::string v = absl::AsciiStrToLower(value);
  if (v == "1" || v == "true" || v == "on" || v == "yes") {
    *out = true;
  } else if (v == "0" || v == "false" || v == "off" || v == "no") {
    *out = false;
  } else {
    return errors.BadValue(value, "1, 0, true, false, on, off, yes or no");
  }
  return absl::OkStatus();
}

absl::Status ParseText(absl::string_view value, const OptionErrors& errors,
                       absl::string_view expected, std::string* out) {
  if (value.empty() || absl::StrContains(value, '\0')) return errors.BadValue(value, expected);
  *out = std::string(value);
  return absl::OkStatus();
}

// A file (or, with `directory`, a directory) that exists and is readable
// now: a typo in a certificate path fails build(), not every connect.
absl::Status ParsePath(absl::string_view value, const OptionErrors& errors, bool directory,
                       std::string* out) {
  std::string path;
  if (absl::Status s =
          ParseText(value, errors, directory ? "a directory path" : "a file path", &path);
      !s.ok()) {
    return s;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errors.Unreadable(path, std::strerror(errno));
  if (directory && !S_ISDIR(st.st_mode)) return errors.Unreadable(path, "not a directory");
  if (!directory && S_ISDIR(st.st_mode)) return errors.Unreadable(path, "a directory, not a file");
  if (::access(path.c_str(), R_OK) != 0) return errors.Unreadable(path, std::strerror(errno));
  *out = std::move(path);
  return absl::OkStatus();
}

absl::Status ParseSslMode(absl::string_view value, const OptionErrors& errors, SslMode* out) {
  std::string v = absl::AsciiStrToUpper(value);
  std::replace(v.begin(), v.end(), '-', '_');
  for (size_t i = 0; i < sizeof(kSslModes) / sizeof(kSslModes[0]); ++i) {
    if (v == kSslModes[i]) {
      *out = static_cast<SslMode>(i + 1);
      return absl::OkStatus();
    }
  }
  return errors.BadValue(value, "DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY");
}

absl::Status ParseTlsVersion(absl::string_view value, const OptionErrors& errors,
                             std::string* out) {
  constexpr absl::string_view kExpected =
      "TLSv1.2, TLSv1.3 or both, comma-separated (older versions are insecure and unsupported)";
  bool v12 = false;
  bool v13 = false;
  for (absl::string_view item : absl::StrSplit(value, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (absl::EqualsIgnoreCase(item, "TLSv1.2")) {
      v12 = true;
    } else if (absl::EqualsIgnoreCase(item, "TLSv1.3")) {
      v13 = true;
    } else {
      return errors.BadValue(value, kExpected);
    }
  }
  *out = v12 && v13 ? "TLSv1.2,TLSv1.3" : v12 ? "TLSv1.2" : "TLSv1.3";
  return absl::OkStatus();
}

absl::Status SetString(MYSQL* mysql, mysql_option option, const std::string& value,
                       absl::string_view key) {
  if (value.empty()) return absl::OkStatus();
  if (mysql_options(mysql, option, value.c_str()) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("dbpool: the MySQL client library refused option ", key));
  }
  return absl::OkStatus();
}

absl::Status SetUint(MYSQL* mysql, mysql_option option, std::optional<unsigned int> value,
                     absl::string_view key) {
  if (!value.has_value()) return absl::OkStatus();
  const unsigned int v = *value;
  if (mysql_options(mysql, option, &v) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("dbpool: the MySQL client library refused option ", key));
  }
  return absl::OkStatus();
}

#if defined(DBPOOL_MYSQL_MARIADB_CC) || defined(DBPOOL_MYSQL_SET_RECONNECT)
absl::Status SetFlag(MYSQL* mysql, mysql_option option, bool value, absl::string_view key) {
  const MyBool v = value ? 1 : 0;
  if (mysql_options(mysql, option, &v) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("dbpool: the MySQL client library refused option ", key));
  }
  return absl::OkStatus();
}
#endif

// The TLS settings: see docs/mysql.md for what each library does.
absl::Status ApplyTls(const MyOptions& o, MYSQL* mysql) {
#if defined(DBPOOL_MYSQL_MARIADB_CC)
  // Connector/C has no ssl_mode. MYSQL_OPT_SSL_ENFORCE asks for TLS but (in
  // 3.3) falls back to plaintext when the server offers none; only
  // MYSQL_OPT_SSL_VERIFY_SERVER_CERT makes that an error, and it checks the
  // chain and the host name together. REQUIRED is enforced by the driver
  // after connecting (RequiresTls()).
  switch (o.ssl_mode) {
    case SslMode::kUnset:
      if (o.ssl_verify_server_cert.has_value()) {  // only false gets here
        return SetFlag(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, *o.ssl_verify_server_cert,
                       "ssl_verify_server_cert");
      }
      return absl::OkStatus();
    case SslMode::kDisabled:
      if (absl::Status s = SetFlag(mysql, MYSQL_OPT_SSL_ENFORCE, false, "ssl_mode"); !s.ok()) {
        return s;
      }
      return SetFlag(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, false, "ssl_mode");
    case SslMode::kPreferred:
    case SslMode::kRequired:
      if (absl::Status s = SetFlag(mysql, MYSQL_OPT_SSL_ENFORCE, true, "ssl_mode"); !s.ok()) {
        return s;
      }
      return SetFlag(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, false, "ssl_mode");
    case SslMode::kVerifyCa:
    case SslMode::kVerifyIdentity:
      if (absl::Status s = SetFlag(mysql, MYSQL_OPT_SSL_ENFORCE, true, "ssl_mode"); !s.ok()) {
        return s;
      }
      return SetFlag(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, true, "ssl_mode");
  }
  return absl::OkStatus();
#elif defined(DBPOOL_MYSQL_HAVE_SSL_MODE)
  unsigned int mode = 0;
  switch (o.ssl_mode) {
    case SslMode::kUnset:
      return absl::OkStatus();  // verification is off by default here
    case SslMode::kDisabled:
      mode = SSL_MODE_DISABLED;
      break;
    case SslMode::kPreferred:
      mode = SSL_MODE_PREFERRED;
      break;
    case SslMode::kRequired:
      mode = SSL_MODE_REQUIRED;
      break;
    case SslMode::kVerifyCa:
      mode = SSL_MODE_VERIFY_CA;
      break;
    case SslMode::kVerifyIdentity:
      mode = SSL_MODE_VERIFY_IDENTITY;
      break;
  }
  return SetUint(mysql, MYSQL_OPT_SSL_MODE, mode, "ssl_mode");
#else
  (void)o;
  (void)mysql;
  return absl::OkStatus();  // FinishOptions() refused TLS modes on this build
#endif
}

// SetOption() for the canonical key `k`, without the bookkeeping.
absl::Status Store(const std::string& k, absl::string_view value, const OptionErrors& errors,
                   MyOptions* options) {
  MyOptions& o = *options;
  if (k == "connect_timeout") return ParseSeconds(value, errors, &o.connect_timeout);
  if (k == "read_timeout") return ParseSeconds(value, errors, &o.read_timeout);
  if (k == "write_timeout") return ParseSeconds(value, errors, &o.write_timeout);
  if (k == "charset") {
    if (value.empty() || value.size() > 64 || !std::all_of(value.begin(), value.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      return errors.BadValue(value, "a character set name such as utf8mb4 ([A-Za-z0-9_]+)");
    }
    o.charset = std::string(value);
    return absl::OkStatus();
  }
  if (k == "init_command") {
    std::string sql;
    if (absl::Status s = ParseText(value, errors, "a non-empty SQL statement", &sql); !s.ok()) {
      return s;
    }
    o.init_commands.push_back(std::move(sql));
    return absl::OkStatus();
  }
  if (k == "compress") return ParseBool(value, errors, &o.compress);
  if (k == "tcp_keepalive") return ParseBool(value, errors, &o.tcp_keepalive);
  // The kernel's bounds (TCP_KEEPIDLE and TCP_KEEPINTVL 32767 s, TCP_KEEPCNT
  // 127); tcp_user_timeout up to a day.
  if (k == "keepalives_idle") {
    return ParseWhole(value, errors, 1, 32767, "seconds", &o.keepalive.idle_seconds);
  }
  if (k == "keepalives_interval") {
    return ParseWhole(value, errors, 1, 32767, "seconds", &o.keepalive.interval_seconds);
  }
  if (k == "keepalives_count") {
    return ParseWhole(value, errors, 1, 127, "probes", &o.keepalive.count);
  }
  if (k == "tcp_user_timeout") {
    return ParseWhole(value, errors, 0, 86400000, "milliseconds", &o.keepalive.user_timeout_ms);
  }
  if (k == "ssl_mode") return ParseSslMode(value, errors, &o.ssl_mode);
  if (k == "ssl_verify_server_cert") {
    bool verify = false;
    if (absl::Status s = ParseBool(value, errors, &verify); !s.ok()) return s;
    o.ssl_verify_server_cert = verify;
    return absl::OkStatus();
  }
  if (k == "ssl_ca") return ParsePath(value, errors, /*directory=*/false, &o.ssl_ca);
  if (k == "ssl_capath") return ParsePath(value, errors, /*directory=*/true, &o.ssl_capath);
  if (k == "ssl_cert") return ParsePath(value, errors, /*directory=*/false, &o.ssl_cert);
  if (k == "ssl_key") return ParsePath(value, errors, /*directory=*/false, &o.ssl_key);
  if (k == "ssl_cipher") return ParseText(value, errors, "a cipher list", &o.ssl_cipher);
  if (k == "tls_version") return ParseTlsVersion(value, errors, &o.tls_version);
  if (k == "restricted_auth") {
    constexpr absl::string_view kExpected =
        "a comma-separated list of client authentication plugin names ([a-z0-9_]+), such as "
        "mysql_native_password,caching_sha2_password";
    if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) {
          return absl::ascii_islower(static_cast<unsigned char>(c)) ||
                 absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_' || c == ',';
        })) {
      return errors.BadValue(value, kExpected);
    }
#if !defined(DBPOOL_MYSQL_HAVE_RESTRICTED_AUTH)
    return errors.BadValue(value,
                           "nothing: this client library has no MARIADB_OPT_RESTRICTED_AUTH");
#else
    o.restricted_auth = std::string(value);
    return absl::OkStatus();
#endif
  }
  return errors.Unknown();
}

// The offset of the DSN option that last set `key`, when that option may
// hold a secret.
std::optional<size_t> HiddenPosition(const MyOptions& o, absl::string_view key) {
  for (const auto& [hidden_key, position] : o.hidden_keys) {
    if (hidden_key == key) return position;
  }
  return std::nullopt;
}

// The error "option at position N <what>" when `a` or `b` was set by a DSN
// option that may hold a secret: a message naming them would tell what that
// part of the password says.
std::optional<absl::Status> HiddenError(const MyOptions& o, absl::string_view a,
                                        absl::string_view b, absl::string_view what) {
  for (absl::string_view key : {a, b}) {
    if (std::optional<size_t> position = HiddenPosition(o, key)) {
      return HiddenOptionError(*position, what);
    }
  }
  return std::nullopt;
}

}  // namespace

absl::string_view SslModeName(SslMode mode) {
  if (mode == SslMode::kUnset) return "";
  return kSslModes[static_cast<int>(mode) - 1];
}

absl::Span<const absl::string_view> KnownOptionKeys() { return absl::MakeConstSpan(kKeys); }

absl::Status SetOption(absl::string_view key, absl::string_view value, const OptionSource& source,
                       MyOptions* options) {
  const std::string k = CanonicalKey(key);
  if (absl::Status s = Store(k, value, OptionErrors(key, source), options); !s.ok()) return s;
  std::vector<std::pair<std::string, size_t>>& hidden = options->hidden_keys;
  hidden.erase(std::remove_if(hidden.begin(), hidden.end(),
                              [&k](const auto& entry) { return entry.first == k; }),
               hidden.end());
  if (source.from_dsn && source.position.may_hold_secret) {
    hidden.emplace_back(k, source.position.offset);
  }
  return absl::OkStatus();
}

absl::Status FinishOptions(MyOptions* options) {
  constexpr absl::string_view kConflict = "conflicts with another option";
  MyOptions& o = *options;
  if (o.ssl_verify_server_cert.has_value()) {
    const bool verify = *o.ssl_verify_server_cert;
    const bool mode_verifies =
        o.ssl_mode == SslMode::kVerifyCa || o.ssl_mode == SslMode::kVerifyIdentity;
    if (o.ssl_mode != SslMode::kUnset && verify != mode_verifies) {
      if (auto hidden = HiddenError(o, "ssl_verify_server_cert", "ssl_mode", kConflict)) {
        return *hidden;
      }
      return absl::InvalidArgumentError(
          absl::StrCat("dbpool: options ssl_verify_server_cert=", verify ? "true" : "false",
                       " and ssl_mode=", SslModeName(o.ssl_mode), " conflict; ",
                       verify ? "use ssl_mode=VERIFY_CA or VERIFY_IDENTITY"
                              : "drop ssl_verify_server_cert or use ssl_mode=REQUIRED"));
    }
    if (verify && o.ssl_mode == SslMode::kUnset) o.ssl_mode = SslMode::kVerifyIdentity;
  }
  if (o.ssl_mode == SslMode::kDisabled) {
    const std::pair<absl::string_view, const std::string*> tls_options[] = {
        {"ssl_ca", &o.ssl_ca},   {"ssl_capath", &o.ssl_capath}, {"ssl_cert", &o.ssl_cert},
        {"ssl_key", &o.ssl_key}, {"ssl_cipher", &o.ssl_cipher}, {"tls_version", &o.tls_version}};
    for (const auto& [name, value] : tls_options) {
      if (!value->empty()) {
        if (auto hidden = HiddenError(o, name, "ssl_mode", kConflict)) return *hidden;
        return absl::InvalidArgumentError(absl::StrCat(
            "dbpool: option ", name, " is set but ssl_mode is DISABLED; drop one of them"));
      }
    }
  }
#if !defined(DBPOOL_MYSQL_MARIADB_CC) && !defined(DBPOOL_MYSQL_HAVE_SSL_MODE)
  if (o.ssl_mode != SslMode::kUnset) {
    if (auto hidden = HiddenError(o, "ssl_mode", "ssl_verify_server_cert",
                                  "needs MySQL client library 5.7.11 or later, or MariaDB "
                                  "Connector/C")) {
      return *hidden;
    }
    return absl::InvalidArgumentError(
        "dbpool: option ssl_mode needs MySQL client library 5.7.11 or later, or MariaDB "
        "Connector/C");
  }
#endif
  return absl::OkStatus();
}

bool RequiresTls(const MyOptions& options) {
  return options.ssl_mode == SslMode::kRequired || options.ssl_mode == SslMode::kVerifyCa ||
         options.ssl_mode == SslMode::kVerifyIdentity;
}

absl::Status ApplyOptions(const MyOptions& o, MYSQL* mysql) {
#if defined(DBPOOL_MYSQL_SET_RECONNECT)
  // A silent reconnect would lose the session (and any transaction) behind
  // the pool's back. Off is the default; say so explicitly anyway.
  if (absl::Status s = SetFlag(mysql, MYSQL_OPT_RECONNECT, false, "reconnect"); !s.ok()) return s;
#endif
  if (absl::Status s = SetUint(mysql, MYSQL_OPT_READ_TIMEOUT, o.read_timeout, "read_timeout");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetUint(mysql, MYSQL_OPT_WRITE_TIMEOUT, o.write_timeout, "write_timeout");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetString(mysql, MYSQL_SET_CHARSET_NAME, o.charset, "charset"); !s.ok()) {
    return s;
  }
  for (const std::string& sql : o.init_commands) {
    if (absl::Status s = SetString(mysql, MYSQL_INIT_COMMAND, sql, "init_command"); !s.ok()) {
      return s;
    }
  }
  if (o.compress && mysql_options(mysql, MYSQL_OPT_COMPRESS, nullptr) != 0) {
    return absl::InvalidArgumentError("dbpool: the MySQL client library refused option compress");
  }
  const std::pair<mysql_option, std::pair<absl::string_view, const std::string*>> files[] = {
      {MYSQL_OPT_SSL_CA, {"ssl_ca", &o.ssl_ca}},
      {MYSQL_OPT_SSL_CAPATH, {"ssl_capath", &o.ssl_capath}},
      {MYSQL_OPT_SSL_CERT, {"ssl_cert", &o.ssl_cert}},
      {MYSQL_OPT_SSL_KEY, {"ssl_key", &o.ssl_key}},
      {MYSQL_OPT_SSL_CIPHER, {"ssl_cipher", &o.ssl_cipher}},
      {MYSQL_OPT_TLS_VERSION, {"tls_version", &o.tls_version}},
  };
  for (const auto& [option, named] : files) {
    if (absl::Status s = SetString(mysql, option, *named.second, named.first); !s.ok()) return s;
  }
#if defined(DBPOOL_MYSQL_HAVE_RESTRICTED_AUTH)
  // Without it, a server (or a man in the middle, when TLS is not
  // verified) can switch to mysql_clear_password and receive the password.
  const std::string restricted =
      o.restricted_auth.empty() ? std::string(kHashingPlugins) : o.restricted_auth;
  if (absl::Status s = SetString(mysql, MARIADB_OPT_RESTRICTED_AUTH, restricted, "restricted_auth");
      !s.ok()) {
    return s;
  }
#endif
  return ApplyTls(o, mysql);
}

absl::Status ApplyTcpKeepalive(int fd, const MyOptions::Keepalive& keepalive) {
  const std::pair<int, std::pair<int, int>> settings[] = {
      {SOL_SOCKET, {SO_KEEPALIVE, 1}},
      {IPPROTO_TCP, {TCP_KEEPIDLE, keepalive.idle_seconds}},
      {IPPROTO_TCP, {TCP_KEEPINTVL, keepalive.interval_seconds}},
      {IPPROTO_TCP, {TCP_KEEPCNT, keepalive.count}},
      {IPPROTO_TCP, {TCP_USER_TIMEOUT, keepalive.user_timeout_ms}},
  };
  for (const auto& [level, option] : settings) {
    const int value = option.second;
    if (::setsockopt(fd, level, option.first, &value, sizeof(value)) != 0) {
      return absl::InternalError(absl::StrCat("dbpool: setsockopt(", option.first,
                                              ") for TCP keepalives: ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

unsigned int ConnectTimeoutSeconds(const MyOptions& options, absl::Duration remaining) {
  const double ceil_seconds = std::ceil(absl::ToDoubleSeconds(remaining));
  unsigned int seconds = kMaxTimeoutSeconds;
  if (ceil_seconds < static_cast<double>(kMaxTimeoutSeconds)) {
    seconds = static_cast<unsigned int>(std::max(1.0, ceil_seconds));
  }
  if (options.connect_timeout.has_value()) seconds = std::min(seconds, *options.connect_timeout);
  return seconds;
}

absl::Status ApplyConnectTimeout(const MyOptions& options, absl::Duration remaining, MYSQL* mysql) {
  return SetUint(mysql, MYSQL_OPT_CONNECT_TIMEOUT, ConnectTimeoutSeconds(options, remaining),
                 "connect_timeout");
}

}  // namespace mysql_internal
}  // namespace dbpool
