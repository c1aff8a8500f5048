// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/events.h
//
// PoolListener: hooks for the application's logging, metrics or tracing.
#ifndef DBPOOL_EVENTS_H_
#define DBPOOL_EVENTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace dbpool {

// Why a connection was closed.
enum class CloseCause {
  kDiscarded,         // Lease::discard()
  kBroken,            // broken (the network, the server), or a rollback/reset failed on return
  kValidationFailed,  // found dead before hand-out or by a keepalive ping
  kIdleTimeout,
  kMaxLifetime,
  kEvicted,  // its endpoint went down, or Pool::evict()
  // Returned with a command or result in flight (an unread result, libpq
  // pipeline mode): the application's doing, not the network's.
  kReturnedBusy,
};

// "discarded", "broken", "validation_failed", "idle_timeout",
// "max_lifetime", "evicted" or "returned_busy".
const char* CloseCauseName(CloseCause cause);

struct ConnectEvent {
  std::string endpoint;  // "host:port"
  absl::Duration took;   // the whole attempt, init_sql included
  absl::Status status;   // OK, or why it failed (never holds a secret)
};

struct AcquireEvent {
  std::string endpoint;
  absl::Duration waited;  // zero when an idle connection was free at once
};

struct ReleaseEvent {
  std::string endpoint;
  absl::Duration held;  // from hand-out to release()
};

struct CloseEvent {
  std::string endpoint;
  CloseCause cause;
};

struct FailoverEvent {
  std::string from;  // the previous primary, "" if there was none
  std::string to;    // the new primary, "" if none is left
  // From the first failed probe of `from` to marking it down (zero when
  // `from` was demoted rather than lost).
  absl::Duration detection;
  // True when this event reports that a split brain began: two or more
  // endpoints are writable on the same or an unknown timeline (PostgreSQL)
  // or with no timeline (MySQL), so no primary is routed and
  // acquire(Role::kPrimary) fails with kUnavailable until only one is
  // writable or one is on a newer timeline. `to` is then "".
  bool split_brain = false;
  // With split_brain: those endpoints ("host:port", in list order).
  std::vector<std::string> writable;
};

struct LeakEvent {
  std::string endpoint;
  absl::Duration held;  // when the leak was noticed
  const char* file;     // where acquire() was called
  int line;
};

// PoolListener
//
// Override what you need; every default does nothing. Set with
// Builder::listener(). Called on the thread where the event happens (a
// caller's for acquire and release, a pool thread for the others), never
// while the pool holds a lock, so a listener may call back into the pool,
// close() included, and may drop the last Pool handle: on a pool thread,
// close() does not wait for that thread (the pool's destructor joins it),
// and a last handle dropped there has a helper thread close and destroy
// the pool once the listener has returned.
// Must be thread-safe and fast: acquire and release events are on the hot
// path (and cost nothing when no listener is set).
//
// An exception thrown by a callback is caught and dropped where the pool
// calls it: that event is lost for this listener, and nothing else changes
// (the acquire still returns its lease, the release still returns the
// connection, the pool thread goes on). The same holds for a log sink
// (Builder::log_sink) that throws: the line is lost, the listener set with
// Builder::listener() still gets the event.
class PoolListener {
 public:
  virtual ~PoolListener() = default;
  virtual void on_connect(const ConnectEvent&) {}
  virtual void on_acquire(const AcquireEvent&) {}
  virtual void on_release(const ReleaseEvent&) {}
  virtual void on_close(const CloseEvent&) {}
  virtual void on_failover(const FailoverEvent&) {}
  virtual void on_leak(const LeakEvent&) {}
};

}  // namespace dbpool

#endif  // DBPOOL_EVENTS_H_
