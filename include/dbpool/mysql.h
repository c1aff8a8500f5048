// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/mysql.h
//
// The MySQL / MariaDB pool over the libmysqlclient C API (MariaDB
// Connector/C 3.x or Oracle's libmysqlclient): dbpool::MySqlPool,
// dbpool::MySqlLease, and helpers turning client errors into absl::Status.
// Link dbpool::mysql.
//
//   absl::StatusOr<dbpool::MySqlPool> pool = dbpool::MySqlPool::Builder()
//       .endpoint("127.0.0.1", 3306).database("app").user("app")
//       .password("secret").option("ssl_mode", "REQUIRED").max_size(16).build();
//   absl::StatusOr<dbpool::MySqlLease> lease = pool->acquire();
//   if (mysql_query(lease->native(), "SELECT 1") != 0) {
//     return dbpool::MySqlStatus(lease->native());
//   }
//
// The full reference (DSN grammar, option table, what each client library
// supports, error mapping) is docs/mysql.md.
#ifndef DBPOOL_MYSQL_H_
#define DBPOOL_MYSQL_H_

#include <mysql.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dbpool/driver.h"
#include "dbpool/lease.h"
#include "dbpool/outcome.h"
#include "dbpool/pool.h"

namespace dbpool {

// MySql
//
// The driver traits behind MySqlPool.
//
// Builder::dsn() takes a URI:
//   mysql://user:password@host1:3306,[::1]:3307,host3/database?key=value&...
// ("mariadb://" works too). User, password, database, hosts and option values
// are percent-decoded; a port defaults to 3306; an IPv6 address goes in
// brackets; a percent-encoded host starting with '/' ("%2Frun%2Fmysqld.sock")
// is a Unix socket path. Reserved characters in the password must be
// percent-encoded (an unencoded '@' is tolerated). A malformed DSN makes
// build() fail with kInvalidArgument giving the 0-based position of the
// problem; the user info is never quoted in a message.
//
// A host starting with '/' (in endpoint() or the DSN) is a Unix socket path;
// its port is not used but must still be in range. Any other host, even
// "localhost", is reached over TCP.
//
// Merge rules: DSN hosts are appended after the Builder::endpoint() ones;
// database(), user() and password() given to the builder (non-empty) win
// over the DSN's; DSN options come first and Builder::option()s after them,
// so a builder option wins.
//
// Builder::option() keys (also accepted as DSN query options; '-' and '_'
// are interchangeable and keys are case-insensitive). Every key and value is
// checked by build(), which returns kInvalidArgument naming the key and the
// allowed values; nothing is left to fail at connect time.
//   connect_timeout        seconds, 1..86400: a cap on connecting; the pool's
//                          connect_timeout deadline always applies as well
//   read_timeout           seconds, 1..86400: MYSQL_OPT_READ_TIMEOUT
//   write_timeout          seconds, 1..86400: MYSQL_OPT_WRITE_TIMEOUT
//   charset                character set name ([A-Za-z0-9_]+):
//                          MYSQL_SET_CHARSET_NAME, e.g. "utf8mb4"
//   init_command           SQL run by the library on every connect
//                          (MYSQL_INIT_COMMAND); repeatable, kept in order,
//                          and run again after a full reset
//   compress               bool: MYSQL_OPT_COMPRESS
//   ssl_mode               DISABLED, PREFERRED, REQUIRED, VERIFY_CA,
//                          VERIFY_IDENTITY (case-insensitive). Unset: the
//                          client library's default. See docs/mysql.md for
//                          how each library enforces it.
//   ssl_ca, ssl_cert,
//   ssl_key                readable files (checked by build()):
//                          MYSQL_OPT_SSL_CA / _CERT / _KEY
//   ssl_capath             a readable directory: MYSQL_OPT_SSL_CAPATH
//   ssl_cipher             a cipher list: MYSQL_OPT_SSL_CIPHER
//                          (none of these five with ssl_mode=DISABLED)
//   tls_version            "TLSv1.2", "TLSv1.3" or both, comma-separated:
//                          MYSQL_OPT_TLS_VERSION
//   ssl_verify_server_cert bool. true = ssl_mode VERIFY_IDENTITY (conflicts
//                          with DISABLED, PREFERRED, REQUIRED); false turns
//                          verification off (conflicts with VERIFY_*)
// Bools are 1/0, true/false, on/off or yes/no.
//
// Connections are opened with CLIENT_MULTI_STATEMENTS and automatic
// reconnection off. With MariaDB Connector/C every call the pool makes
// (connect, ping, rollback, reset, role probe, init_sql) is non-blocking and
// gives up at its deadline; with Oracle's libmysqlclient the calls block and
// are bounded by connect_timeout, read_timeout and write_timeout.
struct MySql {
  using Native = MYSQL;

