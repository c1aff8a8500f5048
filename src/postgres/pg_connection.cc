// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "postgres/pg_connection.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "dbpool/outcome.h"
#include "dbpool/postgres.h"
#include "postgres/pg_socket_wait.h"

namespace dbpool {
namespace postgres_internal {

PgConnection::PgConnection(PGconn* conn)
    : conn_(conn),
      socket_dup_(PQsocket(conn) >= 0 ? ::fcntl(PQsocket(conn), F_DUPFD_CLOEXEC, 0) : -1) {}

PgConnection::~PgConnection() {
  PQfinish(conn_);
  if (socket_dup_ >= 0) ::close(socket_dup_);
}

SessionState PgConnection::session_state() {
  if (broken_.load(std::memory_order_relaxed) || PQstatus(conn_) != CONNECTION_OK) {
    return SessionState::kBroken;
  }
  if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF || PQisBusy(conn_)) return SessionState::kBusy;
  switch (PQtransactionStatus(conn_)) {
    case PQTRANS_IDLE:
      return SessionState::kIdle;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
      return SessionState::kInTransaction;
    case PQTRANS_ACTIVE:
      return SessionState::kBusy;
    case PQTRANS_UNKNOWN:
      break;
  }
  return SessionState::kBroken;
}

absl::Status PgConnection::Send(const std::string& sql, absl::Time deadline) {
  // Non-blocking while sending, so that a server that stops reading (its
  // receive window full) cannot hold this call in libpq's flush past the
  // deadline; blocking again once all is sent, as users expect.
  if (PQsetnonblocking(conn_, 1) != 0 || PQsendQuery(conn_, sql.c_str()) == 0) {
    broken_ = PQstatus(conn_) != CONNECTION_OK;
    const absl::Status status = PgStatus(static_cast<const PGconn*>(conn_));
    PQsetnonblocking(conn_, 0);
    return status.ok() ? absl::InternalError(PQerrorMessage(conn_)) : status;
  }
  for (;;) {
    const int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) {
      broken_ = true;
      return PgStatus(static_cast<const PGconn*>(conn_));
    }
    // Read what the server sends meanwhile, so that neither side waits on
    // the other's full buffer.
    absl::Status ready = WaitForSocket(PQsocket(conn_), SocketReady::kWritableOrReadable, deadline);
    if (!ready.ok()) {
      broken_ = true;  // part of the command is still unsent: unusable
      return absl::Status(ready.code(), absl::StrCat("sending to the server: ", ready.message()));
    }
    if (PQconsumeInput(conn_) == 0) {
      broken_ = true;
      return PgStatus(static_cast<const PGconn*>(conn_));
    }
  }
  if (PQsetnonblocking(conn_, 0) != 0) {
    broken_ = true;
    return absl::InternalError("dbpool: cannot set the connection back to blocking mode");
  }
  return absl::OkStatus();
}

absl::Status PgConnection::Run(absl::string_view sql, absl::Time deadline,
                               std::string* first_value) {
  if (broken_.load(std::memory_order_relaxed)) return absl::UnavailableError("connection broken");
  if (absl::Status sent = Send(std::string(sql), deadline); !sent.ok()) {
    // Not sent, or not wholly: the server runs no part of a command it has
    // not received whole.
    return WithOutcome(sent, Outcome::kNotApplied);
  }
  // From here on `sql` was sent: losing its reply leaves its outcome unknown.
  absl::Status first_error;
  for (;;) {
    while (PQisBusy(conn_)) {
      absl::Status ready = WaitForSocket(PQsocket(conn_), SocketReady::kReadable, deadline);
      if (!ready.ok()) {
        broken_ = true;  // a result is still in flight: unusable
        return MarkOutcomeUnknown(
            absl::Status(ready.code(), absl::StrCat("waiting for the server: ", ready.message())));
      }
      if (PQconsumeInput(conn_) == 0) {
        broken_ = true;
        return MarkOutcomeUnknown(PgStatus(static_cast<const PGconn*>(conn_)));
      }
    }
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) break;
    if (first_error.ok()) {
      first_error = PgStatus(result, conn_);
      if (first_value != nullptr && first_error.ok() && PQntuples(result) > 0 &&
          PQnfields(result) > 0) {
        *first_value = PQgetvalue(result, 0, 0);
      }
    }
    PQclear(result);
  }
  if (PQstatus(conn_) != CONNECTION_OK) broken_ = true;
  return first_error;
}

absl::Status PgConnection::ping(absl::Time deadline) { return Run("", deadline, nullptr); }

absl::Status PgConnection::execute(absl::string_view sql, absl::Time deadline) {
  return Run(sql, deadline, nullptr);
}

