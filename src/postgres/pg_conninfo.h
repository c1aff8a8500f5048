// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// From builder settings to libpq connection parameters and endpoints.
#ifndef DBPOOL_POSTGRES_PG_CONNINFO_H_
#define DBPOOL_POSTGRES_PG_CONNINFO_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "dbpool/driver.h"

namespace dbpool {
namespace postgres_internal {

// libpq keyword/value pairs (no host, hostaddr or port: the pool supplies
// those per endpoint) and the endpoints, in preference order.
struct PgConnectParams {
  std::vector<std::pair<std::string, std::string>> keywords;
  std::vector<Endpoint> endpoints;
};

// Parses settings.dsn with PQconninfoParse (a URI or key=value string),
// merges the explicit settings over it (they win), checks option() keys
// against libpq's known keywords, and splits the hosts into endpoints
// (builder endpoints first). Errors: kInvalidArgument naming the key or the
// position of a DSN's problem; the password never appears.
absl::StatusOr<PgConnectParams> BuildPgConnectParams(const ConnectSettings& settings);

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_CONNINFO_H_
