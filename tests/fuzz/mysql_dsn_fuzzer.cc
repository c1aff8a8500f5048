// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Fuzzes the mysql:// DSN parser (ParseMySqlDsn, src/mysql/my_dsn.h).
//
// Input: the DSN itself; or, when it starts with "secret:", four
// newline-separated fields USER, BEFORE, AFTER, REST that become
//   mysql://USER:BEFORE<secret>AFTER@REST
// so that a password is certainly present.
//
// Contract (my_dsn.h): a parse either succeeds with hosts that are not empty
// and ports in 1..65535, or fails with kInvalidArgument
// "dbpool: dsn: ... at position N", N being an offset in the DSN. Text up to
// the DSN's last '@' (the user info, hence the password) is never quoted, and
// the options that start there are marked as maybe holding the password.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "fuzz_contract.h"
#include "mysql/my_dsn.h"

namespace dbpool_fuzz {
namespace {

using dbpool::mysql_internal::ParsedDsn;
using dbpool::mysql_internal::ParseMySqlDsn;

// Where in `message` a quoted piece of the DSN starts: the DSN offset N when
// the message reads ...  "<dsn[N, N + len)>" at position N, else -1.
long QuotedDsnOffset(absl::string_view message, absl::string_view dsn, long position) {
  const size_t at = message.rfind(" at position ");
  if (at == absl::string_view::npos || at == 0 || message[at - 1] != '"') return -1;
  if (position < 0 || static_cast<size_t>(position) > dsn.size()) return -1;
  const absl::string_view tail = dsn.substr(static_cast<size_t>(position));
  for (size_t open = message.rfind('"', at - 2); open != absl::string_view::npos && open > 0;
       open = message.rfind('"', open - 1)) {
    const absl::string_view quoted = message.substr(open + 1, at - 1 - (open + 1));
    if (!quoted.empty() && absl::StartsWith(tail, quoted)) return position;
  }
  return -1;
}

void CheckParse(absl::string_view dsn) {
  const absl::StatusOr<ParsedDsn> parsed = ParseMySqlDsn(dsn);
  if (parsed.ok()) {
    for (const dbpool::Endpoint& e : parsed->endpoints) {
      if (e.host.empty()) Fail("a parsed endpoint has an empty host", dsn, parsed.status());
      if (e.port < 1 || e.port > 65535) {
        Fail(absl::StrCat("a parsed endpoint has port ", e.port), dsn, parsed.status());
      }
    }
    const size_t last_at = dsn.rfind('@');
    for (const dbpool::mysql_internal::DsnOption& o : parsed->options) {
      if (o.key.empty()) Fail("a parsed option has an empty key", dsn, parsed.status());
      const size_t at = o.position.offset;
      if (at >= dsn.size() || dsn[at] == '&' || dsn[at] == '=') {
        Fail(absl::StrCat("a parsed option has position ", at), dsn, parsed.status());
      }
      // Options starting where the password may be must say so, so that
      // messages about them (my_options.h) do not quote them.
      const bool may_hold_secret = last_at != absl::string_view::npos && at <= last_at;
      if (o.position.may_hold_secret != may_hold_secret) {
        Fail(absl::StrCat("the option at position ", at,
                          may_hold_secret ? " is not marked" : " is marked",
                          " as maybe holding the password"),
             dsn, parsed.status());
      }
    }
    if (parsed->password.has_value() && !parsed->user.has_value()) {
      Fail("a password without a user", dsn, parsed.status());
    }
    // The secret, put into the password, stays there: a password with an
    // unencoded '/', '?' or '@' must not parse into hosts, the database or
    // options (which messages show).
    for (const dbpool::Endpoint& e : parsed->endpoints) {
      if (HoldsSecret(e.host)) Fail("an endpoint host holds the password", dsn, parsed.status());
    }
    if (HoldsSecret(parsed->database.value_or("")) || HoldsSecret(parsed->user.value_or(""))) {
      Fail("the database or the user holds the password", dsn, parsed.status());
    }
    for (const dbpool::mysql_internal::DsnOption& o : parsed->options) {
      if (HoldsSecret(o.key) || HoldsSecret(o.value)) {
        Fail("an option holds the password", dsn, parsed.status());
      }
    }
    return;
  }
  const absl::Status& status = parsed.status();
  CheckCommon(status, dsn);
  const absl::string_view message = status.message();
  if (!absl::StartsWith(message, "dbpool: dsn: ")) {
    Fail("the message does not start with \"dbpool: dsn: \"", dsn, status);
  }
  const long position = PositionIn(message);
  if (position < 0 || static_cast<size_t>(position) > dsn.size()) {
    Fail("the message gives no position inside the DSN", dsn, status);
  }
  // The one message quoting something other than the DSN.
  if (absl::StartsWith(message, "dbpool: dsn: expected \"mysql://\" or \"mariadb://\"")) return;
  const size_t last_at = dsn.rfind('@');
  const long quoted = QuotedDsnOffset(message, dsn, position);
  if (last_at != absl::string_view::npos && quoted >= 0 && static_cast<size_t>(quoted) <= last_at) {
    Fail("the message quotes text before the last '@' (where the password is)", dsn, status);
  }
}

}  // namespace
}  // namespace dbpool_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dbpool_fuzz;  // NOLINT(build/namespaces)
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr absl::string_view kSecretMode = "secret:";
  if (!absl::StartsWith(input, kSecretMode)) {
    if (CouldSpellSecret(input)) return 0;
    CheckParse(input);
    return 0;
  }
  input.remove_prefix(kSecretMode.size());
  const std::vector<absl::string_view> f = SplitFields(input, 4);
  for (absl::string_view field : f) {
    if (CouldSpellSecret(field)) return 0;
  }
  CheckParse(absl::StrCat("mysql://", f[0], ":", f[1], kSecret, f[2], "@", f[3]));
  return 0;
}