  // make_driver()
  //
  // Validates `settings` (endpoints, DSN, options) and builds the driver.
  // Initializes the client library once per process. Errors:
  // kInvalidArgument naming the knob, option key or DSN position;
  // kInternal when the client library fails to initialize.
  static absl::StatusOr<DriverSetup> make_driver(const ConnectSettings& settings);
};

using MySqlPool = Pool<MySql>;
using MySqlLease = Lease<MySql>;

// The payload key under which MySqlStatus() stores the client error number
// (as decimal text, e.g. "1146").
inline constexpr absl::string_view kMySqlErrnoPayload = "dbpool.mysql_errno";

// MySqlStatus(conn)
//
// OK when mysql_errno(conn) is 0; otherwise a status whose code follows
// MySqlStatusFromErrno() and whose message is the client's message followed
// by "(MySQL error 1146, SQLSTATE 42S02)"; the error number is also stored
// as the kMySqlErrnoPayload payload. An error number MySqlStatusFromErrno()
// does not know is classified by its SQLSTATE class instead (08 ->
// kUnavailable, 23 -> kFailedPrecondition, 40 -> kAborted, 22/42 ->
// kInvalidArgument, 28 -> kUnauthenticated, else kUnknown). Error 4031 from
// a MariaDB server (where it is not a timeout) is kUnknown. No I/O; call it
// from the thread that made the failing call. A null `conn` gives
// kInvalidArgument.
//
// It is meant for the failure of a command the application sent, and
// carries what is known of that command's effect as the kOutcomePayload
// payload (dbpool/outcome.h):
//   - outcome unknown (IsOutcomeUnknown() is true; code kUnavailable): 2013
//     and 2055 (connection lost while waiting for the reply), 2006 (server
//     gone while sending), 5013, 5014 (Connector/C read/write error): the
//     server may have run the statement.
//   - not applied: every error number the server sent (it refused the
//     statement or rolled it back: 1290, 1836, 1792 read-only, 1213, 1205,
//     1062, 1053, 4031, ...), and the connect errors 2001..2005, 2011, 2012,
//     2026 (nothing reached a server).
//   - unclassified: the other client errors (2014, 2008, ...).
absl::Status MySqlStatus(MYSQL* conn);

// MySqlStatusFromErrno()
//
// The status code for a client or server error number:
//   0                                           -> kOk
//   2001..2006, 2011..2013, 2026, 2055, 5013,
//   5014 (cannot connect, connection lost,
//   TLS failure), 1053 (server shutdown), 1927
//   (connection killed), 4031 (MySQL: idle
//   disconnect), 1040, 1203 (too many
//   connections), 1129 (host blocked)           -> kUnavailable
//   1290, 1836, 1792 (the server or transaction
//   is read-only)                               -> kUnavailable, so that the
//                                                  failover layer and
//                                                  with_retry() move to the
//                                                  new primary. Note 1290 also
//                                                  covers other --option
//                                                  refusals (secure_file_priv)
//   1045                                        -> kUnauthenticated
//   1044, 1142, 1143, 1227, 1130                -> kPermissionDenied
//   1049 (unknown database), 1146 (no table)    -> kNotFound
//   1062 (duplicate key)                        -> kAlreadyExists
//   1213 (deadlock), 1205 (lock wait timeout)   -> kAborted (retry the
//                                                  transaction)
//   1317 (query interrupted)                    -> kCancelled
//   1969, 3024 (statement timeout)              -> kDeadlineExceeded
//   1064 (syntax error)                         -> kInvalidArgument
//   2014 (commands out of sync)                 -> kFailedPrecondition
//   2008 (client out of memory)                 -> kResourceExhausted
//   anything else                               -> kUnknown
absl::StatusCode MySqlStatusFromErrno(unsigned int err);

}  // namespace dbpool

#endif  // DBPOOL_MYSQL_H_
