// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/asio_mysql.h
//
// Queries on a MySqlLease that never block the calling thread, for
// standalone Asio (1.22 or later) and C++20 coroutines, built on MariaDB
// Connector/C's non-blocking API (mysql_send_query_start/_cont,
// mysql_read_query_result_start/_cont, mysql_store_result_start/_cont,
// mysql_next_result_start/_cont). Header-only, standalone Asio, or
// Boost.Asio (1.77 or later) with DBPOOL_USE_BOOST_ASIO defined (see
// dbpool/internal/asio_compat.h); the dbpool libraries themselves do not
// depend on Asio. Include it where the event loop lives and link
// dbpool::mysql.
//
//   asio::awaitable<void> handle(dbpool::MySqlLease lease) {
//     absl::StatusOr<dbpool::MySqlResultPtr> r =
//         co_await dbpool::async_query(lease, "SELECT 1", asio::use_awaitable);
//     if (!r.ok()) { /* r.status(): MySqlStatus()'s mapping */ }
//     else if (*r != nullptr) { MYSQL_ROW row = mysql_fetch_row(r->get()); }
//     else { /* no result set: mysql_affected_rows(lease.native()) */ }
//   }
//
// With Oracle's libmysqlclient, which has no _start/_cont calls, the header
// compiles and async_query() completes with kUnimplemented (see
// async_query()). That path is untested: no build here has Oracle's
// library (only MariaDB Connector/C is installed); it was compiled and run
// once by hand, with Connector/C's headers and its detection macros
// undefined.
//
// The contract (docs/async.md, "Queries without blocking: async_query (MySQL and MariaDB)"):
//   - One operation at a time per lease, and nothing else on the lease's
//     connection (no mysql_query(), no with_transaction) until it completes.
//     The lease must outlive the operation: do not release, discard or move
//     from it while an operation is pending.
//   - The socket is watched through an asio::posix::stream_descriptor that
//     owns a dup() of mysql_get_socket(), taken afresh when each operation
//     starts and closed when it ends: Asio never closes the library's
//     descriptor, and never watches a number the library has closed and the
//     process reused.
//   - The handle needs the library's non-blocking context (MYSQL_OPT_NONBLOCK,
//     which the pool sets on every connection it opens with Connector/C); on
//     a handle without it the operation sets it first. The socket is in
//     O_NONBLOCK mode while the operation runs and back in the mode it had
//     before when it completes.
//   - While the operation waits for the socket, the handle's `status` field
//     reads MYSQL_STATUS_QUERY_SENT (the library's own value is put back
//     before each step): the pool's session check then sees the connection
//     busy, so a lease returned mid-operation (its io_context destroyed with
//     the operation pending) is closed, never handed out again.
//   - Completion: void(absl::StatusOr<MySqlResultPtr>), with any completion
//     token (a callback, asio::use_future, asio::use_awaitable,
//     asio::experimental::deferred). The handler runs on its associated
//     executor, by default the I/O executor below; never inside the
//     initiating call.
//   - Errors follow MySqlStatus() (dbpool/mysql.h), outcome included
//     (dbpool/outcome.h): a failure before the whole command reached the
//     socket is not applied; a connection lost after that is kUnavailable
//     and IsOutcomeUnknown().
//   - Cancellation: per-operation, through the handler's associated
//     cancellation slot (terminal, partial and total). MySQL has no in-band
//     cancel: the operation shuts the connection down. See async_query().
//   - If the operation is abandoned (its io_context destroyed or stopped
//     for good with it pending), the handler and whatever it owns (a
//     coroutine frame holding the lease) is destroyed without running; a
//     lease released so finds its connection busy and the pool closes that
//     connection (counted in PoolStats::closed_busy).
#ifndef DBPOOL_ASIO_MYSQL_H_
#define DBPOOL_ASIO_MYSQL_H_

#include <fcntl.h>
#include <mysql.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "dbpool/internal/asio_compat.h"
#include "dbpool/mysql.h"
#include "dbpool/outcome.h"

// The same detection as the driver's (src/mysql/my_compat.h), which is not
// a public header: MariaDB Connector/C (or the older MariaDB client library)
// has the non-blocking API; Oracle's libmysqlclient has not.
#if defined(MARIADB_PACKAGE_VERSION_ID) || defined(MARIADB_BASE_VERSION)
#define DBPOOL_ASIO_MYSQL_NONBLOCKING 1
#endif

