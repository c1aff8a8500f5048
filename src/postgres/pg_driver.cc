// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The PostgreSQL driver: non-blocking connects with the pool's deadline.
#include <libpq-fe.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "dbpool/postgres.h"
#include "postgres/pg_connection.h"
#include "postgres/pg_conninfo.h"
#include "postgres/pg_socket_wait.h"
#include "postgres/pg_tls.h"

namespace dbpool {
namespace postgres_internal {
namespace {

// libpq reports connection failures as text only (no SQLSTATE), so the
// server's message decides the code.
absl::StatusCode ClassifyConnectError(absl::string_view message) {
  if (absl::StrContains(message, "password authentication failed") ||
      absl::StrContains(message, "no password supplied") ||
      absl::StrContains(message, "authentication failed") ||
      (absl::StrContains(message, "role \"") && absl::StrContains(message, "does not exist"))) {
    return absl::StatusCode::kUnauthenticated;
  }
  if (absl::StrContains(message, "permission denied") ||
      absl::StrContains(message, "not permitted to log in") ||
      absl::StrContains(message, "no pg_hba.conf entry")) {
    return absl::StatusCode::kPermissionDenied;
  }
  if (absl::StrContains(message, "database \"") && absl::StrContains(message, "does not exist")) {
    return absl::StatusCode::kNotFound;
  }
  if (absl::StrContains(message, "invalid connection option") ||
      (absl::StrContains(message, "invalid ") && absl::StrContains(message, " value"))) {
    return absl::StatusCode::kInvalidArgument;
  }
  return absl::StatusCode::kUnavailable;
}

// A failure that stays until the configuration changes: the server's
// certificate fails verification, or the host name does not exist (not a
// temporary resolver failure).
bool WaitingCannotHeal(absl::string_view message) {
  return absl::StrContains(message, "certificate verify failed") ||
         absl::StrContains(message, "does not match host name") ||
         (absl::StrContains(message, "could not translate host name") &&
          !absl::StrContains(message, "Temporary failure"));
}

// The keyword's value in `keywords`, or "".
std::string KeywordValue(const PgKeywords& keywords, absl::string_view key) {
  const std::string* value = FindKeyword(keywords, key);
  return value == nullptr ? std::string() : *value;
}

class PgDriver final : public Driver {
 public:
  PgDriver(PgConnectParams params, CredentialsProvider credentials, bool require_tls)
      : params_(std::move(params)),
        credentials_(std::move(credentials)),
        require_tls_(require_tls),
        configured_{KeywordValue(params_.keywords, "user"),
                    KeywordValue(params_.keywords, "password")} {}

  absl::string_view name() const override { return "postgres"; }

  absl::StatusOr<std::unique_ptr<DriverConnection>> connect(const Endpoint& endpoint,
                                                            absl::Time deadline) override {
    return ConnectWithCredentials(
        credentials_, endpoint, configured_,
        absl::StrCat("dbpool: postgres connect to ", endpoint.ToString()),
        [&](const Credentials& credentials) { return ConnectAs(endpoint, deadline, credentials); });
  }

 private:
  absl::StatusOr<std::unique_ptr<DriverConnection>> ConnectAs(const Endpoint& endpoint,
                                                              absl::Time deadline,
                                                              const Credentials& credentials) {
    std::vector<const char*> keys;
    std::vector<const char*> values;
    const std::string port = absl::StrCat(endpoint.port);
    keys.push_back("host");
    values.push_back(endpoint.host.c_str());
    keys.push_back("port");
    values.push_back(port.c_str());
    for (const auto& [k, v] : params_.keywords) {
      if (credentials_ && (k == "user" || k == "password")) continue;
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    if (credentials_) {
      keys.push_back("user");
      values.push_back(credentials.user.c_str());
      keys.push_back("password");
      values.push_back(credentials.password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);

    PGconn* conn = PQconnectStartParams(keys.data(), values.data(), /*expand_dbname=*/0);
    if (conn == nullptr) return absl::ResourceExhaustedError("postgres: out of memory");
    PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
    while (PQstatus(conn) != CONNECTION_BAD && poll_status != PGRES_POLLING_OK &&
           poll_status != PGRES_POLLING_FAILED) {
      absl::Status ready = WaitForSocket(
          PQsocket(conn), /*for_write=*/poll_status == PGRES_POLLING_WRITING, deadline);
      if (!ready.ok()) {
        PQfinish(conn);
        return absl::UnavailableError(absl::StrCat("dbpool: postgres connect to ",
                                                   endpoint.ToString(), ": ", ready.message()));
      }
      poll_status = PQconnectPoll(conn);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
      absl::StrReplaceAll({{"\n", " "}}, &message);
      PQfinish(conn);
      absl::Status error(
          ClassifyConnectError(message),
          absl::StrCat("dbpool: postgres connect to ", endpoint.ToString(), ": ", message));
      return WaitingCannotHeal(message) ? MarkConfigurationError(std::move(error)) : error;
    }
    if (require_tls_ && PQsslInUse(conn) != 1) {  // libpq enforces it; this is the backstop
      PQfinish(conn);
      return absl::UnavailableError(absl::StrCat("dbpool: postgres connect to ",
                                                 endpoint.ToString(),
                                                 ": require_tls() but the session is not TLS"));
    }
    // Server notices go nowhere by default (libpq prints them to stderr);
    // the application may install its own processor on the native handle.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    return std::unique_ptr<DriverConnection>(new PgConnection(conn));
  }

  const PgConnectParams params_;
  const CredentialsProvider credentials_;
  const bool require_tls_;
  const Credentials configured_;  // user and password of the settings and DSN
};

}  // namespace
}  // namespace postgres_internal

absl::StatusOr<DriverSetup> Postgres::make_driver(const ConnectSettings& settings) {
  absl::StatusOr<postgres_internal::PgConnectParams> params =
      postgres_internal::BuildPgConnectParams(settings);
  if (!params.ok()) return params.status();
  if (settings.tls.has_value()) {
    if (absl::Status s = postgres_internal::ApplyTlsPolicy(*settings.tls, &params->keywords);
        !s.ok()) {
      return s;
    }
  }
  DriverSetup setup;
  setup.endpoints = params->endpoints;
  setup.driver = std::make_shared<postgres_internal::PgDriver>(
      *std::move(params), settings.credentials, settings.tls.has_value());
  return setup;
}

}  // namespace dbpool
