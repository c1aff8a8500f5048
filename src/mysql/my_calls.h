// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// One client-library call within a deadline. With the MariaDB non-blocking
// API each call runs as _start() / _cont() steps while this layer polls the
// socket, so none outlives its deadline. Elsewhere the call blocks, bounded
// only by the connection's connect/read/write timeouts (a connect whose
// deadline has already passed is not started; callers check the deadline
// before starting other commands).
//
// Every Call*() returns OK when the library call finished (its own result,
// success or failure, is in *ret and mysql_errno()), or an error when it was
// abandoned half-way: kDeadlineExceeded at `deadline`, kUnavailable when
// poll() failed. An abandoned call leaves the handle unusable: close it.
#ifndef DBPOOL_MYSQL_MY_CALLS_H_
#define DBPOOL_MYSQL_MY_CALLS_H_

#include <mysql.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace dbpool {
namespace mysql_internal {

// Whether the calls below honour deadlines mid-call (the non-blocking API).
bool CallsAreNonBlocking();

// Prepares a fresh handle for the non-blocking API (MYSQL_OPT_NONBLOCK);
// nothing on a blocking build. Errors: kResourceExhausted.
absl::Status EnableNonBlocking(MYSQL* mysql);

// The arguments of mysql_real_connect(); null pointers mean "none".
struct ConnectArgs {
  const char* host = nullptr;
  const char* user = nullptr;
  const char* password = nullptr;
  const char* database = nullptr;
  unsigned int port = 0;
  const char* unix_socket = nullptr;
  unsigned long client_flags = 0;
};

// Also abandoned, with kCancelled, once `abort_fd` (a ConnectAbort's fd(),
// or -1 for none) polls readable; not on a blocking build.
absl::Status CallRealConnect(MYSQL* mysql, const ConnectArgs& args, absl::Time deadline,
                             int abort_fd, MYSQL** ret);
absl::Status CallRealQuery(MYSQL* mysql, absl::string_view sql, absl::Time deadline, int* ret);
absl::Status CallStoreResult(MYSQL* mysql, absl::Time deadline, MYSQL_RES** ret);
absl::Status CallNextResult(MYSQL* mysql, absl::Time deadline, int* ret);
absl::Status CallPing(MYSQL* mysql, absl::Time deadline, int* ret);
absl::Status CallResetConnection(MYSQL* mysql, absl::Time deadline, int* ret);

// The connection's socket, or -1 (no I/O).
int SocketOf(MYSQL* mysql);

}  // namespace mysql_internal
}  // namespace dbpool

#endif  // DBPOOL_MYSQL_MY_CALLS_H_