namespace dbpool {

// MySqlResultDeleter
//
// Frees a MYSQL_RES with mysql_free_result(). Null is fine.
struct MySqlResultDeleter {
  void operator()(MYSQL_RES* result) const noexcept {
    if (result != nullptr) mysql_free_result(result);
  }
};

// MySqlResultPtr
//
// Owns one stored result set (mysql_free_result() when destroyed). Read it
// with the client library's accessors: mysql_num_rows(r.get()),
// mysql_fetch_row(r.get()), mysql_fetch_lengths(r.get()). async_query()
// hands out a null MySqlResultPtr for a statement without a result set
// (INSERT, UPDATE, SET, ...): its affected rows are then on the handle,
// mysql_affected_rows(lease.native()), until the next command. A stored
// result holds all its rows: reading it does no I/O, and it stays valid
// after the lease is released.
using MySqlResultPtr = std::unique_ptr<MYSQL_RES, MySqlResultDeleter>;

namespace asio_my_internal {

template <typename Executor>
using EnableIfExecutor = std::enable_if_t<asio::execution::is_executor<Executor>::value ||
                                          asio::is_executor<Executor>::value>;

#if defined(DBPOOL_ASIO_MYSQL_NONBLOCKING)

// The state of one async_query() operation. It lives on the heap (shared
// with the library-timeout timer's handler, which holds it weakly) so that
// the descriptor stays put while the operation object moves from one
// intermediate handler to the next. Its destructor must not touch the
// MYSQL: when an abandoned operation is destroyed, the handler (and with it
// the lease) may be gone first.
template <typename IoExecutor>
struct QueryState {
  QueryState(MYSQL* m, std::string q, const IoExecutor& ex)
      : mysql(m), sql(std::move(q)), socket(ex), timer(ex) {}

  MYSQL* const mysql;
  const std::string sql;
  asio::posix::stream_descriptor socket;  // owns a dup() of mysql_get_socket()
  asio::steady_timer timer;               // MYSQL_WAIT_TIMEOUT
  enum class Phase { kStart, kSending, kReading, kStoring, kNext, kDone } phase = Phase::kStart;
  int wait = 0;                  // the MYSQL_WAIT_* bits the library asked for
  int waited = 0;                // the one socket readiness waited for
  bool timed_out = false;        // the library's timeout passed during this wait
  unsigned wait_generation = 0;  // which wait the timer belongs to
  mysql_status library_status = MYSQL_STATUS_READY;  // the handle's own, while masked
  bool masked = false;                               // `status` reads MYSQL_STATUS_QUERY_SENT
  int socket_flags = -1;                             // the socket's file status flags before
  bool shut_down = false;                            // cancelled: the connection was shut down
  bool cancel_while_sending = false;                 // ... before the command was sent whole
  bool initiating = false;                           // inside the initiating call
  bool results = false;                              // a result header was read
  absl::Status final_status;                         // the operation's status once done
  MySqlResultPtr last;                               // the last statement's result set
};

// Makes sure the handle has the library's non-blocking context. The pool's
// Connector/C connections have it; one opened without it gets it now
// (allowed on a connected handle while no call is suspended).
inline absl::Status EnsureNonBlockingContext(MYSQL* mysql) {
#if defined(MARIADB_PACKAGE_VERSION_ID)
  my_bool enabled = 0;
  if (mysql_get_optionv(mysql, MYSQL_OPT_NONBLOCK, &enabled) == 0 && enabled) {
    return absl::OkStatus();
  }
#endif
  if (mysql_options(mysql, MYSQL_OPT_NONBLOCK, nullptr) != 0) {
    return WithOutcome(
        absl::ResourceExhaustedError("dbpool: async_query: cannot enable the client library's "
                                     "non-blocking API (MYSQL_OPT_NONBLOCK)"),
        Outcome::kNotApplied);
  }
  return absl::OkStatus();
}

// The composed operation behind async_query().
template <typename IoExecutor>
class QueryOp {
 public:
  using State = QueryState<IoExecutor>;
  using Phase = typename State::Phase;

