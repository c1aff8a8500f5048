// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Waiting on a libpq socket with a deadline.
#ifndef DBPOOL_POSTGRES_PG_SOCKET_WAIT_H_
#define DBPOOL_POSTGRES_PG_SOCKET_WAIT_H_

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace dbpool {
namespace postgres_internal {

// What WaitForSocket() waits for.
enum class SocketReady {
  kReadable,
  kWritable,
  // Writable, or readable first (a send that must also read what the
  // server sends meanwhile, so that neither side waits on the other).
  kWritableOrReadable,
};

// No ConnectAbort to watch.
inline constexpr int kNoAbortFd = -1;

// Blocks until `fd` is ready as `ready` says, or until `deadline`. Errors:
// kDeadlineExceeded past the deadline, kUnavailable when poll() fails or the
// socket is invalid, kCancelled once `abort_fd` (a ConnectAbort's fd(), or
// kNoAbortFd) is readable.
absl::Status WaitForSocket(int fd, SocketReady ready, absl::Time deadline,
                           int abort_fd = kNoAbortFd);

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_SOCKET_WAIT_H_
