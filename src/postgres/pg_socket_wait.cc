// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "postgres/pg_socket_wait.h"

#include <poll.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace dbpool {
namespace postgres_internal {

absl::Status WaitForSocket(int fd, SocketReady ready, absl::Time deadline, int abort_fd) {
  if (fd < 0) return absl::UnavailableError("connection has no socket");
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("timed out");
    pollfd p[2] = {};
    p[0].fd = fd;
    p[0].events = static_cast<short>(ready == SocketReady::kReadable   ? POLLIN
                                     : ready == SocketReady::kWritable ? POLLOUT
                                                                       : POLLOUT | POLLIN);
    p[1].fd = abort_fd;  // poll() skips a negative descriptor
    p[1].events = POLLIN;
    const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
    const int rc = ::poll(p, 2, static_cast<int>(ms > 3600000 ? 3600000 : ms));
    if (rc > 0 && p[1].revents != 0) return absl::CancelledError("abandoned");
    if (rc > 0) return absl::OkStatus();  // ready, or an error libpq will report
    if (rc < 0 && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
    }
  }
}

}  // namespace postgres_internal
}  // namespace dbpool
