// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Fuzzes what PgPool::Builder::build() validates before it starts anything:
// Postgres::make_driver() with fuzzed endpoints, options, credentials and
// DSN (input format: builder_input.h). The DSN lines dsn-user, dsn-password
// and dsn-rest make
//   postgresql://USER:PASSWORD<secret>PASSWORD_END@REST
// with user and password percent-encoded (so well formed whatever REST is);
// dsn-kv makes
//   password='<secret>' TEXT
// and the password() line carries the secret too.
//
// Contract (dbpool/postgres.h, pg_conninfo.h): success, with the builder's
// endpoints first and no endpoint host holding the secret; or
// kInvalidArgument that either is about the DSN ("dbpool: dsn: ", with the
// position of the problem, host and port lists included) or names the
// option key or builder knob. The secret never appears. The "tls" line
// adds require_tls() and "sslpassword" a libpq secret keyword.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "builder_input.h"
#include "dbpool/postgres.h"
#include "fuzz_contract.h"

namespace dbpool_fuzz {
namespace {

void Check(const dbpool::ConnectSettings& settings, absl::string_view input) {
  const absl::StatusOr<dbpool::DriverSetup> setup = dbpool::Postgres::make_driver(settings);
  if (setup.ok()) {
    if (setup->driver == nullptr || setup->driver->name() != "postgres") {
      Fail("no postgres driver", input, setup.status());
    }
    if (setup->endpoints.size() < settings.endpoints.size()) {
      Fail("builder endpoints are lost", input, setup.status());
    }
    for (size_t i = 0; i < setup->endpoints.size(); ++i) {
      const dbpool::Endpoint& got = setup->endpoints[i];
      if (HoldsSecret(got.host)) Fail("an endpoint host holds the secret", input, setup.status());
      if (i < settings.endpoints.size()) {
        // An IPv6 address loses its brackets (libpq takes it bare).
        const std::string& given = settings.endpoints[i].host;
        const bool same = got.host == given || absl::StrCat("[", got.host, "]") == given;
        if (!same || got.port != settings.endpoints[i].port) {
          Fail("the builder's endpoints do not come first, in order", input, setup.status());
        }
      } else if (got.host.empty() || got.port < 1 || got.port > 65535) {
        Fail("an invalid DSN endpoint is accepted", input, setup.status());
      }
    }
    return;
  }
  const absl::Status& status = setup.status();
  CheckCommon(status, input);
  if (absl::StartsWith(status.message(), "dbpool: dsn: ")) {
    CheckPgDsnError(status, settings.dsn, input);
    return;
  }
  for (const auto& [key, value] : settings.options) {
    if (absl::StrContains(status.message(), absl::StrCat("option(\"", key, "\")"))) return;
  }
  // Builder strings, endpoints, their number, require_tls() conflicts and
  // target_session_attrs are named by their knob.
  for (absl::string_view knob :
       {"dbpool: endpoint(",
        "dbpool: password(): ", "dbpool: user(): ", "dbpool: database(): ", "dbpool: require_tls()",
        "dbpool: target_session_attrs=", "endpoints (from endpoint()", "PGHOSTADDR", "PGSERVICE"}) {
    if (absl::StrContains(status.message(), knob)) return;
  }
  Fail("the message is neither about the DSN nor names an option key or knob", input, status);
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
        absl::StrCat("postgresql://", PercentEncodeAll(in.dsn_user.value_or("u")), ":",
                     PercentEncodeAll(absl::StrCat(in.dsn_password.value_or(""), kSecret,
                                                   in.dsn_password_end.value_or(""))),
                     "@", in.dsn_rest.value_or("h"));
  } else if (in.dsn_kv.has_value()) {
    in.settings.dsn = absl::StrCat("password=", QuoteForLibpq(kSecret), " ", *in.dsn_kv);
  }
  if (in.sslpassword.has_value()) in.settings.options.emplace_back("sslpassword", *in.sslpassword);
  Check(in.settings, input);
  return 0;
}
