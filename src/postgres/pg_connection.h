// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PgConnection: one libpq connection as the pool core sees it.
#ifndef DBPOOL_POSTGRES_PG_CONNECTION_H_
#define DBPOOL_POSTGRES_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <atomic>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dbpool/driver.h"

namespace dbpool {
namespace postgres_internal {

// The election probe's query: one row, one text column
// "<in recovery>,<default_transaction_read_only>,<transaction_read_only>,
// <timeline>", the timeline empty when unknown. A primary's timeline is that
// of its current WAL file (pg_control_checkpoint() lags until the first
// checkpoint after a promotion); a replica's is the one its WAL receiver
// gets (NULL without pg_read_all_stats, or with no receiver running).
extern const char kPgProbeSql[];

// Reads kPgProbeSql's answer. kUnknown naming the answer if it is not one.
absl::StatusOr<ProbeResult> ParsePgProbe(absl::string_view answer);

// Owns a PGconn in blocking mode (as users expect). The pool's own round
// trips (ping, rollback, reset, probe) are sent asynchronously and waited on
// with poll(), so none outlives its deadline; one that times out leaves the
// connection marked broken.
class PgConnection final : public DriverConnection {
 public:
  // Takes ownership of an established connection.
  explicit PgConnection(PGconn* conn);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection() override;

  void* native_handle() override { return conn_; }
  SessionState session_state() override;
  absl::Status ping(absl::Time deadline) override;
  absl::Status execute(absl::string_view sql, absl::Time deadline) override;
  absl::Status rollback(absl::Time deadline) override;
  absl::Status full_reset(absl::Time deadline) override;
  absl::StatusOr<Role> probe_role(absl::Time deadline) override;
  // One round trip (kPgProbeSql): recovery, both read-only settings and
  // the timeline.
  absl::StatusOr<ProbeResult> probe(absl::Time deadline) override;
  void interrupt() override;

  // begin(): BEGIN, and in the same round trip (one simple-query string)
  // the transaction's id, pg_current_xact_id() (txid_current() before
  // PostgreSQL 13), with the WAL timeline, as "<xid>@<timeline>". The id is
  // thereby assigned even to a transaction that writes nothing; on a hot
  // standby none is (std::nullopt). commit(): COMMIT (refused with
  // kFailedPrecondition when the transaction already failed, where COMMIT
  // would roll back and answer OK).
  absl::Status begin(absl::Time deadline) override;
  absl::Status commit(absl::Time deadline) override;
  // BEGIN alone; current_txn_id() then asks
  // pg_current_xact_id_if_assigned() (txid_current_if_assigned() before 13)
  // and the timeline in a round trip of its own.
  absl::Status begin_deferring_txn_id(absl::Time deadline) override;
  // The id begin() took: no round trip; after begin_deferring_txn_id(), the
  // id asked now, std::nullopt when the transaction has none (it wrote
  // nothing, or runs on a hot standby). kFailedPrecondition as commit().
  absl::StatusOr<std::optional<std::string>> current_txn_id(absl::Time deadline) override;
  // pg_xact_status() (txid_status() before 13), and the asked server's
  // timeline. NULL (the xid is older than the server keeps status for) and
  // SQLSTATE 22023 "in the future" (the server never assigned it: a server
  // that took over after losing it) give kUnknown. On another timeline (a
  // promotion since the COMMIT) "committed" is not trusted (kUnknown: the
  // promoted server may have reused an id it never saw), while "aborted" and
  // "in progress" both mean not committed there (kAborted).
  absl::StatusOr<TxnResolution> resolve_txn(const std::string& id, absl::Time deadline) override;

 private:
  // Sends `sql` in non-blocking mode within `deadline`, then puts the
  // connection back in blocking mode; on failure the connection is broken.
  absl::Status Send(const std::string& sql, absl::Time deadline);

  // Sends `sql`, waits for every result, and returns the first error; when
  // `first_value` is set, stores the first row's first column in it.
  absl::Status Run(absl::string_view sql, absl::Time deadline, std::string* first_value);

  PGconn* const conn_;
  // A duplicate of libpq's socket, taken at connect, so that interrupt()
  // (any thread, any time) reaches this connection's socket even after
  // libpq closed its own descriptor (it does on a lost connection), whose
  // number may by then belong to another socket or file. -1 if none.
  const int socket_dup_;
  std::atomic<bool> broken_{false};
  // The open transaction's id, taken by begin().
  std::optional<std::string> txn_id_;
  // Whether the open transaction was begun by begin_deferring_txn_id().
  bool txn_id_deferred_ = false;
};

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_CONNECTION_H_
