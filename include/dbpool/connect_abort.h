// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/connect_abort.h
//
// ConnectAbort: the signal a pool gives connects in progress when it closes,
// so that close() does not wait out connect_timeout against a server that
// accepted TCP and then fell silent. For driver authors (see
// Driver::connect_abortable() in dbpool/driver.h); applications never need
// it.
#ifndef DBPOOL_CONNECT_ABORT_H_
#define DBPOOL_CONNECT_ABORT_H_

#include <atomic>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dbpool {

// ConnectAbort
//
// A one-shot, thread-safe signal. Fire() may run on any thread, any number
// of times; a connect that waits on a socket adds fd() to its poll set and
// gives up once it is readable, or checks fired() between its steps.
class ConnectAbort {
 public:
  ConnectAbort();
  ~ConnectAbort();
  ConnectAbort(const ConnectAbort&) = delete;
  ConnectAbort& operator=(const ConnectAbort&) = delete;

  // ConnectAbort::Fire()
  //
  // Tells every connect watching this signal to give up. Idempotent.
  void Fire();

  // ConnectAbort::fired()
  //
  // Whether Fire() has run.
  bool fired() const { return fired_.load(std::memory_order_acquire); }

  // ConnectAbort::fd()
  //
  // A descriptor that polls readable (POLLIN) once Fire() has run, and
  // stays so. Owned by this object: never read, write or close it. -1 when
  // the system had no descriptor to give; then only fired() tells.
  int fd() const { return fd_; }

 private:
  std::atomic<bool> fired_{false};
  const int fd_;
};

// ConnectAbandonedError()
//
// For drivers: the kCancelled error of a connect given up because its
// ConnectAbort fired, its message "<context>: abandoned: the pool is
// closing".
absl::Status ConnectAbandonedError(absl::string_view context);

}  // namespace dbpool

#endif  // DBPOOL_CONNECT_ABORT_H_
