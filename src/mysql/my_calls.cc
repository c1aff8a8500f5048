// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Deadline-bound client-library calls: the MariaDB non-blocking API driven
// with poll(), or plain blocking calls where that API does not exist.
#include "mysql/my_calls.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "mysql/my_compat.h"

namespace dbpool {
namespace mysql_internal {
namespace {

absl::Status TimedOut() { return absl::DeadlineExceededError("timed out"); }

#if defined(DBPOOL_MYSQL_NONBLOCKING)

// Waits for what a _start()/_cont() step asked for (MYSQL_WAIT_* bits in
// `wait`) and returns the events to pass to the next _cont(): the socket's
// readiness, or MYSQL_WAIT_TIMEOUT once the library's own timeout (its
// connect/read/write timeout) ran out. Errors: kDeadlineExceeded at
// `deadline`; kUnavailable when poll() fails or the socket is closed;
// kCancelled once `abort_fd` (-1: none) polls readable.
absl::StatusOr<int> WaitForEvents(MYSQL* mysql, int wait, absl::Time deadline, int abort_fd) {
  pollfd polled[2] = {};
  pollfd& p = polled[0];
  p.fd = static_cast<int>(mysql_get_socket(mysql));
  if (wait & MYSQL_WAIT_READ) p.events |= POLLIN;
  if (wait & MYSQL_WAIT_WRITE) p.events |= POLLOUT;
  if (wait & MYSQL_WAIT_EXCEPT) p.events |= POLLPRI;
  polled[1].fd = abort_fd;  // poll() skips a negative descriptor
  polled[1].events = POLLIN;
  if (p.fd < 0 && !(wait & MYSQL_WAIT_TIMEOUT)) {
    return absl::UnavailableError("the connection has no socket to wait on");
  }
  absl::Time library_deadline = absl::InfiniteFuture();
  if (wait & MYSQL_WAIT_TIMEOUT) {
    library_deadline = absl::Now() + absl::Milliseconds(mysql_get_timeout_value_ms(mysql));
  }
  for (;;) {
    const absl::Time now = absl::Now();
    if (now >= deadline) return TimedOut();
    if (now >= library_deadline) return MYSQL_WAIT_TIMEOUT;
    const absl::Duration left = std::min(deadline, library_deadline) - now;
    int timeout_ms = -1;
    if (left != absl::InfiniteDuration()) {
      const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
      timeout_ms = static_cast<int>(std::min<int64_t>(ms, INT_MAX));
    }
    p.revents = 0;
    polled[1].revents = 0;
    const int rc = ::poll(polled, 2, timeout_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
    }
    if (rc == 0) continue;  // the loop head decides which deadline passed
    if (polled[1].revents != 0) return absl::CancelledError("abandoned");
    if (p.revents & POLLNVAL) return absl::UnavailableError("the socket is closed");
    int events = 0;
    if (p.revents & POLLIN) events |= MYSQL_WAIT_READ;
    if (p.revents & POLLOUT) events |= MYSQL_WAIT_WRITE;
    if (p.revents & POLLPRI) events |= MYSQL_WAIT_EXCEPT;
    // An error or hang-up: let the library's next read or write find it.
    if (p.revents & (POLLERR | POLLHUP)) {
      events |= wait & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT);
    }
    if (events != 0) return events;
  }
}

// Runs `start()`, then `cont(events)` until the call completes (a step
// returns 0) or is abandoned.
template <typename Start, typename Cont>
absl::Status Drive(MYSQL* mysql, absl::Time deadline, Start start, Cont cont, int abort_fd = -1) {
  int wait = start();
  while (wait != 0) {
    absl::StatusOr<int> events = WaitForEvents(mysql, wait, deadline, abort_fd);
    if (!events.ok()) return events.status();
    wait = cont(*events);
  }
  return absl::OkStatus();
}

#endif  // DBPOOL_MYSQL_NONBLOCKING

}  // namespace

bool CallsAreNonBlocking() {
#if defined(DBPOOL_MYSQL_NONBLOCKING)
  return true;
#else
  return false;
#endif
}

absl::Status EnableNonBlocking(MYSQL* mysql) {
#if defined(DBPOOL_MYSQL_NONBLOCKING)
  if (mysql_options(mysql, MYSQL_OPT_NONBLOCK, nullptr) != 0) {
    return absl::ResourceExhaustedError("dbpool: mysql: cannot enable the non-blocking API");
  }
#else
  (void)mysql;
#endif
  return absl::OkStatus();
}

absl::Status CallRealConnect(MYSQL* mysql, const ConnectArgs& a, absl::Time deadline, int abort_fd,
                             MYSQL** ret) {
#if defined(DBPOOL_MYSQL_NONBLOCKING)
  return Drive(
      mysql, deadline,
      [&] {
        return mysql_real_connect_start(ret, mysql, a.host, a.user, a.password, a.database, a.port,
                                        a.unix_socket, a.client_flags);
      },
      [&](int events) { return mysql_real_connect_cont(ret, mysql, events); }, abort_fd);
#else
  (void)abort_fd;  // the blocking call cannot be abandoned
  if (absl::Now() >= deadline) return TimedOut();
  *ret = mysql_real_connect(mysql, a.host, a.user, a.password, a.database, a.port, a.unix_socket,
                            a.client_flags);
  return absl::OkStatus();
#endif
}

absl::Status CallRealQuery(MYSQL* mysql, absl::string_view sql, absl::Time deadline, int* ret) {
#if defined(DBPOOL_MYSQL_NONBLOCKING)
  return Drive(
      mysql, deadline, [&] { return mysql_real_query_start(ret, mysql, sql.data(), sql.size()); },
      [&](int events) { return mysql_real_query_cont(ret, mysql, events); });
#else
  (void)deadline;  // bounded by the read/write timeouts only
  *ret = mysql_real_query(mysql, sql.data(), sql.size());
  return absl::OkStatus();
#endif
}

absl::Status CallStoreResult(MYSQL* mysql, absl::Time deadline, MYSQL_RES** ret) {
#if defined(DBPOOL_MYSQL_NONBLOCKING)
  return Drive(
      mysql, deadline, [&] { return mysql_store_result_start(ret, mysql); },
      [&](int events) { return mysql_store_result_cont(ret, mysql, events); });
#else
  (void)deadline;  // bounded by the read/write timeouts only
  *ret = mysql_store_result(mysql);
  return absl::OkStatus();
#endif
}

absl::Status CallNextResult(MYSQL* mysql, absl::Time deadline, int* ret) {
#if defined(DBPOOL_MYSQL_NONBLOCKING)
  return Drive(
      mysql, deadline, [&] { return mysql_next_result_start(ret, mysql); },
      [&](int events) { return mysql_next_result_cont(ret, mysql, events); });
#else
  (void)deadline;  // bounded by the read/write timeouts only
  *ret = mysql_next_result(mysql);
  return absl::OkStatus();
#endif
}

absl::Status CallPing(MYSQL* mysql, absl::Time deadline, int* ret) {
#if defined(DBPOOL_MYSQL_NONBLOCKING)
  return Drive(
      mysql, deadline, [&] { return mysql_ping_start(ret, mysql); },
      [&](int events) { return mysql_ping_cont(ret, mysql, events); });
#else
  (void)deadline;  // bounded by the read/write timeouts only
  *ret = mysql_ping(mysql);
  return absl::OkStatus();
#endif
}

absl::Status CallResetConnection(MYSQL* mysql, absl::Time deadline, int* ret) {
#if defined(DBPOOL_MYSQL_NONBLOCK_RESET)
  return Drive(
      mysql, deadline, [&] { return mysql_reset_connection_start(ret, mysql); },
      [&](int events) { return mysql_reset_connection_cont(ret, mysql, events); });
#else
  (void)deadline;  // bounded by the read/write timeouts only
  *ret = mysql_reset_connection(mysql);
  return absl::OkStatus();
#endif
}

int SocketOf(MYSQL* mysql) {
#if defined(DBPOOL_MYSQL_MARIADB_CC)
  return static_cast<int>(mysql_get_socket(mysql));
#else
  return static_cast<int>(mysql->net.fd);
#endif
}

}  // namespace mysql_internal
}  // namespace dbpool
