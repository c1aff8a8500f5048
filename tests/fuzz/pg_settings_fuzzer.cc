// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Fuzzes the PostgreSQL settings path, BuildPgConnectParams()
// (src/postgres/pg_conninfo.h): the DSN through PQconninfoParse, the host and
// port lists, and option() keys.
//
// Input, by its first bytes:
//   "options:" K=V lines      each line one Builder::option(K, V)
//   "uri-secret:" U\nB\nA\nR  postgresql://<U>:<B secret A>@R, user and
//                             password percent-encoded (so well formed)
//   "uri-raw-secret:" U\nB\nA\nR
//                             the same, user and password as written by hand:
//                             not encoded, only without the bytes that end
//                             libpq's user info ('@', '/'; ':' in the user)
//   "uri-any-secret:" U\nB\nA\nR
//                             the same, the password holding any byte but
//                             NUL: with an unencoded '@', '/' or '?' libpq
//                             reads part of it as hosts, ports, database or
//                             query, none of which may show it
//   "kv-secret:" B\nA\nR      password='<B secret A>' R, the password quoted
//   anything else             the DSN itself
//
// Contract (pg_conninfo.h): success, with non-empty hosts and ports in
// 1..65535, no host/hostaddr/port keyword left for libpq, and the secret in
// no host, no database and no value that may be shown; or
// kInvalidArgument naming the option key, or for a DSN "dbpool: dsn: ..."
// with the position of the problem (host and port lists included).
// The password never appears, whatever the rest of the DSN holds; in a URI
// that holds for any password (text before the URI's last '@' is never
// shown), in a key=value string for a quoted one.
#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "dbpool/driver.h"
#include "fuzz_contract.h"
#include "postgres/pg_conninfo.h"