  QueryOp(MYSQL* mysql, std::string sql, const IoExecutor& ex)
      : state_(std::make_shared<State>(mysql, std::move(sql), ex)) {}

  template <typename Self>
  void operator()(Self& self, AsioErrorCode ec = {}) {
    State& s = *state_;
    s.initiating = false;  // set again below for the first step
    if (s.phase == Phase::kStart) {
      self.reset_cancellation_state(asio::enable_total_cancellation());
      s.initiating = true;
      absl::Status started = Start(s);
      if (!started.ok()) return Finish(self, std::move(started));
      s.phase = Phase::kSending;
      int ret = 0;
      return Step(self,
                  mysql_send_query_start(&ret, s.mysql, s.sql.data(),
                                         static_cast<unsigned long>(s.sql.size())),
                  ret);
    }
    if (s.phase == Phase::kDone) return Complete(self);
    // A wait ended: the socket is ready, the timer fired, the wait failed or
    // the operation was cancelled.
    s.timer.cancel();
    ++s.wait_generation;
    int events = 0;
    if (!ec) {
      events = s.waited;
    } else if (s.timed_out) {
      events = MYSQL_WAIT_TIMEOUT;
    } else if (ec != asio::error::operation_aborted) {
      // Let the library's next read or write find the error.
      events = s.waited;
    }
    if (self.get_cancellation_state().cancelled() != asio::cancellation_type::none &&
        !s.shut_down) {
      // No in-band cancel: end the connection. The library's next read or
      // write fails at once and the call finishes with a lost connection.
      s.shut_down = true;
      s.cancel_while_sending = s.phase == Phase::kSending;
      ::shutdown(s.socket.native_handle(), SHUT_RDWR);
    }
    if (s.shut_down) events = s.waited;  // the next read or write ends the call
    if (events == 0) return Wait(self);  // aborted by nothing we know of: wait again
    Resume(self, events);
  }

 private:
  // Checks the handle, watches a fresh duplicate of its socket and puts the
  // socket in non-blocking mode. An error here means nothing was sent.
  static absl::Status Start(State& s) {
    if (s.mysql == nullptr) {
      return WithOutcome(absl::FailedPreconditionError("dbpool: async_query on an empty lease"),
                         Outcome::kNotApplied);
    }
    if (s.mysql->status != MYSQL_STATUS_READY || mysql_more_results(s.mysql)) {
      return WithOutcome(absl::FailedPreconditionError(
                             "dbpool: async_query: the lease's connection has a command in "
                             "progress (one operation at a time per lease)"),
                         Outcome::kNotApplied);
    }
    // Taken now, not earlier: the library may have closed its socket.
    const int fd = static_cast<int>(mysql_get_socket(s.mysql));
    if (fd < 0) {
      return WithOutcome(
          absl::UnavailableError("dbpool: async_query: the connection is closed (no socket)"),
          Outcome::kNotApplied);
    }
    if (absl::Status nb = EnsureNonBlockingContext(s.mysql); !nb.ok()) return nb;
    const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
      return WithOutcome(
          absl::UnavailableError(
              absl::StrCat("dbpool: async_query: cannot watch the socket: ", std::strerror(errno))),
          Outcome::kNotApplied);
    }
    AsioErrorCode ec;
    s.socket.assign(dup, ec);
    if (ec) {
      ::close(dup);
      return WithOutcome(absl::UnavailableError(absl::StrCat(
                             "dbpool: async_query: cannot watch the socket: ", ec.message())),
                         Outcome::kNotApplied);
    }
    // The file status flags belong to the socket, not the descriptor: this
    // is the library's mode too. A socket left blocking (a connection
    // opened without MYSQL_OPT_NONBLOCK) would block a TLS read.
    s.socket_flags = ::fcntl(dup, F_GETFL);
    if (s.socket_flags >= 0 && !(s.socket_flags & O_NONBLOCK)) {
      ::fcntl(dup, F_SETFL, s.socket_flags | O_NONBLOCK);
    }
    return absl::OkStatus();
  }

