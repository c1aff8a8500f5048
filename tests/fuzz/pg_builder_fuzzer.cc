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
// endpoints first; or kInvalidArgument that either is about the DSN
// ("dbpool: dsn: ", with the position of the problem, host and port lists
// included) or names the option key. The secret never appears.
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
      if (i < settings.endpoints.size()) {
        if (got.host != settings.endpoints[i].host || got.port != settings.endpoints[i].port) {
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
  Fail("the message is neither about the DSN nor names an option key", input, status);
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
  Check(in.settings, input);
  return 0;
}
