// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// From builder settings to libpq connection parameters and endpoints.
#ifndef DBPOOL_POSTGRES_PG_CONNINFO_H_
#define DBPOOL_POSTGRES_PG_CONNINFO_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dbpool/driver.h"

namespace dbpool {
namespace postgres_internal {

// libpq keyword/value pairs, each keyword at most once.
using PgKeywords = std::vector<std::pair<std::string, std::string>>;

// The value of `key` in `keywords`, or null.
const std::string* FindKeyword(const PgKeywords& keywords, absl::string_view key);

// Sets `key` to `value`: in place if it is there, else at the end.
void SetKeyword(PgKeywords* keywords, absl::string_view key, absl::string_view value);

// libpq keyword/value pairs (no host, hostaddr or port: the pool supplies
// those per endpoint) and the endpoints, in preference order.
struct PgConnectParams {
  PgKeywords keywords;
  std::vector<Endpoint> endpoints;
  // Keywords whose DSN value may hold password text although the DSN
  // parsed (the one after a password in a key=value string or a URI
  // query: an unquoted space or unencoded '&' splits a password there).
  // Their values are never shown; see IsHiddenKeyword().
  absl::flat_hash_set<std::string> tainted;
};

// Whether libpq flags `key` as a secret (PQconndefaults() dispchar "*":
// password, sslpassword): its value is never shown.
bool IsSecretKeyword(absl::string_view key);

// Whether the value of `key` must never be shown in a message: a secret
// keyword, or one in params.tainted.
bool IsHiddenKeyword(const PgConnectParams& params, absl::string_view key);

// Parses settings.dsn with PQconninfoParse (a URI or key=value string),
// merges the explicit settings over it (they win), checks option() keys
// against libpq's known keywords, and splits the hosts into endpoints
// (builder endpoints first).
//
// Errors: kInvalidArgument. For option() keys, "dbpool: option("KEY"): ...".
// For the DSN, "dbpool: dsn: <problem> at position <N>", N being the 0-based
// offset in settings.dsn of the problem (libpq's words, with the text it
// quotes escaped): the key libpq refuses (found the way libpq reads it:
// percent-decoded URI query keys, quoted key=value values), the bad '%', the
// unmatched '[' or the opening quote of an unterminated string; for hosts and
// ports, the list item (URI) or the value (query, key=value). Should libpq
// report a problem dbpool does not expect (another libpq version, a
// translated message), the message is dbpool's own and N is where dbpool
// sees a problem, or 0.
//
// The password never appears: text that may be part of one is replaced by a
// note, namely in a URI anything up to its last '@' (libpq ends the user info
// at the first '@', a password holding '@', '/' or '?' unencoded means a
// later one), values of secret keywords (IsSecretKeyword()), and the key
// right after such a value (an unquoted space or unencoded '&' in a password
// splits it). A URI that libpq parses but whose last '@' is not the one
// ending the user info is refused ("percent-encode", at the position of the
// first such '@'), so a successful parse never has password text in an
// endpoint host, the database or a query value; a key=value value after a
// secret one is listed in PgConnectParams::tainted.
//
// Also kInvalidArgument: a NUL byte in database(), user(), password(), an
// option() value or an endpoint host (naming the knob); an endpoint host
// with ',' or stray brackets ("[v6]" is taken as "v6"); more than
// kMaxEndpoints endpoints; a target_session_attrs other than any,
// read-write or primary (those are dropped: the pool routes by role and
// the driver passes target_session_attrs=any).
//
// Defaults added unless given: keepalives=1, keepalives_idle=30,
// keepalives_interval=10, keepalives_count=3, tcp_user_timeout=30000 (ms).
absl::StatusOr<PgConnectParams> BuildPgConnectParams(const ConnectSettings& settings);

// CheckPgEnvironment()
//
// What libpq would take from the environment to redirect connections,
// refused (kInvalidArgument naming the variable): PGHOSTADDR (every
// endpoint would connect to that one address), a PGSERVICE file that sets
// hostaddr, and with `require_tls` any PGSERVICE or `service` keyword (a
// service file's settings are not the pool's). Called at build() and again
// at each connect, since the environment can change.
absl::Status CheckPgEnvironment(const PgConnectParams& params, bool require_tls);

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_CONNINFO_H_