  // Continues the suspended library call with `events`.
  template <typename Self>
  void Resume(Self& self, int events) {
    State& s = *state_;
    Unmask(s);
    switch (s.phase) {
      case Phase::kSending: {
        int ret = 0;
        const int wait = mysql_send_query_cont(&ret, s.mysql, events);
        return Step(self, wait, ret);
      }
      case Phase::kReading: {
        my_bool ret = 0;
        const int wait = mysql_read_query_result_cont(&ret, s.mysql, events);
        return Step(self, wait, ret);
      }
      case Phase::kStoring: {
        MYSQL_RES* ret = nullptr;
        const int wait = mysql_store_result_cont(&ret, s.mysql, events);
        return StoreStep(self, wait, ret);
      }
      case Phase::kNext: {
        int ret = 0;
        const int wait = mysql_next_result_cont(&ret, s.mysql, events);
        return Step(self, wait, ret);
      }
      case Phase::kStart:
      case Phase::kDone:
        break;
    }
  }

  // After a send, read-reply or next-result step: wait again, or go on to
  // the next phase with the call's result `ret` (0 is success; for
  // mysql_next_result -1 is "no more results").
  template <typename Self>
  void Step(Self& self, int wait, int ret) {
    State& s = *state_;
    if (wait != 0) {
      s.wait = wait;
      return Wait(self);
    }
    switch (s.phase) {
      case Phase::kSending:
        if (ret != 0) {
          // Part of the command may still be unsent: the server runs no part
          // of a command it has not received whole.
          return Finish(self, WithOutcome(Failure(s), Outcome::kNotApplied));
        }
        if (s.shut_down) return Finish(self, Cancelled(s));
        s.phase = Phase::kReading;
        {
          my_bool read_ret = 0;
          const int next_wait = mysql_read_query_result_start(&read_ret, s.mysql);
          return Step(self, next_wait, read_ret);
        }
      case Phase::kReading:
      case Phase::kNext:
        if (s.phase == Phase::kNext && ret < 0) return Finish(self, absl::OkStatus());
        if (ret != 0) {
          absl::Status status = Failure(s);
          // A later statement of several failed: the earlier ones ran.
          if (s.results && !IsOutcomeUnknown(status)) {
            status = WithOutcome(std::move(status), Outcome::kUnclassified);
          }
          return Finish(self, std::move(status));
        }
        s.results = true;
        if (mysql_field_count(s.mysql) == 0) {  // no result set
          s.last.reset();
          return AfterResult(self);
        }
        s.phase = Phase::kStoring;
        {
          MYSQL_RES* result = nullptr;
          const int next_wait = mysql_store_result_start(&result, s.mysql);
          return StoreStep(self, next_wait, result);
        }
      case Phase::kStoring:
      case Phase::kStart:
      case Phase::kDone:
        break;
    }
  }

  template <typename Self>
  void StoreStep(Self& self, int wait, MYSQL_RES* result) {
    State& s = *state_;
    if (wait != 0) {
      s.wait = wait;
      return Wait(self);
    }
    if (result == nullptr) return Finish(self, Failure(s));
    s.last.reset(result);
    AfterResult(self);
  }

  // One statement's result is in: the next one's, or done.
  template <typename Self>
  void AfterResult(Self& self) {
    State& s = *state_;
    if (s.shut_down) return Finish(self, Cancelled(s));
    if (!mysql_more_results(s.mysql)) return Finish(self, absl::OkStatus());
    s.phase = Phase::kNext;
    int ret = 0;
    const int wait = mysql_next_result_start(&ret, s.mysql);
    Step(self, wait, ret);
  }

  // Waits for what the library asked for in s.wait: one socket readiness
  // (it never asks for both on this platform), and its own timeout (its
  // read/write timeout) on the timer.
  template <typename Self>
  void Wait(Self& self) {
    State& s = *state_;
    Mask(s);
    s.timed_out = false;
    if (s.wait & MYSQL_WAIT_TIMEOUT) {
      s.timer.expires_after(std::chrono::milliseconds(mysql_get_timeout_value_ms(s.mysql)));
      std::weak_ptr<State> weak = state_;
      const unsigned generation = s.wait_generation;
      s.timer.async_wait([weak, generation](const AsioErrorCode& ec) {
        if (ec) return;
        const std::shared_ptr<State> st = weak.lock();
        if (st == nullptr || st->wait_generation != generation) return;
        st->timed_out = true;
        AsioErrorCode ignored;
        st->socket.cancel(ignored);  // the socket wait ends: the step sees timed_out
      });
    }
    asio::posix::stream_descriptor::wait_type type = asio::posix::stream_descriptor::wait_error;
    s.waited = s.wait & MYSQL_WAIT_EXCEPT;
    if (s.wait & MYSQL_WAIT_READ) {
      type = asio::posix::stream_descriptor::wait_read;
      s.waited = MYSQL_WAIT_READ;
    } else if (s.wait & MYSQL_WAIT_WRITE) {
      type = asio::posix::stream_descriptor::wait_write;
      s.waited = MYSQL_WAIT_WRITE;
    }
    s.socket.async_wait(type, std::move(self));
  }