absl::Status PgConnection::rollback(absl::Time deadline) {
  txn_id_.reset();
  return Run("ROLLBACK", deadline, nullptr);
}

absl::Status PgConnection::full_reset(absl::Time deadline) {
  return Run("DISCARD ALL", deadline, nullptr);
}

absl::StatusOr<Role> PgConnection::probe_role(absl::Time deadline) {
  std::string in_recovery;
  absl::Status status = Run("SELECT pg_catalog.pg_is_in_recovery()", deadline, &in_recovery);
  if (!status.ok()) return status;
  return in_recovery == "t" ? Role::kReplica : Role::kPrimary;
}

namespace {

// A transaction that failed earlier: COMMIT would roll it back and answer
// OK. kFailedPrecondition (not applied), or OK.
absl::Status RefuseFailedTransaction(const PGconn* conn) {
  if (PQtransactionStatus(conn) != PQTRANS_INERROR) return absl::OkStatus();
  return WithOutcome(absl::FailedPreconditionError(
                         "postgres: the transaction failed before COMMIT (an error inside it "
                         "was not returned); it is rolled back"),
                     Outcome::kNotApplied);
}

}  // namespace

absl::Status PgConnection::commit(absl::Time deadline) {
  if (absl::Status failed = RefuseFailedTransaction(conn_); !failed.ok()) return failed;
  txn_id_.reset();
  return Run("COMMIT", deadline, nullptr);
}

// The timeline of the server's WAL, as 8 hex digits: it changes with every
// promotion, so a server on the timeline a transaction ran on is that
// server (or one that replayed all of its history up to now).
constexpr absl::string_view kTimelineSql = "substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)";

absl::Status PgConnection::begin(absl::Time deadline) {
  txn_id_.reset();
  txn_id_deferred_ = false;
  // BEGIN and the id in one simple-query string: one round trip, as a
  // hand-written BEGIN. The id is assigned here even if the transaction
  // writes nothing (docs/failover.md, "What taking the id at BEGIN costs").
  // A hot standby assigns none (its transactions cannot write): "". The
  // timeline is asked every time: behind a pooler (PgBouncer) this
  // connection's next transaction may run on another server, e.g. one
  // promoted since.
  const std::string sql =
      absl::StrCat("BEGIN; SELECT CASE WHEN pg_is_in_recovery() THEN '' ELSE ",
                   PQserverVersion(conn_) >= 130000 ? "pg_current_xact_id()" : "txid_current()",
                   "::text || '@' || ", kTimelineSql, " END");
  std::string id;
  if (absl::Status status = Run(sql, deadline, &id); !status.ok()) return status;
  if (!id.empty()) txn_id_ = std::move(id);
  return absl::OkStatus();
}

absl::Status PgConnection::begin_deferring_txn_id(absl::Time deadline) {
  txn_id_.reset();
  if (absl::Status status = Run("BEGIN", deadline, nullptr); !status.ok()) return status;
  txn_id_deferred_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> PgConnection::current_txn_id(absl::Time deadline) {
  if (absl::Status failed = RefuseFailedTransaction(conn_); !failed.ok()) return failed;
  if (!txn_id_deferred_) return txn_id_;
  // "<xid>@<timeline>", or "" when no xid was assigned (on a hot standby
  // none can be).
  std::string id;
  absl::Status status =
      Run(absl::StrCat("SELECT CASE WHEN pg_is_in_recovery() THEN '' ELSE coalesce(",
                       PQserverVersion(conn_) >= 130000 ? "pg_current_xact_id_if_assigned()"
                                                        : "txid_current_if_assigned()",
                       "::text || '@' || ", kTimelineSql, ", '') END"),
          deadline, &id);
  if (!status.ok()) return status;
  if (id.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(id));
}

absl::StatusOr<TxnResolution> PgConnection::resolve_txn(const std::string& id,
                                                        absl::Time deadline) {
  const size_t at = id.find('@');
  const std::string xid = id.substr(0, at);
  const std::string timeline = at == std::string::npos ? "" : id.substr(at + 1);
  if (xid.empty() || xid.find_first_not_of("0123456789") != std::string::npos ||
      timeline.size() != 8 || timeline.find_first_not_of("0123456789ABCDEF") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("postgres: not a transaction id: ", id));
  }
  const bool xid8 = PQserverVersion(conn_) >= 130000;
  const std::string sql = absl::StrCat("SELECT coalesce(",
                                       xid8 ? absl::StrCat("pg_xact_status('", xid, "'::xid8)")
                                            : absl::StrCat("txid_status(", xid, ")"),
                                       ", 'null') || '@' || ", kTimelineSql);
  std::string answer;
  absl::Status status = Run(sql, deadline, &answer);
  TxnResolution resolution;
  if (!status.ok()) {
    const auto state = status.GetPayload(kSqlStatePayload);
    if (!state.has_value() || *state != "22023") return status;
    resolution.detail = absl::StrCat("transaction ", xid,
                                     " was never assigned on this server (a server that took "
                                     "over without it, e.g. through asynchronous replication)");
    return resolution;
  }
  const size_t answer_at = answer.rfind('@');
  const std::string fate = answer.substr(0, answer_at);
  const bool same_timeline =
      answer_at != std::string::npos && answer.substr(answer_at + 1) == timeline;
  if (fate == "committed") {
    if (same_timeline) {
      resolution.status = TxnStatus::kCommitted;
    } else {
      // After a promotion the new primary may have given the number to a
      // transaction of its own, if it never saw this one's writes.
      resolution.detail = absl::StrCat(
          "transaction ", xid, " ran on timeline ", timeline, " and this server is on timeline ",
          answer.substr(answer_at + 1),
          " (a promotion since): its \"committed\" may concern another transaction that reused "
          "the id");
    }
  } else if (fate == "aborted" || (fate == "in progress" && !same_timeline)) {
    // Not committed here: rolled back, or (on a promoted server) never seen
    // and the id reused by a transaction still running.
    resolution.status = TxnStatus::kAborted;
  } else if (fate == "in progress") {
    resolution.status = TxnStatus::kInProgress;
  } else {
    resolution.detail =
        absl::StrCat("transaction ", xid, " is older than this server keeps commit status for");
  }
  return resolution;
}

