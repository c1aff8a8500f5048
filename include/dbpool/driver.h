// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/driver.h
//
// The interface a database driver implements to plug into the pool core. The
// core knows nothing of any database: it opens, checks, resets and closes
// connections only through these calls. Application code never needs this
// header; driver authors (and the tests' in-memory fake driver) do.
#ifndef DBPOOL_DRIVER_H_
#define DBPOOL_DRIVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dbpool/connect_abort.h"
#include "dbpool/credentials.h"
#include "dbpool/endpoint.h"
#include "dbpool/role.h"
#include "dbpool/tls.h"

namespace dbpool {

// SessionState
//
// What a connection's session looks like when a lease returns it. Read
// locally by the driver, without a round trip.
enum class SessionState {
  kIdle,           // no transaction open: may go back to the idle set
  kInTransaction,  // a transaction is open or failed: roll back first
  kBusy,           // a command or result is still in flight: close it
  kBroken,         // the connection is lost: close it
};

// TxnStatus, TxnResolution
//
// What a server says of a transaction id (see
// DriverConnection::resolve_txn()).
enum class TxnStatus {
  kCommitted,   // it committed
  kAborted,     // it rolled back (or its session died before COMMIT)
  kInProgress,  // still running: its session may be finishing, ask again
  kUnknown,     // the server cannot tell (see TxnResolution::detail)
};
struct TxnResolution {
  TxnStatus status = TxnStatus::kUnknown;
  std::string detail;  // for kUnknown: why, for the caller's message
};

// ProbeResult
//
// What a role probe learned about a server, for the failover layer's
// election (see docs/failover.md).
struct ProbeResult {
  // kReplica when the server replicates from another (PostgreSQL: in
  // recovery; MySQL: a replication channel is configured); else kPrimary.
  Role role = Role::kPrimary;
  // Whether sessions of the pool's user cannot write even though the server
  // does not replicate (PostgreSQL: default_transaction_read_only or
  // transaction_read_only on; MySQL: read_only, super_read_only or
  // innodb_read_only set): a fenced old primary.
  bool read_only = false;
  // PostgreSQL: the server's timeline (a primary's current one, a replica's
  // received one); a higher timeline is a later promotion. nullopt when
  // unknown (MySQL, or not visible to the pool's user).
  std::optional<int64_t> timeline;
  // A replica's replay lag: how far the data it serves is behind what it
  // received from its primary (PostgreSQL: zero when everything received
  // is replayed, else the age of the last replayed transaction). nullopt on
  // a primary, or when the driver cannot tell (MySQL, today).
  std::optional<absl::Duration> replay_lag;

  // A primary that accepts writes.
  bool writable() const { return role == Role::kPrimary && !read_only; }
};

// DriverConnection
//
// One open server connection. The pool calls at most one method at a time
// on a connection, never while a lease holds it (except interrupt()).
// Destroying it closes the connection.
class DriverConnection {
 public:
  virtual ~DriverConnection() = default;

  // The native handle (PGconn*, MYSQL*, ...) handed to leases.
  virtual void* native_handle() = 0;

  // The session state, without I/O.
  virtual SessionState session_state() = 0;

  // A round trip proving the server answers. Errors: kUnavailable when the
  // connection is lost, kDeadlineExceeded past `deadline`.
  virtual absl::Status ping(absl::Time deadline) = 0;

  // Runs `sql` (which may hold several statements) and discards results.
  virtual absl::Status execute(absl::string_view sql, absl::Time deadline) = 0;

  // Rolls back the open transaction.
  virtual absl::Status rollback(absl::Time deadline) = 0;

  // The driver's full session reset (DISCARD ALL, COM_RESET_CONNECTION).
  virtual absl::Status full_reset(absl::Time deadline) = 0;

  // Asks the server which role it has now (used by the failover layer).
  virtual absl::StatusOr<Role> probe_role(absl::Time deadline) = 0;

  // Asks the server what the election needs (see ProbeResult), in as few
  // round trips as the driver can. The default calls probe_role() and
  // reports no read-only flag and no timeline. Errors: as ping().
  virtual absl::StatusOr<ProbeResult> probe(absl::Time deadline) {
    absl::StatusOr<Role> role = probe_role(deadline);
    if (!role.ok()) return role.status();
    ProbeResult result;
    result.role = *role;
    return result;
  }

  // Shuts the socket down so that a native call blocked on it, in any
  // thread, returns an error. Thread-safe; the connection is broken after.
  virtual void interrupt() = 0;