  // While a call is suspended the handle reads "busy" to anyone looking.
  static void Mask(State& s) {
    if (s.masked) return;
    s.library_status = s.mysql->status;
    s.mysql->status = MYSQL_STATUS_QUERY_SENT;
    s.masked = true;
  }
  static void Unmask(State& s) {
    if (!s.masked) return;
    s.mysql->status = s.library_status;
    s.masked = false;
  }

  // The status of a failed library call.
  static absl::Status Failure(State& s) {
    if (s.shut_down) return Cancelled(s);
    absl::Status status = MySqlStatus(s.mysql);
    if (status.ok()) {
      status = absl::UnknownError("dbpool: async_query: the call failed without an error number");
    }
    return status;
  }

  static absl::Status Cancelled(const State& s) {
    return WithOutcome(
        absl::CancelledError(
            "dbpool: async_query cancelled: the connection was shut down (the server may "
            "still run the statement to its end); it is closed when the lease returns"),
        s.cancel_while_sending ? Outcome::kNotApplied : Outcome::kUnknown);
  }

  template <typename Self>
  void Finish(Self& self, absl::Status status) {
    State& s = *state_;
    Unmask(s);
    s.timer.cancel();
    ++s.wait_generation;
    if (s.shut_down && mysql_errno(s.mysql) == 0 && mysql_get_socket(s.mysql) >= 0) {
      // The reply came whole before the shutdown took effect: the library
      // still takes the connection for healthy. Make it look busy so that
      // the pool closes it on return, and any further command on it fails
      // with "commands out of sync" instead of hitting a dead socket.
      s.mysql->status = MYSQL_STATUS_QUERY_SENT;
    }
    if (s.socket.is_open()) {
      if (s.socket_flags >= 0 && !(s.socket_flags & O_NONBLOCK)) {
        ::fcntl(s.socket.native_handle(), F_SETFL, s.socket_flags);
      }
      AsioErrorCode ignored;
      s.socket.close(ignored);  // our duplicate only; the library's stays open
    }
    s.phase = Phase::kDone;
    s.final_status = std::move(status);
    if (!s.final_status.ok()) s.last.reset();
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
    State& s = *state_;
    if (s.final_status.ok()) {
      self.complete(absl::StatusOr<MySqlResultPtr>(std::move(s.last)));
    } else {
      self.complete(absl::StatusOr<MySqlResultPtr>(std::move(s.final_status)));
    }
  }

  std::shared_ptr<State> state_;
};

#else  // Oracle's libmysqlclient: no _start/_cont calls.

// Completes, through the handler's executor, with kUnimplemented.
template <typename IoExecutor>
class QueryOp {
 public:
  QueryOp(MYSQL*, std::string, const IoExecutor&) {}

  template <typename Self>
  void operator()(Self& self) {
    if (!posted_) {
      posted_ = true;
      asio::post(std::move(self));
      return;
    }
    self.complete(absl::StatusOr<MySqlResultPtr>(
        WithOutcome(absl::UnimplementedError(
                        "dbpool: async_query needs MariaDB Connector/C's non-blocking API "
                        "(mysql_send_query_start/_cont); this build uses Oracle's libmysqlclient, "
                        "which has none: run the query on a thread of its own"),
                    Outcome::kNotApplied)));
  }

