// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// ConnectAbort on an eventfd: one write makes it readable for good (nothing
// reads it).
#include "dbpool/connect_abort.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace dbpool {

ConnectAbort::ConnectAbort() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

ConnectAbort::~ConnectAbort() {
  if (fd_ >= 0) ::close(fd_);
}

void ConnectAbort::Fire() {
  if (fired_.exchange(true, std::memory_order_acq_rel)) return;
  if (fd_ >= 0) {
    const uint64_t one = 1;
    // Cannot fail short of a full counter, which one write never reaches.
    [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof(one));
  }
}

absl::Status ConnectAbandonedError(absl::string_view context) {
  return absl::CancelledError(absl::StrCat(context, ": abandoned: the pool is closing"));
}

}  // namespace dbpool
