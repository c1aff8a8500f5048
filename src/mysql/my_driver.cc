// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The MySQL / MariaDB driver: connects within the pool's deadline and hands
// out MyConnections.
#include <mysql.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dbpool/connect_abort.h"
#include "dbpool/mysql.h"
#include "mysql/my_calls.h"
#include "mysql/my_connection.h"
#include "mysql/my_library.h"
#include "mysql/my_options.h"
#include "mysql/my_params.h"
#include "mysql/my_status.h"
#include "mysql/my_tls.h"

namespace dbpool {
namespace mysql_internal {
namespace {

struct MysqlCloser {
  void operator()(MYSQL* mysql) const { mysql_close(mysql); }
};
using MysqlPtr = std::unique_ptr<MYSQL, MysqlCloser>;

const char* OrNull(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// A connect failure that stays until the configuration changes: the
// server's certificate fails verification (2026 naming a certificate), or
// the host name does not exist (2005, not EAI_AGAIN's "(-3)").
bool WaitingCannotHeal(unsigned int err, absl::string_view message) {
  return (err == 2026 && absl::StrContains(message, "certificate")) ||
         (err == 2005 && !absl::StrContains(message, "(-3)"));
}

// Whether the connection must verify the server's certificate.
bool VerifiesPeer(const MyOptions& o) {
  return o.ssl_mode >= SslMode::kVerifyCa || o.ssl_verify_server_cert.value_or(false);
}

class MyDriver final : public Driver {
 public:
  MyDriver(MyConnectParams params, CredentialsProvider credentials)
      : params_(std::move(params)), credentials_(std::move(credentials)) {}

  ~MyDriver() override { WipeSecret(&params_.password); }
  MyDriver(const MyDriver&) = delete;
  MyDriver& operator=(const MyDriver&) = delete;

  absl::string_view name() const override { return "mysql"; }

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
    EnsureThreadInit();
    return ConnectWithCredentials(credentials_, endpoint, {params_.user, params_.password},
                                  deadline,
                                  absl::StrCat("dbpool: mysql connect to ", endpoint.ToString()),
                                  [&](const Credentials& credentials) {
                                    return ConnectAs(endpoint, deadline, abort, credentials);
                                  });
  }

  absl::StatusOr<std::unique_ptr<DriverConnection>> ConnectAs(const Endpoint& endpoint,
                                                              absl::Time deadline,
                                                              const ConnectAbort* abort,
                                                              const Credentials& credentials) {
    const std::string where = endpoint.ToString();
    const std::string context = absl::StrCat("dbpool: mysql connect to ", where);
    if (abort != nullptr && abort->fired()) return ConnectAbandonedError(context);
    const absl::Time start = absl::Now();

    if (credentials_) {
      // A NUL byte would cut them silently (the builder's are checked at
      // build()).
      for (const auto& [what, text] :
           {std::pair<const char*, const std::string&>("user", credentials.user),
            {"password", credentials.password}}) {
        if (absl::StrContains(text, '\0')) {
          return absl::InvalidArgumentError(
              absl::StrCat(context, ": credentials provider: the ", what, " holds a NUL byte"));
        }
      }
    }
    if (VerifiesPeer(params_.options)) {  // the environment can change after build()
      if (absl::Status s = CheckTlsEnvironment(); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
      }
    }
    MysqlPtr mysql(mysql_init(nullptr));
    if (mysql == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat(context, ": mysql_init() out of memory"));
    }
    const bool unix_socket = !endpoint.host.empty() && endpoint.host[0] == '/';
    const unsigned int protocol = unix_socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
    absl::Status setup = EnableNonBlocking(mysql.get());
    if (setup.ok()) setup = ApplyOptions(params_.options, mysql.get());
    if (setup.ok()) setup = ApplyConnectTimeout(params_.options, deadline - start, mysql.get());
    if (setup.ok() && mysql_options(mysql.get(), MYSQL_OPT_PROTOCOL, &protocol) != 0) {
      setup = absl::InternalError("dbpool: the MySQL client library refused MYSQL_OPT_PROTOCOL");
    }
    if (!setup.ok()) return setup;

    ConnectArgs args;
    // TCP even for "localhost" (MYSQL_OPT_PROTOCOL); a '/' host is a socket.
    args.host = unix_socket ? "localhost" : endpoint.host.c_str();
    args.unix_socket = unix_socket ? endpoint.host.c_str() : nullptr;
    args.port = static_cast<unsigned int>(endpoint.port);
    args.user = OrNull(credentials.user);
    // Never null: with a null password the library reads MYSQL_PWD.
    args.password = credentials.password.c_str();
    args.database = OrNull(params_.database);
    args.client_flags = CLIENT_MULTI_STATEMENTS;  // implies CLIENT_MULTI_RESULTS

    const auto timed_out = [&] {
      return absl::UnavailableError(
          absl::StrCat(context, ": timed out after ",
                       absl::FormatDuration(absl::Trunc(deadline - start + absl::Microseconds(500),
                                                        absl::Milliseconds(1)))));
    };
    MYSQL* connected = nullptr;
    if (absl::Status wait = CallRealConnect(mysql.get(), args, deadline,
                                            abort != nullptr ? abort->fd() : -1, &connected);
        !wait.ok()) {
      // Abandoned half-way: make closing fail fast instead of talking to a
      // server that does not answer.
      if (const int fd = SocketOf(mysql.get()); fd >= 0) ::shutdown(fd, SHUT_RDWR);
      if (wait.code() == absl::StatusCode::kDeadlineExceeded) return timed_out();
      if (wait.code() == absl::StatusCode::kCancelled) return ConnectAbandonedError(context);
      return absl::UnavailableError(absl::StrCat(context, ": ", wait.message()));
    }
    if (connected == nullptr) {
      // The blocking call gives up through MYSQL_OPT_CONNECT_TIMEOUT (the
      // time left, rounded up to whole seconds) with a "lost connection"
      // error: past the deadline, say what happened as the non-blocking
      // path does.
      if (!CallsAreNonBlocking() && absl::Now() >= deadline) return timed_out();
      const unsigned int err = mysql_errno(mysql.get());
      if (err == 0) return absl::UnknownError(absl::StrCat(context, ": failed without an error"));
      absl::Status error = MakeMySqlError(err, mysql_sqlstate(mysql.get()),
                                          EscapeServerText(mysql_error(mysql.get())), context);
      if (WaitingCannotHeal(err, mysql_error(mysql.get()))) return MarkConfigurationError(error);
      return error;
    }
    if (!unix_socket && params_.options.tcp_keepalive) {
      if (absl::Status s = ApplyTcpKeepalive(SocketOf(mysql.get()), params_.options.keepalive);
          !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
      }
    }
    if (RequiresTls(params_.options) && mysql_get_ssl_cipher(mysql.get()) == nullptr) {
      return absl::UnavailableError(
          absl::StrCat(context, ": ssl_mode=", SslModeName(params_.options.ssl_mode),
                       " but the server did not negotiate TLS"));
    }
    return std::unique_ptr<DriverConnection>(
        new MyConnection(mysql.release(), where, params_.options.init_commands));
  }