 private:
  bool posted_ = false;
};

#endif  // DBPOOL_ASIO_MYSQL_NONBLOCKING

// Starts a QueryOp for the handler async_initiate() hands over. With no
// executor given, the handler's associated executor is the I/O executor.
struct InitiateQuery {
  template <typename Handler, typename IoExecutor>
  void operator()(Handler&& handler, MySqlLease* lease, std::string sql,
                  const IoExecutor& io_executor) const {
    MYSQL* mysql = lease->valid() ? lease->native() : nullptr;
    asio::async_compose<Handler, void(absl::StatusOr<MySqlResultPtr>)>(
        QueryOp<IoExecutor>(mysql, std::move(sql), io_executor), handler, io_executor);
  }

  template <typename Handler>
  void operator()(Handler&& handler, MySqlLease* lease, std::string sql) const {
    using Executor = asio::associated_executor_t<std::decay_t<Handler>>;
    static_assert(!std::is_same<Executor, asio::system_executor>::value,
                  "dbpool::async_query: this completion handler has no associated executor; "
                  "bind one (asio::bind_executor) or pass the I/O executor as the first "
                  "argument");
    const Executor executor = asio::get_associated_executor(handler);
    (*this)(std::forward<Handler>(handler), lease, std::move(sql), executor);
  }
};

}  // namespace asio_my_internal

// async_query(lease, sql, token)
// async_query(io_executor, lease, sql, token)
//
// Sends `sql` on the lease's connection and completes with its result,
// without blocking the calling thread: void(absl::StatusOr<MySqlResultPtr>).
// The result is the stored result set of the last statement, or null when
// that statement has none (its affected rows: mysql_affected_rows() on the
// handle). `sql` may hold several statements (the pool's connections have
// CLIENT_MULTI_STATEMENTS): all their results are read, the last one is
// kept; an error stops at the failing statement (the server runs none after
// it), and its status then carries no outcome payload if an earlier one ran
// (they were applied, the failing one was not).
//
// The I/O executor watches the socket: the one given, else the completion
// handler's associated executor, which must then be an I/O executor (an
// io_context's, or the asio::any_io_executor of a coroutine using
// asio::use_awaitable). A plain callback or asio::use_future has none that
// can watch a socket: pass the executor (a callback without one fails to
// compile with a message saying so).
//
// Errors, all through MySqlStatus() and with the outcome payload:
//   kFailedPrecondition (not applied): the lease is empty, or its
//     connection has a command in progress;
//   kUnavailable (not applied): the connection has no socket, or it was
//     lost before the command was sent whole;
//   kUnavailable (IsOutcomeUnknown()): the connection was lost after it
//     was sent (2013), e.g. KILL from another connection, or the pool's
//     interrupt() of a connection whose endpoint went down (it shuts the
//     socket down: the operation sees the end of the stream at once);
//   the error number's code for a server error (a syntax error:
//     kInvalidArgument; an unknown table: kNotFound; a duplicate key:
//     kAlreadyExists; ...);
//   kResourceExhausted (not applied): the library's non-blocking context
//     could not be allocated;
//   kUnimplemented (not applied): Oracle's libmysqlclient (no non-blocking
//     API in this header; untested, see the file comment).
//
// Cancellation: MySQL has no cancel request on the connection itself, and
// KILL QUERY needs a second connection (with credentials this header does
// not have). When the handler's cancellation slot is emitted (any type), the
// operation shuts the connection's socket down (shutdown(2) on its
// duplicate acts on the socket the library uses) and completes with
// kCancelled, outcome unknown (not applied if the command was still being
// written). The connection is then broken and closed when the lease
// returns; the pool opens another as demand requires. The server may still
// run the statement to its end: it notices the client is gone only when it
// next writes to it (a long SELECT SLEEP() runs on, a long UPDATE commits
// unless it fails first). Emit the signal on the I/O executor's thread.
template <typename CompletionToken>
auto async_query(MySqlLease& lease, std::string sql, CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(absl::StatusOr<MySqlResultPtr>)>(
      asio_my_internal::InitiateQuery{}, token, &lease, std::move(sql));
}

template <typename Executor, typename CompletionToken,
          typename = asio_my_internal::EnableIfExecutor<Executor>>
auto async_query(const Executor& io_executor, MySqlLease& lease, std::string sql,
                 CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(absl::StatusOr<MySqlResultPtr>)>(
      asio_my_internal::InitiateQuery{}, token, &lease, std::move(sql), io_executor);
}

}  // namespace dbpool

#endif  // DBPOOL_ASIO_MYSQL_H_