  // The transaction verbs of Pool::with_transaction(), called on a leased
  // connection by the lease's thread. Their failures carry the outcome
  // payload (dbpool/outcome.h): a COMMIT whose reply is lost is
  // outcome-unknown. The defaults return kUnimplemented, so a driver
  // without them cannot serve with_transaction().
  //
  // begin(): opens a transaction. commit(): commits it; a transaction that
  // already failed is rolled back and reported as kFailedPrecondition
  // (not applied). `deadline` may be absl::InfiniteFuture().
  virtual absl::Status begin(absl::Time /*deadline*/) {
    return absl::UnimplementedError("dbpool: this driver has no transaction support");
  }
  virtual absl::Status commit(absl::Time /*deadline*/) {
    return absl::UnimplementedError("dbpool: this driver has no transaction support");
  }

  // begin_deferring_txn_id(): begin() for RetryOptions::defer_txn_id: a
  // driver whose begin() takes the transaction's id takes it in
  // current_txn_id() instead, and only if the transaction has one. The
  // default calls begin().
  virtual absl::Status begin_deferring_txn_id(absl::Time deadline) { return begin(deadline); }

  // current_txn_id(): the open transaction's id on the server, asked just
  // before COMMIT so that a COMMIT whose reply is lost can be resolved (a
  // driver may take it with begin() and answer without a round trip, as
  // PostgreSQL's does); std::nullopt when the transaction has none (it
  // wrote nothing).
  // kUnimplemented (the default): the driver cannot resolve commits.
  virtual absl::StatusOr<std::optional<std::string>> current_txn_id(absl::Time /*deadline*/) {
    return absl::UnimplementedError("dbpool: this driver cannot resolve commits");
  }

  // resolve_txn(): asks the server (on another connection than the one
  // that lost the COMMIT) what became of transaction `id`, an id
  // current_txn_id() gave. Errors (the connection failed, ...) are returned
  // as they are; the caller may ask again.
  virtual absl::StatusOr<TxnResolution> resolve_txn(const std::string& /*id*/,
                                                    absl::Time /*deadline*/) {
    return absl::UnimplementedError("dbpool: this driver cannot resolve commits");
  }
};

// Driver
//
// Opens connections to endpoints with the connection settings it was built
// with. Shared by every thread of a pool: connect() must be thread-safe.
class Driver {
 public:
  virtual ~Driver() = default;

  // A short name for messages: "postgres", "mysql", "fake".
  virtual absl::string_view name() const = 0;

  // Opens one connection to `endpoint`, giving up at `deadline` (a slow or
  // blackholed server must not hold the caller past it). Errors:
  // kUnavailable (unreachable, refused, timed out, server overloaded or
  // starting), kUnauthenticated / kPermissionDenied (credentials),
  // kNotFound (no such database), kInvalidArgument (bad settings).
  virtual absl::StatusOr<std::unique_ptr<DriverConnection>> connect(const Endpoint& endpoint,
                                                                    absl::Time deadline) = 0;

