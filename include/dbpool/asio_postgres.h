// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/asio_postgres.h
//
// Queries on a PgLease that never block the calling thread, for standalone
// Asio (1.22 or later) and C++20 coroutines. Header-only: the dbpool
// libraries themselves do not depend on Asio; include this header (and
// <asio.hpp>) where the event loop lives and link dbpool::postgres.
//
//   asio::awaitable<void> handle(dbpool::PgLease lease) {
//     absl::StatusOr<dbpool::PgResultPtr> r =
//         co_await dbpool::async_query(lease, "SELECT 1", asio::use_awaitable);
//     if (!r.ok()) { /* r.status(): PgStatus()'s mapping */ }
//     else { const char* v = PQgetvalue(r->get(), 0, 0); }
//   }
//
// The contract (docs/async.md, "Queries without blocking"):
//   - One operation at a time per lease, and nothing else on the lease's
//     connection (no PQexec, no with_transaction) until it completes. The
//     lease must outlive the operation: do not release, discard or move
//     from it while an operation is pending.
//   - The socket is watched through an asio::posix::stream_descriptor that
//     owns a dup() of PQsocket(), taken afresh when each operation starts
//     and closed when it ends: Asio never closes libpq's descriptor, and
//     never watches a number libpq has closed and the process reused.
//   - The connection is in non-blocking mode (PQsetnonblocking(1)) while the
//     operation runs and back in the mode it had before when it completes.
//   - Completion: void(absl::StatusOr<PgResultPtr>), with any completion
//     token (a callback, asio::use_future, asio::use_awaitable,
//     asio::experimental::deferred). The handler runs on its associated
//     executor, by default the I/O executor below; never inside the
//     initiating call.
//   - Errors follow PgStatus() (dbpool/postgres.h), outcome included
//     (dbpool/outcome.h): a failure before the whole command reached the
//     socket is not applied; a connection lost after that is kUnavailable
//     and IsOutcomeUnknown().
//   - Cancellation: per-operation, through the handler's associated
//     cancellation slot (terminal, partial and total). See async_query().
//   - If the io_context is destroyed with the operation pending, the
//     handler and whatever it owns (a coroutine frame holding the lease) is
//     destroyed without running; a lease released so finds its connection
//     busy (a command in flight) and the pool closes that connection
//     (counted in PoolStats::closed_busy).
#ifndef DBPOOL_ASIO_POSTGRES_H_
#define DBPOOL_ASIO_POSTGRES_H_

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <asio.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "dbpool/outcome.h"
#include "dbpool/postgres.h"

namespace dbpool {

// PgResultDeleter
//
// Frees a PGresult with PQclear(). Null is fine.
struct PgResultDeleter {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};

// PgResultPtr
//
// Owns one PGresult (PQclear() when destroyed). Read it with libpq's
// accessors: PQntuples(r.get()), PQgetvalue(r.get(), row, column),
// PQgetisnull(...). async_query() hands out only results that PgStatus()
// calls OK (PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY). It does
// not refer to the connection: it stays valid after the lease is released.
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

namespace asio_pg_internal {

// What to send: a simple query, or one statement with text parameters.
struct QueryText {
  std::string sql;
  bool with_params = false;
  std::vector<std::optional<std::string>> params;
};

// The status of a failed send: libpq's view of the connection if it is
// lost, else libpq's message. Never sent whole, hence not applied.
inline absl::Status SendFailure(const PGconn* conn, absl::string_view what) {
  absl::Status status = PgStatus(conn);
  if (status.ok()) {
    status = absl::InternalError(absl::StrCat(
        "postgres: ", what, ": ", absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn))));
  }
  return WithOutcome(std::move(status), Outcome::kNotApplied);
}

// The state of one async_query() operation. It lives on the heap so that
// the descriptor stays put while the operation object moves from one
// intermediate handler to the next. Its destructor must not touch the
// PGconn: when an abandoned operation is destroyed, the handler (and with
// it the lease) may be gone first.
template <typename IoExecutor>
struct QueryState {
  QueryState(PGconn* c, QueryText t, const IoExecutor& ex)
      : conn(c), text(std::move(t)), socket(ex), ticker(ex) {}

