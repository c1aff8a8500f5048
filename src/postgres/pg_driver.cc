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
#include "dbpool/connect_abort.h"
#include "dbpool/postgres.h"
#include "postgres/pg_connect_error.h"
#include "postgres/pg_connection.h"
#include "postgres/pg_conninfo.h"
#include "postgres/pg_scram_guard.h"
#include "postgres/pg_socket_wait.h"
#include "postgres/pg_tls.h"

namespace dbpool {
namespace postgres_internal {
namespace {

// libpq's error text made safe for a message: every secret in `secrets`
// (passwords, values that may hold password text) taken out, and control
// characters escaped (a server's text could hold '\r' or ANSI escapes).
// A secret shorter than 4 bytes would hit ordinary words: when one occurs,
// libpq's text is not shown at all.
std::string SafeLibpqText(absl::string_view text, const std::vector<absl::string_view>& secrets) {
  std::string out(text);
  for (absl::string_view secret : secrets) {
    if (secret.empty() || !absl::StrContains(out, secret)) continue;
    if (secret.size() < 4) return "(libpq's message is not shown: it may quote a secret)";
    absl::StrReplaceAll({{secret, "(text not shown)"}}, &out);
  }
  return EscapeServerText(out);
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

  ~PgDriver() override {
    for (auto& [key, value] : params_.keywords) {
      if (IsSecretKeyword(key)) WipeSecret(&value);
    }
    WipeSecret(&configured_.password);
  }
  PgDriver(const PgDriver&) = delete;
  PgDriver& operator=(const PgDriver&) = delete;

  absl::string_view name() const override { return "postgres"; }

  absl::StatusOr<std::unique_ptr<DriverConnection>> connect(const Endpoint& endpoint,
                                                            absl::Time deadline) override {
    return Connect(endpoint, deadline, nullptr);
  }

  absl::StatusOr<std::unique_ptr<DriverConnection>> connect_abortable(
      const Endpoint& endpoint, absl::Time deadline, const ConnectAbort& abort) override {
    return Connect(endpoint, deadline, &abort);
  }

 private:
  // `abort` may be null (nothing abandons the connect).
  absl::StatusOr<std::unique_ptr<DriverConnection>> Connect(const Endpoint& endpoint,
                                                            absl::Time deadline,
                                                            const ConnectAbort* abort) {
    return ConnectWithCredentials(credentials_, endpoint, configured_, deadline,
                                  absl::StrCat("dbpool: postgres connect to ", endpoint.ToString()),
                                  [&](const Credentials& credentials) {
                                    return ConnectAs(endpoint, deadline, abort, credentials);
                                  });
  }

  absl::StatusOr<std::unique_ptr<DriverConnection>> ConnectAs(const Endpoint& endpoint,
                                                              absl::Time deadline,
                                                              const ConnectAbort* abort,
                                                              const Credentials& credentials) {
    const std::string context = absl::StrCat("dbpool: postgres connect to ", endpoint.ToString());
    if (abort != nullptr && abort->fired()) return ConnectAbandonedError(context);
    const int abort_fd = abort != nullptr ? abort->fd() : -1;
    if (credentials_) {
      // libpq takes C strings: a NUL byte would cut them silently.
      for (const auto& [what, text] :
           {std::pair<const char*, const std::string&>("user", credentials.user),
            {"password", credentials.password}}) {
        if (absl::StrContains(text, '\0')) {
          return absl::InvalidArgumentError(
              absl::StrCat(context, ": credentials provider: the ", what, " holds a NUL byte"));
        }
      }
    }
    // The environment can change between build() and now.
    if (absl::Status s = CheckPgEnvironment(params_, require_tls_); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
    }
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
    // The pool routes by role itself (BuildPgConnectParams() maps the
    // setting): PGTARGETSESSIONATTRS must not make servers unconnectable.
    keys.push_back("target_session_attrs");
    values.push_back("any");
    keys.push_back(nullptr);
    values.push_back(nullptr);

    PGconn* conn = PQconnectStartParams(keys.data(), values.data(), /*expand_dbname=*/0);
    if (conn == nullptr) return absl::ResourceExhaustedError("postgres: out of memory");
    // Server notices go nowhere by default (libpq prints them to stderr, a
    // server's text unescaped), from the start: a server can send them
    // while the connection is being made. The application may install its
    // own processor on the native handle.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    // A failed connect's text then carries the server's SQLSTATE, which
    // decides its code (pg_connect_error.h); the default comes back below.
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
    while (PQstatus(conn) != CONNECTION_BAD && poll_status != PGRES_POLLING_OK &&
           poll_status != PGRES_POLLING_FAILED) {
      absl::Status ready = WaitForSocket(
          PQsocket(conn),
          poll_status == PGRES_POLLING_WRITING ? SocketReady::kWritable : SocketReady::kReadable,
          deadline, abort_fd);
      if (ready.code() == absl::StatusCode::kCancelled) {
        PQfinish(conn);
        return ConnectAbandonedError(context);
      }
      if (!ready.ok()) {
        PQfinish(conn);
        return absl::UnavailableError(absl::StrCat("dbpool: postgres connect to ",
                                                   endpoint.ToString(), ": ", ready.message()));
      }
      if (poll_status == PGRES_POLLING_READING) {
        // Before libpq runs a SCRAM key derivation no deadline can stop.
        if (absl::Status s = GuardScramChallenge(conn, deadline, abort_fd); !s.ok()) {
          PQfinish(conn);
          if (s.code() == absl::StatusCode::kCancelled) return ConnectAbandonedError(context);
          return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
        }
      }
      poll_status = PQconnectPoll(conn);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
      const ConnectFailure failure = ClassifyConnectFailure(PQerrorMessage(conn));
      std::vector<absl::string_view> secrets = {credentials.password};
      for (const auto& [k, v] : params_.keywords) {
        if (IsHiddenKeyword(params_, k)) secrets.push_back(v);
      }
      std::string message = SafeLibpqText(failure.text, secrets);
      PQfinish(conn);
      absl::Status error(failure.code, absl::StrCat(context, ": ", message));
      return failure.configuration ? MarkConfigurationError(std::move(error)) : error;
    }
    // libpq enforces both; these are the backstops: encrypted, and verified.
    if (require_tls_ && PQsslInUse(conn) != 1) {
      PQfinish(conn);
      return absl::UnavailableError(
          absl::StrCat(context, ": require_tls() but the session is not TLS"));
    }
    if (require_tls_ && !SessionVerifiesServer(conn)) {
      PQfinish(conn);
      return absl::UnavailableError(absl::StrCat(
          context, ": require_tls() but the session does not verify the server (sslmode)"));
    }
    PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);  // the application's handle, as libpq makes it
    return std::unique_ptr<DriverConnection>(new PgConnection(conn));
  }