const char kPgProbeSql[] =
    "SELECT pg_catalog.concat_ws(',', pg_catalog.pg_is_in_recovery(),"
    " pg_catalog.current_setting('default_transaction_read_only'),"
    " pg_catalog.current_setting('transaction_read_only'),"
    " COALESCE(CASE WHEN pg_catalog.pg_is_in_recovery()"
    " THEN (SELECT received_tli FROM pg_catalog.pg_stat_wal_receiver LIMIT 1)"
    " ELSE ('x' || pg_catalog.substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()),"
    " 1, 8))::bit(32)::int END::text, ''),"
    // A replica's replay lag in seconds: 0 when it has replayed all it
    // received, else the age of its last replayed transaction (the usual
    // measure: an idle primary sends nothing, and then nothing is behind).
    " CASE WHEN pg_catalog.pg_is_in_recovery() THEN COALESCE(CASE WHEN"
    " pg_catalog.pg_last_wal_receive_lsn() = pg_catalog.pg_last_wal_replay_lsn() THEN '0'"
    " ELSE EXTRACT(EPOCH FROM pg_catalog.now() -"
    " pg_catalog.pg_last_xact_replay_timestamp())::text END, '') ELSE '' END)";

absl::StatusOr<ProbeResult> ParsePgProbe(absl::string_view answer) {
  const std::vector<absl::string_view> fields = absl::StrSplit(answer, ',');
  auto flag = [](absl::string_view v, bool* out) {
    if (v == "t" || v == "true" || v == "on") {
      *out = true;
    } else if (v == "f" || v == "false" || v == "off") {
      *out = false;
    } else {
      return false;
    }
    return true;
  };
  bool in_recovery = false, default_read_only = false, read_only = false;
  int64_t timeline = 0;
  double lag_seconds = 0;
  if (fields.size() != 5 || !flag(fields[0], &in_recovery) ||
      !flag(fields[1], &default_read_only) || !flag(fields[2], &read_only) ||
      (!fields[3].empty() && (!absl::SimpleAtoi(fields[3], &timeline) || timeline <= 0)) ||
      (!fields[4].empty() &&
       (!absl::SimpleAtod(fields[4], &lag_seconds) || !(lag_seconds < 1e9)))) {
    return absl::UnknownError(
        absl::StrCat("dbpool: postgres role probe: unexpected answer \"", answer, "\""));
  }
  ProbeResult result;
  result.role = in_recovery ? Role::kReplica : Role::kPrimary;
  result.read_only = default_read_only || read_only;
  if (!fields[3].empty()) result.timeline = timeline;
  // A clock skew between the servers can make the age negative: no lag.
  if (in_recovery && !fields[4].empty()) {
    result.replay_lag = absl::Seconds(std::max(0.0, lag_seconds));
  }
  return result;
}

absl::StatusOr<ProbeResult> PgConnection::probe(absl::Time deadline) {
  std::string answer;
  if (absl::Status status = Run(kPgProbeSql, deadline, &answer); !status.ok()) return status;
  return ParsePgProbe(answer);
}

void PgConnection::interrupt() {
  broken_ = true;
  if (socket_dup_ >= 0) ::shutdown(socket_dup_, SHUT_RDWR);
}

}  // namespace postgres_internal
}  // namespace dbpool
