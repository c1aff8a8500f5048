// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Waiting on a libpq socket with a deadline.
#ifndef DBPOOL_POSTGRES_PG_SOCKET_WAIT_H_
#define DBPOOL_POSTGRES_PG_SOCKET_WAIT_H_

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace dbpool {
namespace postgres_internal {

// Blocks until `fd` is readable (`for_write` false) or writable (with
// `or_readable`, or readable), or until `deadline`. Errors:
// kDeadlineExceeded past the deadline, kUnavailable when poll() fails or the
// socket is invalid, kCancelled once `abort_fd` (a ConnectAbort's fd(), or
// -1 for none) is readable.
absl::Status WaitForSocket(int fd, bool for_write, absl::Time deadline, bool or_readable = false,
                           int abort_fd = -1);

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_SOCKET_WAIT_H_
