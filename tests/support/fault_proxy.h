// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A fault-injecting TCP proxy for failover tests: it sits between a client
// (the pool) and a server on loopback and, on command, forwards, blackholes,
// resets or refuses connections.
#ifndef DBPOOL_TESTS_SUPPORT_FAULT_PROXY_H_
#define DBPOOL_TESTS_SUPPORT_FAULT_PROXY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace dbpool {
namespace testing {

// Listens on 127.0.0.1:<ephemeral> and forwards each accepted connection to
// a target host:port. One background thread runs a poll() loop over every
// socket; all sockets are non-blocking. Thread-safe: set_mode() and the
// observers may be called from any thread.
//
// Each direction of a connection buffers at most 64 KiB; half-closes
// (shutdown(SHUT_WR)) are propagated; an error on either side, or a failed
// upstream connect, resets both sides. At most 256 connections are open at
// once; connections beyond that are accepted and reset.
class FaultProxy {
 public:
  // What the proxy does with connections. set_mode() changes it.
  enum class Mode {
    // Forward bytes both ways. The mode a proxy starts in.
    kPass,
    // A blackhole. The proxy stops touching existing connections: it neither
    // reads nor writes them (so the peers' TCP buffers fill up) and does not
    // notice their closes or resets. New connections are accepted and held:
    // no upstream connection is made and nothing is read from them.
    // Switching back to kPass thaws everything: existing connections resume
    // forwarding (bytes held in the proxy's buffers included) and held ones
    // connect upstream then. kReset or kRefuse resets them all instead.
    kStall,
    // Every existing connection is reset on both sides (closed with
    // SO_LINGER 0, so each peer sees ECONNRESET); new connections are
    // accepted and reset at once.
    kReset,
    // The listening socket is closed, so connects get ECONNREFUSED, and every
    // existing connection is reset on both sides. The port stays reserved (a
    // socket stays bound to it without listening); kPass or kStall listen on
    // the same port again.
    kRefuse,
  };

  // Starts listening on 127.0.0.1:<ephemeral> and forwarding to
  // target_host:target_port (a numeric address or a name; IPv4 is preferred).
  // Returns kInvalidArgument for a port outside 1..65535 or an unresolvable
  // host, kInternal when the listener or the wake-up eventfd cannot be made.
  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(std::string target_host,
                                                           int target_port);

  // Stops the thread and closes every socket, resetting open connections on
  // both sides. Returns promptly whatever the peers do.
  ~FaultProxy();

  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // The port clients connect to, on 127.0.0.1. Fixed for the proxy's life.
  int port() const { return port_; }

  // Switches the mode. Synchronous: when it returns, the background thread has
  // applied it (existing connections reset, listener closed or reopened), so
  // a connect made afterwards sees the new mode. Calls are serialized.
  // Returns kUnavailable when the port cannot be listened on again (leaving
  // the proxy in kRefuse), kDeadlineExceeded if the thread does not answer
  // within 10 s (a bug), kFailedPrecondition after the thread has stopped.
  absl::Status set_mode(Mode mode);

  // The mode last applied.
  Mode mode() const;

  // Client connections currently open through the proxy, held ones in
  // kStall included.
  int active_connections() const { return active_.load(); }

  // Connections accepted since Start(), reset ones included.
  int64_t accepted() const { return accepted_.load(); }

 private:
  class Loop;

  FaultProxy(int port, int wake_fd);

  // Wakes the background thread out of poll().
  void Wake();

  const int port_;
  const int wake_fd_;  // an eventfd; the thread polls it

  // Serializes set_mode() calls, so each one gets its own result.
  absl::Mutex set_mode_mu_ ABSL_ACQUIRED_BEFORE(mu_);

  mutable absl::Mutex mu_;
  Mode mode_ ABSL_GUARDED_BY(mu_) = Mode::kPass;  // last applied
  Mode requested_mode_ ABSL_GUARDED_BY(mu_) = Mode::kPass;
  int64_t requested_ ABSL_GUARDED_BY(mu_) = 0;      // set_mode() calls so far
  int64_t applied_ ABSL_GUARDED_BY(mu_) = 0;        // requests the thread applied
  absl::Status apply_status_ ABSL_GUARDED_BY(mu_);  // the last request's result
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;  // the thread has exited

  std::atomic<int> active_{0};
  std::atomic<int64_t> accepted_{0};

  std::unique_ptr<Loop> loop_;  // the thread's state; touched only by it
  std::thread thread_;
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_FAULT_PROXY_H_
