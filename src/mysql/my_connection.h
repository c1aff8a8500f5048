// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// MyConnection: one MYSQL handle as the pool core sees it.
#ifndef DBPOOL_MYSQL_MY_CONNECTION_H_
#define DBPOOL_MYSQL_MY_CONNECTION_H_

#include <mysql.h>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dbpool/driver.h"

namespace dbpool {
namespace mysql_internal {

// Whether a @@global.read_only / @@global.innodb_read_only value means
// read-only: anything but NULL, "", "0" and "OFF" (MariaDB 11 reports
// read_only as OFF, ON, NO_LOCK or NO_LOCK_NO_ADMIN).
bool ReadOnlyValueIsSet(const std::optional<std::string>& value);

// The queries of the election probe for a server that reports
// `server_info` (mysql_get_server_info) and `server_version`
// (mysql_get_server_version, e.g. 80036): the read-only flags, with
// @@global.super_read_only only where it exists (MySQL 5.7.8+, never
// MariaDB), and the replication-channel check (MariaDB: SHOW ALL SLAVES
// STATUS; MySQL 8.0.22+: SHOW REPLICA STATUS; older: SHOW SLAVE STATUS).
struct MyProbeQueries {
  std::string read_only;
  std::string replication;
};
MyProbeQueries MyProbeQueriesFor(absl::string_view server_info, unsigned long server_version);

// Owns a connected MYSQL handle. The handle stays usable with the ordinary
// blocking API (lease holders call mysql_query() on it); the pool's own
// round trips go through my_calls.h and so honour their deadlines with
// MariaDB Connector/C. A round trip abandoned at its deadline, a lost
// connection or interrupt() leave the connection broken.
class MyConnection final : public DriverConnection {
 public:
  // Takes ownership of `mysql`, connected to `endpoint` (for messages).
  // `init_commands` (the init_command options) run again after full_reset().
  MyConnection(MYSQL* mysql, std::string endpoint, std::vector<std::string> init_commands);
  MyConnection(const MyConnection&) = delete;
  MyConnection& operator=(const MyConnection&) = delete;
  // mysql_close(); a broken connection's socket is shut down first so that
  // closing never waits on a dead peer.
  ~MyConnection() override;

  void* native_handle() override { return mysql_; }

  // kBroken: interrupted, abandoned mid-call, last error a connection loss,
  // or no socket. kBusy: a result or further results are unread.
  // kInTransaction: SERVER_STATUS_IN_TRANS. No I/O.
  SessionState session_state() override;

  // COM_PING (mysql_ping; non-blocking with MariaDB Connector/C).
  absl::Status ping(absl::Time deadline) override;

  // Runs every statement of `sql` and frees every result.
  absl::Status execute(absl::string_view sql, absl::Time deadline) override;

  // "ROLLBACK".
  absl::Status rollback(absl::Time deadline) override;

  // "START TRANSACTION"; "COMMIT". Commits are not resolved on MySQL: a
  // COMMIT whose reply is lost stays outcome-unknown (current_txn_id() is
  // the default, kUnimplemented).
  absl::Status begin(absl::Time deadline) override;
  absl::Status commit(absl::Time deadline) override;

  // COM_RESET_CONNECTION (mysql_reset_connection; never re-authenticates),
  // then the init_command options again.
  absl::Status full_reset(absl::Time deadline) override;

  // SELECT @@global.read_only, @@global.innodb_read_only: either set ->
  // kReplica.
  absl::StatusOr<Role> probe_role(absl::Time deadline) override;

  // MyProbeQueriesFor()'s two queries: read-only when any flag is set, a
  // replica when a replication channel is configured. A user without the
  // privilege for the channel check (REPLICATION CLIENT / REPLICA MONITOR)
  // gets the read-only flags alone.
  absl::StatusOr<ProbeResult> probe(absl::Time deadline) override;

  // shutdown(SHUT_RDWR) on the socket (never close()). Thread-safe; makes
  // any call blocked on the connection, in any thread, fail.
  void interrupt() override;

 private:
  // Runs `sql` and reads every result. When `first_row` is set, it receives
  // the first row of the first result set (NULL as nullopt).
  absl::Status Query(absl::string_view sql, absl::Time deadline,
                     std::vector<std::optional<std::string>>* first_row);

  // The status of the handle's last error; marks the connection broken when
  // the error lost it.
  absl::Status LastError();

  // For a call abandoned half-way: marks the connection broken and returns
  // `wait` (kDeadlineExceeded or kUnavailable) saying what was abandoned.
  absl::Status Abandoned(absl::string_view what, const absl::Status& wait);

  // Refuses to start `what` on a broken connection (kUnavailable) or past
  // `deadline` (kDeadlineExceeded; the connection stays usable).
  absl::Status Begin(absl::string_view what, absl::Time deadline) const;

  MYSQL* const mysql_;
  const std::string endpoint_;
  const std::vector<std::string> init_commands_;
  // A duplicate of the connection's socket, taken at construction, so that
  // interrupt() (any thread, any time) reaches this connection's socket
  // even after the library closed its own descriptor, whose number may by
  // then belong to another file. -1 if none.
  const int socket_dup_;
  std::atomic<bool> broken_{false};
};

}  // namespace mysql_internal
}  // namespace dbpool

#endif  // DBPOOL_MYSQL_MY_CONNECTION_H_
