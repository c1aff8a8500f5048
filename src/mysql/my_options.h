// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The option keys of Builder::option() and of DSN queries, validated at
// build time and turned into mysql_options() calls at connect time.
#ifndef DBPOOL_MYSQL_MY_OPTIONS_H_
#define DBPOOL_MYSQL_MY_OPTIONS_H_

#include <mysql.h>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "mysql/my_dsn.h"

namespace dbpool {
namespace mysql_internal {

// The ssl_mode values, in the order of increasing strictness.
enum class SslMode { kUnset, kDisabled, kPreferred, kRequired, kVerifyCa, kVerifyIdentity };

// "DISABLED", ..., "VERIFY_IDENTITY"; "" for kUnset.
absl::string_view SslModeName(SslMode mode);

// Validated options, ready to apply. Unset optionals and empty strings mean
// the client library's default.
struct MyOptions {
  std::optional<unsigned int> connect_timeout;  // seconds
  std::optional<unsigned int> read_timeout;     // seconds
  std::optional<unsigned int> write_timeout;    // seconds
  std::string charset;
  std::vector<std::string> init_commands;  // in order
  bool compress = false;
  // TCP keepalives and TCP_USER_TIMEOUT on the connection's socket (see
  // ApplyTcpKeepalive()); tcp_keepalive=false leaves the kernel's defaults.
  bool tcp_keepalive = true;
  // Their values: options keepalives_idle, keepalives_interval,
  // keepalives_count and tcp_user_timeout (libpq's names and units).
  struct Keepalive {
    int idle_seconds = 30;        // silence before the first probe
    int interval_seconds = 10;    // between probes
    int count = 3;                // unanswered probes before the connection is dropped
    int user_timeout_ms = 30000;  // unacknowledged data (or probes); 0: the kernel's default
  };
  Keepalive keepalive;
  SslMode ssl_mode = SslMode::kUnset;
  std::optional<bool> ssl_verify_server_cert;
  std::string ssl_ca;
  std::string ssl_capath;
  std::string ssl_cert;
  std::string ssl_key;
  std::string ssl_cipher;
  std::string tls_version;  // canonical: "TLSv1.2", "TLSv1.3" or "TLSv1.2,TLSv1.3"
  // The authentication plugins the client may use; empty: the hashing ones
  // (mysql_native_password, client_ed25519, caching_sha2_password,
  // sha256_password), so that no server can ask for the password itself
  // (mysql_clear_password, dialog). MariaDB Connector/C 3.3+ only.
  std::string restricted_auth;

  // The canonical keys whose value was last set by a DSN option that may be
  // part of the user info (DsnPosition::may_hold_secret), with its offset:
  // FinishOptions() names those by position only.
  std::vector<std::pair<std::string, size_t>> hidden_keys;
};

// The known keys in their canonical spelling, sorted.
absl::Span<const absl::string_view> KnownOptionKeys();

// Where an option came from, for messages.
struct OptionSource {
  bool from_dsn = false;
  DsnPosition position;  // of the key in the DSN, when from_dsn
};

// SetOption()
//
// Validates one key=value and records it in *options (a later value
// replaces an earlier one, except init_command, which accumulates). Keys
// are case-insensitive and '-' equals '_'. Errors: kInvalidArgument naming
// the key (and, for a DSN option, its position) with the known keys or the
// allowed values; an unknown key's value is never quoted. A DSN option
// whose position may hold a secret (it starts before the DSN's last '@') is
// named by its position alone: neither its key nor its value is quoted, nor
// what the key would allow. ssl_ca, ssl_cert and ssl_key must name readable
// files, ssl_capath a readable directory, now.
absl::Status SetOption(absl::string_view key, absl::string_view value, const OptionSource& source,
                       MyOptions* options);

// FinishOptions()
//
// Checks the options together once all are set: ssl_verify_server_cert
// against ssl_mode (true with no ssl_mode becomes VERIFY_IDENTITY), and no
// certificate, key, cipher or TLS version with ssl_mode=DISABLED. Errors:
// kInvalidArgument naming both options, or only the position of one that
// came from a DSN option that may hold a secret (see SetOption()).
absl::Status FinishOptions(MyOptions* options);

// Whether a connection must end up encrypted (REQUIRED and VERIFY_*); the
// driver checks it after connecting, since some libraries fall back to
// plaintext silently.
bool RequiresTls(const MyOptions& options);

// ApplyOptions()
//
// The mysql_options() calls for `options` on a fresh handle,
// MYSQL_OPT_RECONNECT off where it can be set, and (MariaDB Connector/C
// 3.3+) MARIADB_OPT_RESTRICTED_AUTH: restricted_auth, or the hashing
// plugins. Timeouts other than
// read/write are set by ApplyConnectTimeout(). Errors: kInvalidArgument
// naming the option the library refused.
absl::Status ApplyOptions(const MyOptions& options, MYSQL* mysql);

// ApplyTcpKeepalive()
//
// On a connected TCP socket: SO_KEEPALIVE with `keepalive`'s values (by
// default probes after 30 s of silence, every 10 s, 3 of them, and
// TCP_USER_TIMEOUT 30 s), so that a dead or blackholed server fails a
// blocked call after about a minute instead of the kernel's hours. Errors:
// kInternal naming the socket option.
absl::Status ApplyTcpKeepalive(int fd, const MyOptions::Keepalive& keepalive = {});

// ApplyConnectTimeout()
//
// Sets MYSQL_OPT_CONNECT_TIMEOUT to the connect_timeout option or
// `remaining` rounded up to whole seconds, whichever is smaller (at least 1).
absl::Status ApplyConnectTimeout(const MyOptions& options, absl::Duration remaining, MYSQL* mysql);

// The timeout ApplyConnectTimeout() sets, in seconds.
unsigned int ConnectTimeoutSeconds(const MyOptions& options, absl::Duration remaining);

}  // namespace mysql_internal
}  // namespace dbpool

#endif  // DBPOOL_MYSQL_MY_OPTIONS_H_