namespace dbpool_fuzz {
namespace {

using dbpool::ConnectSettings;
using dbpool::postgres_internal::BuildPgConnectParams;
using dbpool::postgres_internal::IsHiddenKeyword;
using dbpool::postgres_internal::PgConnectParams;

// libpq's keywords, as the documentation of Builder::option() promises.
const std::set<std::string>& LibpqKeywords() {
  static const auto* keywords = [] {
    auto* set = new std::set<std::string>;
    PQconninfoOption* defaults = PQconndefaults();
    for (PQconninfoOption* o = defaults; o != nullptr && o->keyword != nullptr; ++o) {
      set->insert(o->keyword);
    }
    PQconninfoFree(defaults);
    return set;
  }();
  return *keywords;
}

// On success too, the secret stays where it was put: no endpoint host, no
// database and no keyword value that messages may show (any but secret
// keywords and the ones PgConnectParams::tainted lists) holds it.
void CheckSuccess(const PgConnectParams& params, absl::string_view input) {
  for (const dbpool::Endpoint& e : params.endpoints) {
    if (e.host.empty()) Fail("an endpoint has an empty host", input, absl::OkStatus());
    if (HoldsSecret(e.host)) Fail("an endpoint host holds the password", input, absl::OkStatus());
    if (e.port < 1 || e.port > 65535) {
      Fail(absl::StrCat("an endpoint has port ", e.port), input, absl::OkStatus());
    }
  }
  for (const auto& [key, value] : params.keywords) {
    if (key == "host" || key == "hostaddr" || key == "port") {
      Fail(absl::StrCat("keyword ", key, " is left for libpq"), input, absl::OkStatus());
    }
    if (HoldsSecret(value) && (key == "dbname" || !IsHiddenKeyword(params, key))) {
      Fail(absl::StrCat("the value of ", key, " holds the password"), input, absl::OkStatus());
    }
  }
}

// Builder::option() pairs only: the first bad key must be named.
void CheckOptions(absl::string_view lines, absl::string_view input) {
  ConnectSettings settings;
  const std::string* first_bad = nullptr;
  for (absl::string_view line : absl::StrSplit(lines, '\n')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    settings.options.push_back(std::move(kv));
  }
  for (const auto& [key, value] : settings.options) {
    const bool server = key == "host" || key == "hostaddr" || key == "port";
    // A NUL byte in a value is refused too (libpq would cut it there).
    if (server || LibpqKeywords().count(key) == 0 || absl::StrContains(value, '\0')) {
      first_bad = &key;
      break;
    }
  }
  // target_session_attrs is the pool's routing: its last value must be one
  // the pool's default routing gives (pg_conninfo.cc, MapTargetSessionAttrs).
  static const std::string kTargetSessionAttrs = "target_session_attrs";
  if (first_bad == nullptr) {
    const std::string* routing = nullptr;
    for (const auto& [key, value] : settings.options) {
      if (key == kTargetSessionAttrs) routing = &value;
    }
    if (routing != nullptr) {
      const std::string v = absl::AsciiStrToLower(*routing);
      if (!v.empty() && v != "any" && v != "read-write" && v != "primary") {
        first_bad = &kTargetSessionAttrs;
      }
    }
  }
  const absl::StatusOr<PgConnectParams> params = BuildPgConnectParams(settings);
  if (params.ok()) {
    if (first_bad != nullptr) Fail("a bad option key is accepted", input, params.status());
    CheckSuccess(*params, input);
    return;
  }
  CheckCommon(params.status(), input);
  if (first_bad == nullptr) Fail("good option keys are refused", input, params.status());
  if (!absl::StrContains(params.status().message(), absl::StrCat("option(\"", *first_bad, "\")"))) {
    Fail("the message does not name the bad key", input, params.status());
  }
}

void CheckDsn(const std::string& dsn, absl::string_view input) {
  ConnectSettings settings;
  settings.dsn = dsn;
  const absl::StatusOr<PgConnectParams> params = BuildPgConnectParams(settings);
  if (params.ok()) {
    CheckSuccess(*params, input);
    return;
  }
  CheckCommon(params.status(), input);
  CheckPgDsnError(params.status(), dsn, input);
}

// `text` without the bytes in `drop` (and NUL, which ends a C string).
std::string Without(absl::string_view text, absl::string_view drop) {
  std::string out;
  for (char c : text) {
    if (c != '\0' && drop.find(c) == absl::string_view::npos) out.push_back(c);
  }
  return out;
}

bool AnySpellsSecret(const std::vector<absl::string_view>& fields) {
  for (absl::string_view f : fields) {
    if (CouldSpellSecret(f)) return true;
  }
  return false;
}

// USER\nBEFORE\nAFTER\nREST as postgresql://USER:BEFORE<secret>AFTER@REST,
// user and password as written by hand: the user without '@', '/' and ':',
// the password without the bytes in `drop` (and NUL).
void CheckRawUri(absl::string_view fields, absl::string_view drop, absl::string_view input) {
  const std::vector<absl::string_view> f = SplitFields(fields, 4);
  if (AnySpellsSecret(f)) return;
  // Dropping bytes (NUL among them) can join the user's pieces into the
  // secret itself: such a user is the input's own text, not a leak.
  const std::string user = Without(f[0], "@/:");
  if (CouldSpellSecret(user)) return;
  CheckDsn(absl::StrCat("postgresql://", user, ":",
                        Without(absl::StrCat(f[1], kSecret, f[2]), drop), "@", f[3]),
           input);
}

}  // namespace
}  // namespace dbpool_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dbpool_fuzz;  // NOLINT(build/namespaces)
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  if (CouldSpellSecret(input)) return 0;
  absl::string_view body = input;
  if (absl::ConsumePrefix(&body, "options:")) {
    CheckOptions(body, input);
  } else if (absl::ConsumePrefix(&body, "uri-secret:")) {
    const std::vector<absl::string_view> f = SplitFields(body, 4);
    if (AnySpellsSecret(f)) return 0;
    CheckDsn(absl::StrCat("postgresql://", PercentEncodeAll(f[0]), ":",
                          PercentEncodeAll(absl::StrCat(f[1], kSecret, f[2])), "@", f[3]),
             input);
  } else if (absl::ConsumePrefix(&body, "uri-raw-secret:")) {
    CheckRawUri(body, "@/", input);
  } else if (absl::ConsumePrefix(&body, "uri-any-secret:")) {
    CheckRawUri(body, "", input);
  } else if (absl::ConsumePrefix(&body, "kv-secret:")) {
    const std::vector<absl::string_view> f = SplitFields(body, 3);
    if (AnySpellsSecret(f)) return 0;
    CheckDsn(absl::StrCat("password=", QuoteForLibpq(absl::StrCat(f[0], kSecret, f[1])), " ", f[2]),
             input);
  } else {
    CheckDsn(std::string(input), input);
  }
  return 0;
}
