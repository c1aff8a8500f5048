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
// socket is invalid.
absl::Status WaitForSocket(int fd, bool for_write, absl::Time deadline, bool or_readable = false);

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_SOCKET_WAIT_H_
