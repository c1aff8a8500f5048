// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "postgres/pg_connection.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "dbpool/postgres.h"
#include "postgres/pg_socket_wait.h"

namespace dbpool {
namespace postgres_internal {

absl::Status WaitForSocket(int fd, bool for_write, absl::Time deadline) {
  if (fd < 0) return absl::UnavailableError("connection has no socket");
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("timed out");
    pollfd p{};
    p.fd = fd;
    p.events = for_write ? POLLOUT : POLLIN;
    const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
    const int rc = ::poll(&p, 1, static_cast<int>(ms > 3600000 ? 3600000 : ms));
    if (rc > 0) return absl::OkStatus();  // ready, or an error libpq will report
    if (rc < 0 && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
    }
  }
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

absl::Status PgConnection::Run(absl::string_view sql, absl::Time deadline,
                               std::string* first_value) {
  if (broken_.load(std::memory_order_relaxed)) return absl::UnavailableError("connection broken");
  const std::string text(sql);
  if (PQsendQuery(conn_, text.c_str()) == 0) {
    broken_ = PQstatus(conn_) != CONNECTION_OK;
    return PgStatus(conn_).ok() ? absl::InternalError(PQerrorMessage(conn_)) : PgStatus(conn_);
  }
  absl::Status first_error;
  for (;;) {
    while (PQisBusy(conn_)) {
      absl::Status ready = WaitForSocket(PQsocket(conn_), /*for_write=*/false, deadline);
      if (!ready.ok()) {
        broken_ = true;  // a result is still in flight: unusable
        return absl::Status(ready.code(),
                            absl::StrCat("waiting for the server: ", ready.message()));
      }
      if (PQconsumeInput(conn_) == 0) {
        broken_ = true;
        return PgStatus(static_cast<const PGconn*>(conn_));
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

const char kPgProbeSql[] =
    "SELECT pg_catalog.concat_ws(',', pg_catalog.pg_is_in_recovery(),"
    " pg_catalog.current_setting('default_transaction_read_only'),"
    " pg_catalog.current_setting('transaction_read_only'),"
    " COALESCE(CASE WHEN pg_catalog.pg_is_in_recovery()"
    " THEN (SELECT received_tli FROM pg_catalog.pg_stat_wal_receiver LIMIT 1)"
    " ELSE ('x' || pg_catalog.substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()),"
    " 1, 8))::bit(32)::int END::text, ''))";

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
  if (fields.size() != 4 || !flag(fields[0], &in_recovery) ||
      !flag(fields[1], &default_read_only) || !flag(fields[2], &read_only) ||
      (!fields[3].empty() && (!absl::SimpleAtoi(fields[3], &timeline) || timeline <= 0))) {
    return absl::UnknownError(
        absl::StrCat("dbpool: postgres role probe: unexpected answer \"", answer, "\""));
  }
  ProbeResult result;
  result.role = in_recovery ? Role::kReplica : Role::kPrimary;
  result.read_only = default_read_only || read_only;
  if (!fields[3].empty()) result.timeline = timeline;
  return result;
}

absl::StatusOr<ProbeResult> PgConnection::probe(absl::Time deadline) {
  std::string answer;
  if (absl::Status status = Run(kPgProbeSql, deadline, &answer); !status.ok()) return status;
  return ParsePgProbe(answer);
}

void PgConnection::interrupt() {
  broken_ = true;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

}  // namespace postgres_internal
}  // namespace dbpool
