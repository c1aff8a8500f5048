// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Builder settings + DSN -> the validated parameters every connect uses.
#ifndef DBPOOL_MYSQL_MY_PARAMS_H_
#define DBPOOL_MYSQL_MY_PARAMS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dbpool/driver.h"
#include "mysql/my_options.h"

namespace dbpool {
namespace mysql_internal {

// What the driver connects with.
struct MyConnectParams {
  std::vector<Endpoint> endpoints;  // builder endpoints, then the DSN's
  std::string user;                 // empty: the client library's default
  std::string password;             // a secret: never in a message
  std::string database;             // empty: none
  MyOptions options;
};

// BuildMyConnectParams()
//
// Parses settings.dsn and merges it with the rest of `settings`: DSN hosts
// come after settings.endpoints; a non-empty settings.database, user or
// password wins over the DSN's; DSN options apply first, settings.options
// after (so the builder's win). Every option is validated here, at build
// time. Errors: kInvalidArgument for a malformed DSN (with its position), a
// bad option, an endpoint with an empty host or a port outside 1..65535, no
// endpoint at all, or a NUL byte in the user, password or database.
absl::StatusOr<MyConnectParams> BuildMyConnectParams(const ConnectSettings& settings);

}  // namespace mysql_internal
}  // namespace dbpool

#endif  // DBPOOL_MYSQL_MY_PARAMS_H_