  PgConnectParams params_;  // not changed after construction (wiped at destruction)
  const BoundedCredentialsProvider credentials_;
  const bool require_tls_;
  Credentials configured_;  // user and password of the settings and DSN (likewise)
};

}  // namespace
}  // namespace postgres_internal

absl::StatusOr<DriverSetup> Postgres::make_driver(const ConnectSettings& settings) {
  absl::StatusOr<postgres_internal::PgConnectParams> params =
      postgres_internal::BuildPgConnectParams(settings);
  if (!params.ok()) return params.status();
  if (settings.tls.has_value()) {
    if (absl::Status s =
            postgres_internal::ApplyTlsPolicy(*settings.tls, &params->keywords, params->tainted);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = postgres_internal::CheckNoSocketEndpoints(params->endpoints); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = postgres_internal::CheckPgEnvironment(*params, settings.tls.has_value());
      !s.ok()) {
    return s;
  }
  if (const std::string* key = postgres_internal::FindKeyword(params->keywords, "sslkey")) {
    const std::string* passphrase = postgres_internal::FindKeyword(params->keywords, "sslpassword");
    if (absl::Status s = CheckKeyFileNeedsNoPrompt(
            settings.tls.has_value() && !settings.tls->key_file.empty() ? "require_tls() key_file"
                                                                        : "sslkey",
            *key, passphrase != nullptr && !passphrase->empty());
        !s.ok()) {
      return s;
    }
  }
  // libpq 16+ can refuse a server's request for the cleartext password
  // (which libpq 15 answers); the keyword does not exist before 16.
  if (PQlibVersion() >= 160000 &&
      postgres_internal::FindKeyword(params->keywords, "require_auth") == nullptr) {
    postgres_internal::SetKeyword(&params->keywords, "require_auth", "!password");
  }
  DriverSetup setup;
  setup.endpoints = params->endpoints;
  setup.driver = std::make_shared<postgres_internal::PgDriver>(
      *std::move(params), settings.credentials, settings.tls.has_value());
  return setup;
}

}  // namespace dbpool