  PGconn* const conn;
  QueryText text;
  asio::posix::stream_descriptor socket;  // owns a dup() of PQsocket()
  asio::steady_timer ticker;              // paces the reads once cancelling
  enum class Phase { kStart, kFlushing, kReading, kDone } phase = Phase::kStart;
  bool was_nonblocking = false;  // PQisnonblocking() before the operation
  bool set_nonblocking = false;  // this operation changed the mode
  bool cancel_sent = false;      // PQcancel() was tried
  int cancel_ticks = 0;          // ticker steps since then
  bool initiating = false;       // inside the initiating call
  absl::Status final_status;     // the operation's status once done
  absl::Status first_error;      // the first failed result
  PgResultPtr last;              // the last OK result
};

// Starts the operation: checks the connection, watches a fresh duplicate
// of its socket, goes non-blocking and sends. An error here means nothing
// was sent.
template <typename IoExecutor>
absl::Status Start(QueryState<IoExecutor>& s) {
  if (s.conn == nullptr) {
    return WithOutcome(absl::FailedPreconditionError("dbpool: async_query on an empty lease"),
                       Outcome::kNotApplied);
  }
  if (PQstatus(s.conn) != CONNECTION_OK) {
    return WithOutcome(PgStatus(static_cast<const PGconn*>(s.conn)), Outcome::kNotApplied);
  }
  if (PQisBusy(s.conn) || PQtransactionStatus(s.conn) == PQTRANS_ACTIVE) {
    return WithOutcome(absl::FailedPreconditionError(
                           "dbpool: async_query: the lease's connection has a command in "
                           "progress (one operation at a time per lease)"),
                       Outcome::kNotApplied);
  }
  // Taken now, not earlier: libpq may have closed and replaced its socket.
  const int fd = PQsocket(s.conn);
  const int dup = fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    return WithOutcome(
        absl::UnavailableError(absl::StrCat("dbpool: async_query: cannot watch the socket: ",
                                            fd < 0 ? "no socket" : std::strerror(errno))),
        Outcome::kNotApplied);
  }
  asio::error_code ec;
  s.socket.assign(dup, ec);
  if (ec) {
    ::close(dup);
    return WithOutcome(absl::UnavailableError(absl::StrCat(
                           "dbpool: async_query: cannot watch the socket: ", ec.message())),
                       Outcome::kNotApplied);
  }
  s.was_nonblocking = PQisnonblocking(s.conn) == 1;
  if (PQsetnonblocking(s.conn, 1) != 0) return SendFailure(s.conn, "non-blocking mode");
  s.set_nonblocking = !s.was_nonblocking;
  int sent = 0;
  if (s.text.with_params) {
    std::vector<const char*> values;
    values.reserve(s.text.params.size());
    for (const std::optional<std::string>& p : s.text.params) {
      values.push_back(p.has_value() ? p->c_str() : nullptr);
    }
    sent = PQsendQueryParams(s.conn, s.text.sql.c_str(), static_cast<int>(values.size()),
                             /*paramTypes=*/nullptr, values.data(), /*paramLengths=*/nullptr,
                             /*paramFormats=*/nullptr, /*resultFormat=*/0);
  } else {
    sent = PQsendQuery(s.conn, s.text.sql.c_str());
  }
  if (sent == 0) return SendFailure(s.conn, "sending the query");
  return absl::OkStatus();
}

// Asks the server to cancel the running statement. PQcancel() opens a new
// connection to the server and waits for it to take the request: it blocks
// the calling thread for one connection set-up (up to the TCP connect
// timeout when the server does not answer). A failed or ignored request
// changes nothing; the caller asks again (kTicksPerCancel).
inline void SendCancel(PGconn* conn) {
  PGcancel* cancel = PQgetCancel(conn);
  if (cancel == nullptr) return;
  char message[256];
  PQcancel(cancel, message, static_cast<int>(sizeof message));
  PQfreeCancel(cancel);
}

// Once a cancellation is requested, the operation reads the socket every
// kCancelTick and repeats the cancel request every kTicksPerCancel ticks
// (250 ms) until the server answers.
inline constexpr std::chrono::milliseconds kCancelTick{10};
inline constexpr int kTicksPerCancel = 25;

