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
};

// ConnectWithCredentials()
//
// For drivers: runs `connect` with ResolveCredentials()' answer (see
// dbpool/credentials.h). When the server refuses them (kUnauthenticated or
// kPermissionDenied) and the provider now answers differently (it rotated
// between the two calls), runs `connect` once more with the new ones, so
// that a connect racing a rotation does not fail. A provider's error gets
// the message prefix "<context>: ".
absl::StatusOr<std::unique_ptr<DriverConnection>> ConnectWithCredentials(
    const CredentialsProvider& provider, const Endpoint& endpoint, const Credentials& configured,
    absl::string_view context,
    const std::function<absl::StatusOr<std::unique_ptr<DriverConnection>>(const Credentials&)>&
        connect);

// RequireTlsConflict()
//
// For drivers: the kInvalidArgument error of a driver setting `key`=`value`
// (from option() or the DSN) that is weaker than what require_tls() sets,
// `wanted`.
absl::Status RequireTlsConflict(absl::string_view key, absl::string_view value,
                                absl::string_view wanted);

// ConnectSettings
//
// The driver-specific part of a builder: where and how to connect. Each
// driver's factory validates and interprets it.
struct ConnectSettings {
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
