// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Fuzzes what MySqlPool::Builder::build() validates before it starts
// anything: MySql::make_driver() with fuzzed endpoints, options, credentials
// and DSN (input format: builder_input.h). The DSN lines dsn-user,
// dsn-password and dsn-rest make
//   mysql://USER:PASSWORD<secret>PASSWORD_END@REST
// and the password() line carries the secret too.
//
// Contract (dbpool/mysql.h, my_params.h): success, with the builder's
// endpoints followed by the DSN's; or kInvalidArgument that is the DSN
// parser's own error (with its position) when the DSN is malformed, and
// otherwise names what is wrong: an option key (or a DSN option's position),
// an endpoint, or the user, password or database holding a NUL byte. The
// secret never appears.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "builder_input.h"
#include "dbpool/mysql.h"
#include "fuzz_contract.h"
#include "mysql/my_dsn.h"
#include "mysql/my_options.h"

namespace dbpool_fuzz {
namespace {

// "ssl_mode" for "SSL-Mode": how messages about option conflicts name keys.
std::string Canonical(absl::string_view key) {
  std::string out = absl::AsciiStrToLower(key);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

bool NamesAKey(absl::string_view message, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    if (absl::StrContains(message, absl::StrCat("option \"", key, "\""))) return true;
    // Conflicts between options (FinishOptions) name them canonically.
    const std::string canonical = Canonical(key);
    for (absl::string_view known : dbpool::mysql_internal::KnownOptionKeys()) {
      if (canonical == known && absl::StrContains(message, known)) return true;
    }
  }
  return false;
}

void Check(const dbpool::ConnectSettings& settings, absl::string_view input) {
  const absl::StatusOr<dbpool::DriverSetup> setup = dbpool::MySql::make_driver(settings);
  const absl::StatusOr<dbpool::mysql_internal::ParsedDsn> dsn =
      dbpool::mysql_internal::ParseMySqlDsn(settings.dsn);
  if (setup.ok()) {
    if (!dsn.ok()) Fail("a malformed DSN is accepted", input, dsn.status());
    if (setup->driver == nullptr || setup->driver->name() != "mysql") {
      Fail("no mysql driver", input, setup.status());
    }
    std::vector<dbpool::Endpoint> want = settings.endpoints;
    want.insert(want.end(), dsn->endpoints.begin(), dsn->endpoints.end());
    if (want.empty() || setup->endpoints.size() != want.size()) {
      Fail("the endpoints are not the builder's followed by the DSN's", input, setup.status());
    }
    for (size_t i = 0; i < want.size(); ++i) {
      const dbpool::Endpoint& got = setup->endpoints[i];
      if (got.host != want[i].host || got.port != want[i].port) {
        Fail("the endpoints are not the builder's followed by the DSN's", input, setup.status());
      }
      if (got.host.empty() || got.port < 1 || got.port > 65535) {
        Fail("an invalid endpoint is accepted", input, setup.status());
      }
    }
    return;
  }
  const absl::Status& status = setup.status();
  CheckCommon(status, input);
  if (!dsn.ok()) {
    if (status != dsn.status()) Fail("a DSN error is not the parser's", input, status);
    return;
  }
  const absl::string_view message = status.message();
  std::vector<std::string> keys;
  for (const auto& o : dsn->options) keys.push_back(o.key);
  for (const auto& [key, value] : settings.options) keys.push_back(key);
  // A DSN option is named by its key or, where the key may be part of the
  // user info (before the last '@'), by its position alone.
  const bool dsn_option_by_position =
      absl::StartsWith(message, "dbpool: dsn: option") && PositionIn(message) >= 0;
  // require_tls() errors about the policy itself (no CA to trust) name it.
  if (NamesAKey(message, keys) || dsn_option_by_position ||
      absl::StartsWith(message, "dbpool: require_tls()") ||
      absl::StrContains(message, "endpoint") ||
      absl::StrContains(message, "user contains a NUL byte") ||
      absl::StrContains(message, "password contains a NUL byte") ||
      absl::StrContains(message, "database contains a NUL byte")) {
    return;
  }
  Fail("the message names no option key, endpoint or credential", input, status);
}

}  // namespace
}  // namespace dbpool_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dbpool_fuzz;  // NOLINT(build/namespaces)
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  BuilderInput in = ParseBuilderInput(input);
  if (in.spells_secret) return 0;
  if (in.secret_dsn()) {
    in.settings.dsn =
        absl::StrCat("mysql://", in.dsn_user.value_or("u"), ":", in.dsn_password.value_or(""),
                     kSecret, in.dsn_password_end.value_or(""), "@", in.dsn_rest.value_or("h"));
  }
  Check(in.settings, input);
  return 0;
}