// Whether `fd` can be read now (a poll() that does not wait).
inline bool ReadableNow(int fd) {
  pollfd p{};
  p.fd = fd;
  p.events = POLLIN;
  return ::poll(&p, 1, 0) > 0;
}

// The composed operation behind async_query().
template <typename IoExecutor>
class QueryOp {
 public:
  QueryOp(PGconn* conn, QueryText text, const IoExecutor& ex)
      : state_(std::make_unique<QueryState<IoExecutor>>(conn, std::move(text), ex)) {}

  template <typename Self>
  void operator()(Self& self, asio::error_code ec = {}) {
    using Phase = typename QueryState<IoExecutor>::Phase;
    QueryState<IoExecutor>& s = *state_;
    s.initiating = false;  // set again below for the first step
    switch (s.phase) {
      case Phase::kStart: {
        self.reset_cancellation_state(asio::enable_total_cancellation());
        s.initiating = true;
        absl::Status started = Start(s);
        if (!started.ok()) return Finish(self, std::move(started));
        s.phase = Phase::kFlushing;
        Flush(self);
        return;
      }
      case Phase::kFlushing:
        if (ec && ec != asio::error::operation_aborted) {
          // Part of the command may still be unsent: the server runs no part
          // of a command it has not received whole.
          return Finish(self, WithOutcome(WaitFailure(ec), Outcome::kNotApplied));
        }
        // A cancellation while sending is acted on once all is sent (a
        // half-sent message cannot be taken back).
        if (PQconsumeInput(s.conn) == 0) {
          return Finish(self, SendFailure(s.conn, "sending the query"));
        }
        Flush(self);
        return;
      case Phase::kReading:
        if (ec && ec != asio::error::operation_aborted) {
          return Finish(self, MarkOutcomeUnknown(WaitFailure(ec)));
        }
        Read(self);
        return;
      case Phase::kDone:
        Complete(self);
        return;
    }
  }

 private:
  static absl::Status WaitFailure(const asio::error_code& ec) {
    return absl::UnavailableError(
        absl::StrCat("dbpool: async_query: waiting on the socket: ", ec.message()));
  }

