// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The merge rules between Builder settings and the DSN.
#include "mysql/my_params.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "mysql/my_dsn.h"

namespace dbpool {
namespace mysql_internal {
namespace {

absl::Status CheckEndpoint(const Endpoint& endpoint) {
  if (endpoint.host.empty()) return absl::InvalidArgumentError("dbpool: endpoint host is empty");
  if (absl::StrContains(endpoint.host, '\0')) {
    return absl::InvalidArgumentError("dbpool: endpoint host contains a NUL byte");
  }
  if (endpoint.port < 1 || endpoint.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("dbpool: endpoint port ", endpoint.port,
                                                   " is out of range 1..65535 (host \"",
                                                   endpoint.host, "\")"));
  }
  return absl::OkStatus();
}

// `explicit_value` if set (non-empty), else the DSN's, else empty.
std::string Pick(const std::string& explicit_value, const std::optional<std::string>& from_dsn) {
  if (!explicit_value.empty()) return explicit_value;
  return from_dsn.value_or("");
}

}  // namespace

absl::StatusOr<MyConnectParams> BuildMyConnectParams(const ConnectSettings& settings) {
  absl::StatusOr<ParsedDsn> dsn = ParseMySqlDsn(settings.dsn);
  if (!dsn.ok()) return dsn.status();

  MyConnectParams params;
  params.endpoints = settings.endpoints;
  params.endpoints.insert(params.endpoints.end(), dsn->endpoints.begin(), dsn->endpoints.end());
  if (params.endpoints.empty()) {
    return absl::InvalidArgumentError(
        "dbpool: no endpoint: call endpoint() or give hosts in dsn()");
  }
  for (const Endpoint& endpoint : params.endpoints) {
    if (absl::Status s = CheckEndpoint(endpoint); !s.ok()) return s;
  }
  if (absl::Status s = CheckEndpointCount(params.endpoints.size()); !s.ok()) return s;

  params.user = Pick(settings.user, dsn->user);
  params.password = Pick(settings.password, dsn->password);
  params.database = Pick(settings.database, dsn->database);
  if (absl::StrContains(params.user, '\0')) {
    return absl::InvalidArgumentError("dbpool: user contains a NUL byte");
  }
  if (absl::StrContains(params.password, '\0')) {
    return absl::InvalidArgumentError("dbpool: password contains a NUL byte");
  }
  if (absl::StrContains(params.database, '\0')) {
    return absl::InvalidArgumentError("dbpool: database contains a NUL byte");
  }

  for (const DsnOption& option : dsn->options) {
    OptionSource source;
    source.from_dsn = true;
    source.position = option.position;
    if (absl::Status s = SetOption(option.key, option.value, source, &params.options); !s.ok()) {
      return s;
    }
  }
  for (const auto& [key, value] : settings.options) {
    if (absl::Status s = SetOption(key, value, OptionSource{}, &params.options); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = FinishOptions(&params.options); !s.ok()) return s;
  return params;
}

}  // namespace mysql_internal
}  // namespace dbpool