  // The same, giving up early also once `abort` fires: the pool closing.
  // The pool opens its connections through this call. A connect abandoned
  // so returns kCancelled. The default ignores `abort` and calls connect();
  // a driver whose connects can wait on a silent server overrides it. The
  // built-in drivers do (with the MySQL client's blocking calls a connect
  // cannot be abandoned, and runs to its deadline: docs/mysql.md).
  virtual absl::StatusOr<std::unique_ptr<DriverConnection>> connect_abortable(
      const Endpoint& endpoint, absl::Time deadline, const ConnectAbort& abort) {
    (void)abort;
    return connect(endpoint, deadline);
  }
};

// ConnectWithCredentials()
//
// For drivers: runs `connect` with the provider's answer (see
// BoundedCredentialsProvider::Resolve() in dbpool/credentials.h, bounded by
// `deadline`, the connect's own). When the server refuses them
// (kUnauthenticated or kPermissionDenied) and the provider now answers
// differently (it rotated between the two calls), runs `connect` once more
// with the new ones, so that a connect racing a rotation does not fail. A
// provider's error gets the message prefix "<context>: ". The copies of the
// password it made are wiped before it returns.
absl::StatusOr<std::unique_ptr<DriverConnection>> ConnectWithCredentials(
    const BoundedCredentialsProvider& provider, const Endpoint& endpoint,
    const Credentials& configured, absl::Time deadline, absl::string_view context,
    const std::function<absl::StatusOr<std::unique_ptr<DriverConnection>>(const Credentials&)>&
        connect);

// The same with no deadline for the provider (it is called on the caller's
// thread and waited for however long it takes). Kept for drivers written
// before the overload above.
absl::StatusOr<std::unique_ptr<DriverConnection>> ConnectWithCredentials(
    const CredentialsProvider& provider, const Endpoint& endpoint, const Credentials& configured,
    absl::string_view context,
    const std::function<absl::StatusOr<std::unique_ptr<DriverConnection>>(const Credentials&)>&
        connect);

// MarkConfigurationError(), IsConfigurationError()
//
// A connect error that waiting cannot heal (a certificate that fails
// verification, a host name that does not exist) keeps its code
// (kUnavailable, so that a failover layer still routes around the
// endpoint) and is marked so: while reconnects back off, acquires that no
// open connection could serve fail at once with it instead of waiting out
// their deadline, and with_retry() does not retry it. Drivers mark such
// errors; the pool treats these as configuration errors too, marked or not:
// kUnauthenticated, kPermissionDenied (credentials), kNotFound (no such
// database), kInvalidArgument (a bad setting).
absl::Status MarkConfigurationError(absl::Status status);
bool IsConfigurationError(const absl::Status& status);

// RequireTlsConflict()
//
// For drivers: the kInvalidArgument error of a driver setting `key`=`value`
// (from option() or the DSN) that is weaker than what require_tls() sets,
// `wanted`. The value is quoted through QuoteSettingValue(): when
// `value_is_secret` (the key is a secret, or its text may be part of a
// password) it is not shown at all.
absl::Status RequireTlsConflict(absl::string_view key, absl::string_view value,
                                absl::string_view wanted, bool value_is_secret = false);

// kMaxEndpoints
//
// The most endpoints (from endpoint() and the DSN together) a pool takes:
// each costs its own threads and connections.
inline constexpr size_t kMaxEndpoints = 64;

// CheckKeyFileNeedsNoPrompt()
//
// For drivers: kInvalidArgument naming `knob` and the file when the PEM
// file at `path` holds an encrypted private key and `has_passphrase` is
// false. OpenSSL would then ask for the passphrase on the terminal, from a
// pool thread (a service started from a shell would hang there), or fail
// with an obscure error. OK for an empty path, a file that cannot be read
// (the driver's own checks report that) or an unencrypted key.
absl::Status CheckKeyFileNeedsNoPrompt(absl::string_view knob, const std::string& path,
                                       bool has_passphrase);

// CheckEndpointCount()
//
// For drivers' factories: kInvalidArgument when `count` endpoints exceed
// kMaxEndpoints, naming the limit.
absl::Status CheckEndpointCount(size_t count);

// WipeSecret()
//
// For drivers: overwrites the bytes of `secret` with zeros in place
// (explicit_bzero, which the compiler may not drop), keeping its size, so
// that a password or token does not stay readable in freed memory. Copies
// made elsewhere (by the client library, or before a string grew) are not
// reached.
void WipeSecret(std::string* secret);

// QuoteSettingValue()
//
// For drivers' messages: `text` in double quotes with '"' and '\' escaped
// and control characters as \xNN; or, when `secret`, a note saying that the
// text is not shown because it may be part of the password.
std::string QuoteSettingValue(absl::string_view text, bool secret);

// EscapeServerText()
//
// For drivers' messages: text from a server or client library, made safe
// for one log line. Trailing white space is dropped, a newline (with any
// '\r' next to it) becomes a space, and every other control character
// (C0, DEL, such as '\r' or the ESC of an ANSI sequence) becomes \xNN.
std::string EscapeServerText(absl::string_view text);

// ConnectSettings
//
// The driver-specific part of a builder: where and how to connect. Each
// driver's factory validates and interprets it. Its secrets are zeroed
// before its memory is freed (see WipeSecrets()).
struct ConnectSettings {
  ConnectSettings() = default;
  ConnectSettings(const ConnectSettings&) = default;
  ConnectSettings(ConnectSettings&&) = default;
  ConnectSettings& operator=(const ConnectSettings&) = default;
  ConnectSettings& operator=(ConnectSettings&&) = default;
  ~ConnectSettings() { WipeSecrets(); }

  // Zeroes, in place, the text that may hold a secret: the password, the DSN
  // (its userinfo or password keyword) and every option value (some are
  // secrets, such as libpq's sslpassword). Sizes stay; see WipeSecret().
  void WipeSecrets();

  std::vector<Endpoint> endpoints;  // from Builder::endpoint(), in order
  std::string dsn;                  // Builder::dsn(); may add endpoints
  std::string database;
  std::string user;
  std::string password;                                      // a secret: never put it in a message
  std::vector<std::pair<std::string, std::string>> options;  // Builder::option()
  std::optional<TlsPolicy> tls;                              // Builder::require_tls()
  CredentialsProvider credentials;                           // Builder::credentials()
};

// DriverSetup
//
// What a driver factory returns: the driver, and every endpoint (those of
// the builder, then those of the DSN) in preference order.
struct DriverSetup {
  std::shared_ptr<Driver> driver;
  std::vector<Endpoint> endpoints;
};

}  // namespace dbpool

#endif  // DBPOOL_DRIVER_H_