  // The connection failed while the reply was awaited.
  static absl::Status LostReply(const PGconn* conn) {
    absl::Status status = PgStatus(conn);
    if (status.ok()) {
      status = absl::UnavailableError(
          absl::StrCat("postgres: reading the reply: ",
                       absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn))));
    }
    return MarkOutcomeUnknown(std::move(status));
  }

  template <typename Self>
  void Flush(Self& self) {
    QueryState<IoExecutor>& s = *state_;
    const int flushed = PQflush(s.conn);
    if (flushed < 0) return Finish(self, SendFailure(s.conn, "sending the query"));
    if (flushed > 0) {
      s.socket.async_wait(asio::posix::stream_descriptor::wait_write, std::move(self));
      return;
    }
    // From here on the command was sent: losing its reply leaves its
    // outcome unknown.
    s.phase = QueryState<IoExecutor>::Phase::kReading;
    if (s.initiating) {
      // No reply is read inside the initiating call: the first one is
      // waited for.
      s.socket.async_wait(asio::posix::stream_descriptor::wait_read, std::move(self));
      return;
    }
    Read(self);
  }

  template <typename Self>
  void Read(Self& self) {
    QueryState<IoExecutor>& s = *state_;
    if (s.cancel_sent) {
      // The server ignores a cancel request that reaches it before it
      // began the statement (it may still be reading a long one) or between
      // two statements: ask again until it answers.
      if (++s.cancel_ticks % kTicksPerCancel == 0) SendCancel(s.conn);
    } else if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none) {
      s.cancel_sent = true;
      SendCancel(s.conn);  // then drain: the server answers 57014 or the result
    }
    for (;;) {
      if (PQconsumeInput(s.conn) == 0) return Finish(self, LostReply(s.conn));
      while (!PQisBusy(s.conn)) {
        PGresult* raw = PQgetResult(s.conn);
        if (raw == nullptr) {
          absl::Status status = s.first_error;
          if (status.ok() && s.last == nullptr) {
            status = absl::InternalError("dbpool: async_query: the server sent no result");
          }
          return Finish(self, std::move(status));
        }
        PgResultPtr result(raw);
        const ExecStatusType type = PQresultStatus(raw);
        if (type == PGRES_COPY_IN || type == PGRES_COPY_OUT || type == PGRES_COPY_BOTH) {
          // PQgetResult() would return the COPY state forever. The
          // connection stays in COPY: busy, closed when the lease returns.
          return Finish(self, WithOutcome(absl::UnimplementedError(
                                              "dbpool: async_query does not run COPY; the "
                                              "connection is closed when the lease returns"),
                                          Outcome::kNotApplied));
        }
        if (!s.first_error.ok()) continue;  // drained, not kept
        absl::Status status = PgStatus(raw, s.conn);
        if (!status.ok()) {
          s.first_error = std::move(status);
          s.last.reset();
        } else {
          s.last = std::move(result);
        }
      }
      // Busy: more of a result is to come. libpq reads at most a buffer per
      // call; what the socket already holds is read without waiting.
      if (!ReadableNow(s.socket.native_handle())) break;
    }
    if (s.cancel_sent) {
      // Cancelling: look at the socket every tick, asking the server again
      // every kTicksPerCancel ticks.
      s.ticker.expires_after(kCancelTick);
      s.ticker.async_wait(std::move(self));
      return;
    }
    s.socket.async_wait(asio::posix::stream_descriptor::wait_read, std::move(self));
  }

  template <typename Self>
  void Finish(Self& self, absl::Status status) {
    QueryState<IoExecutor>& s = *state_;
    if (s.set_nonblocking && PQstatus(s.conn) == CONNECTION_OK) {
      // All output was flushed (or the connection is busy and will be
      // closed on return): this does not block.
      PQsetnonblocking(s.conn, 0);
    }
    asio::error_code ignored;
    s.socket.close(ignored);  // our duplicate only; libpq's stays open
    s.phase = QueryState<IoExecutor>::Phase::kDone;
    s.final_status = std::move(status);
    if (s.initiating) {
      // The reply may already be there when the query is sent: complete
      // through the handler's executor, never inside the initiating call.
      asio::post(std::move(self));
      return;
    }
    Complete(self);
  }

  template <typename Self>
  void Complete(Self& self) {
    QueryState<IoExecutor>& s = *state_;
    if (s.final_status.ok()) {
      self.complete(absl::StatusOr<PgResultPtr>(std::move(s.last)));
    } else {
      self.complete(absl::StatusOr<PgResultPtr>(std::move(s.final_status)));
    }
  }

  std::unique_ptr<QueryState<IoExecutor>> state_;
};

// Starts a QueryOp for the handler async_initiate() hands over. With no
// executor given, the handler's associated executor is the I/O executor.
struct InitiateQuery {
  template <typename Handler, typename IoExecutor>
  void operator()(Handler&& handler, PgLease* lease, QueryText text,
                  const IoExecutor& io_executor) const {
    PGconn* conn = lease->valid() ? lease->native() : nullptr;
    asio::async_compose<Handler, void(absl::StatusOr<PgResultPtr>)>(
        QueryOp<IoExecutor>(conn, std::move(text), io_executor), handler, io_executor);
  }

  template <typename Handler>
  void operator()(Handler&& handler, PgLease* lease, QueryText text) const {
    using Executor = asio::associated_executor_t<std::decay_t<Handler>>;
    static_assert(!std::is_same<Executor, asio::system_executor>::value,
                  "dbpool::async_query: this completion handler has no associated executor; "
                  "bind one (asio::bind_executor) or pass the I/O executor as the first "
                  "argument");
    const Executor executor = asio::get_associated_executor(handler);
    (*this)(std::forward<Handler>(handler), lease, std::move(text), executor);
  }
};

template <typename Executor>
using EnableIfExecutor = std::enable_if_t<asio::execution::is_executor<Executor>::value ||
                                          asio::is_executor<Executor>::value>;

}  // namespace asio_pg_internal

