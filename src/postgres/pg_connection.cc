// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "postgres/pg_connection.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "dbpool/postgres.h"
#include "postgres/pg_socket_wait.h"

namespace dbpool {
namespace postgres_internal {

absl::Status WaitForSocket(int fd, bool for_write, absl::Time deadline, bool or_readable) {
  if (fd < 0) return absl::UnavailableError("connection has no socket");
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("timed out");
    pollfd p{};
    p.fd = fd;
    p.events = static_cast<short>((for_write ? POLLOUT : POLLIN) | (or_readable ? POLLIN : 0));
    const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
    const int rc = ::poll(&p, 1, static_cast<int>(ms > 3600000 ? 3600000 : ms));
    if (rc > 0) return absl::OkStatus();  // ready, or an error libpq will report
    if (rc < 0 && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
    }
  }
}

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
    absl::Status ready = WaitForSocket(PQsocket(conn_), /*for_write=*/true, deadline,
                                       /*or_readable=*/true);
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
  if (absl::Status sent = Send(std::string(sql), deadline); !sent.ok()) return sent;
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

void PgConnection::interrupt() {
  broken_ = true;
  if (socket_dup_ >= 0) ::shutdown(socket_dup_, SHUT_RDWR);
}

}  // namespace postgres_internal
}  // namespace dbpool