  MyConnectParams params_;  // not changed after construction (wiped at destruction)
  const BoundedCredentialsProvider credentials_;
};

}  // namespace
}  // namespace mysql_internal

absl::StatusOr<DriverSetup> MySql::make_driver(const ConnectSettings& settings) {
  absl::StatusOr<mysql_internal::MyConnectParams> params =
      mysql_internal::BuildMyConnectParams(settings);
  if (!params.ok()) return params.status();
  if (settings.tls.has_value()) {
    if (absl::Status s = mysql_internal::ApplyTlsPolicy(*settings.tls, &params->options); !s.ok()) {
      return s;
    }
  }
  if (mysql_internal::VerifiesPeer(params->options)) {
    if (absl::Status s = mysql_internal::CheckTlsEnvironment(); !s.ok()) return s;
  }
  // The driver takes no passphrase for a client key.
  if (absl::Status s = CheckKeyFileNeedsNoPrompt(
          settings.tls.has_value() && !settings.tls->key_file.empty() ? "require_tls() key_file"
                                                                      : "ssl_key",
          params->options.ssl_key, /*has_passphrase=*/false);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = mysql_internal::EnsureLibraryInit(); !s.ok()) return s;
  DriverSetup setup;
  setup.endpoints = params->endpoints;
  setup.driver =
      std::make_shared<mysql_internal::MyDriver>(*std::move(params), settings.credentials);
  return setup;
}

}  // namespace dbpool