// async_query(lease, sql, token)
// async_query(lease, sql, params, token)
// async_query(io_executor, lease, sql, token)
// async_query(io_executor, lease, sql, params, token)
//
// Sends `sql` on the lease's connection and completes with its result,
// without blocking the calling thread: void(absl::StatusOr<PgResultPtr>).
//
// `sql` may hold several statements (simple query protocol, no
// parameters): the result is that of the last statement, or the first
// error (the server runs none after it). With `params` it is one statement
// with text parameters $1..$n (PQsendQueryParams; std::nullopt is NULL;
// types inferred by the server).
//
// The I/O executor watches the socket: the one given, else the completion
// handler's associated executor, which must then be an I/O executor (an
// io_context's, or the asio::any_io_executor of a coroutine using
// asio::use_awaitable). A plain callback or asio::use_future has none that
// can watch a socket: pass the executor (a callback without one fails to
// compile with a message saying so).
//
// Errors, all through PgStatus() and with the outcome payload:
//   kFailedPrecondition (not applied): the lease is empty, or its
//     connection has a command in progress;
//   kUnavailable (not applied): the connection was lost before the
//     command was sent whole, or its socket cannot be watched;
//   kUnavailable (IsOutcomeUnknown()): the connection was lost after it
//     was sent, e.g. pg_terminate_backend() or the pool's interrupt() of a
//     connection whose endpoint went down (it shuts the socket down: the
//     operation sees the end of the stream at once);
//   the SQLSTATE's code for a server error (a syntax error:
//     kInvalidArgument; an unknown table: kNotFound; ...);
//   kUnimplemented: COPY (the connection is closed when the lease returns).
//
// Cancellation: when the handler's cancellation slot is emitted (any
// type), the operation asks the server to cancel the statement with
// PQcancel() and goes on reading until the server has answered, asking
// again every 250 ms meanwhile (the server ignores a request that arrives
// before it began the statement, e.g. while it still reads a long one). It
// then completes with kCancelled (SQLSTATE 57014), and the connection is
// idle and usable again. If the statement had finished before the request
// arrived, the operation completes with its result instead. A cancellation
// while the command is still being written takes effect once it is all
// sent. PQcancel() opens a connection of its own to the server and blocks
// the calling thread (the I/O executor's) until the server has taken the
// request: a connect's time to a reachable server, up to the system's TCP
// connect timeout to one that does not answer. Emit the signal on the I/O
// executor's thread.
template <typename CompletionToken>
auto async_query(PgLease& lease, std::string sql, CompletionToken&& token) {
  asio_pg_internal::QueryText text;
  text.sql = std::move(sql);
  return asio::async_initiate<CompletionToken, void(absl::StatusOr<PgResultPtr>)>(
      asio_pg_internal::InitiateQuery{}, token, &lease, std::move(text));
}

template <typename CompletionToken>
auto async_query(PgLease& lease, std::string sql, std::vector<std::optional<std::string>> params,
                 CompletionToken&& token) {
  asio_pg_internal::QueryText text;
  text.sql = std::move(sql);
  text.with_params = true;
  text.params = std::move(params);
  return asio::async_initiate<CompletionToken, void(absl::StatusOr<PgResultPtr>)>(
      asio_pg_internal::InitiateQuery{}, token, &lease, std::move(text));
}

template <typename Executor, typename CompletionToken,
          typename = asio_pg_internal::EnableIfExecutor<Executor>>
auto async_query(const Executor& io_executor, PgLease& lease, std::string sql,
                 CompletionToken&& token) {
  asio_pg_internal::QueryText text;
  text.sql = std::move(sql);
  return asio::async_initiate<CompletionToken, void(absl::StatusOr<PgResultPtr>)>(
      asio_pg_internal::InitiateQuery{}, token, &lease, std::move(text), io_executor);
}

template <typename Executor, typename CompletionToken,
          typename = asio_pg_internal::EnableIfExecutor<Executor>>
auto async_query(const Executor& io_executor, PgLease& lease, std::string sql,
                 std::vector<std::optional<std::string>> params, CompletionToken&& token) {
  asio_pg_internal::QueryText text;
  text.sql = std::move(sql);
  text.with_params = true;
  text.params = std::move(params);
  return asio::async_initiate<CompletionToken, void(absl::StatusOr<PgResultPtr>)>(
      asio_pg_internal::InitiateQuery{}, token, &lease, std::move(text), io_executor);
}

}  // namespace dbpool

#endif  // DBPOOL_ASIO_POSTGRES_H_
