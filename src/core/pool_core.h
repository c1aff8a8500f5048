// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PoolCore: one pool's connections, whatever the database.
//
// Where a connection is at any time (every count is guarded by mu_):
//
//   connecting ──open ok──> handed to the oldest waiter ─┐
//        │                  or pushed on idle_           │
//     open failed                                        v
//        v          ┌──── idle_ ──acquire()────────> in_use (a Lease)
//     (gone, backoff)│      ^  │                          │
//                    │      │  └─housekeeping: expired,   │ release(): hygiene,
//                    │      │    idle too long ─> closed  │ then to the oldest
//                    │      │    keepalive ─> maintenance │ waiter, else idle_
//                    │      └─────────────────────────────┘
//                    └─ discard / broken / expired on return ─> closed
//
// total_ = idle_.size() + in_use_ + connecting_ + maintenance_ <= max_size.
// Waiters queue in FIFO order; a connection that comes free goes straight to
// the oldest waiter. Connections open on background opener threads (never a
// caller's), and idle_timeout, max_lifetime and keepalive run on one
// housekeeper thread. No user code runs under mu_.
#ifndef DBPOOL_CORE_POOL_CORE_H_
#define DBPOOL_CORE_POOL_CORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/slot.h"
#include "core/wait_queue.h"
#include "dbpool/driver.h"
#include "dbpool/pool_options.h"
#include "dbpool/stats.h"

namespace dbpool {
namespace internal {

class PoolCore {
 public:
  PoolCore(PoolOptions options, DriverSetup setup);
  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;
  ~PoolCore();

  // Starts the opener and housekeeper threads.
  void Start();

  // A connection for the caller, validated if it sat idle; see Pool::acquire.
  absl::StatusOr<Slot*> Acquire(const AcquireOptions& options);

  // Takes back a leased connection: hygiene, then to a waiter or idle.
  void Release(Slot* slot);

  // Takes back a leased connection and closes it.
  void Discard(Slot* slot);

  PoolStats Stats() const;

  // Closes every idle connection now (its endpoint went down).
  void EvictIdle();

  // Shuts down the sockets of leased connections, so that native calls
  // blocked on them return an error (their endpoint went down).
  void InterruptLeased();

  // Ends every waiting acquire with `error`.
  void FailWaiters(const absl::Status& error);

  // The first (for a cluster member: the only) endpoint.
  const Endpoint& endpoint() const { return endpoints_.front(); }

  // Fails waiters, closes idle connections, stops the threads. Idempotent.
  void Close();

  const PoolOptions& options() const { return options_; }

 private:
  enum class CloseReason { kIdle, kLifetime, kBroken, kDiscarded, kEvicted, kShutdown };

  // Hands `slot` to the oldest waiter, or pushes it on idle_.
  void GiveLocked(Slot* slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets `slot` (already out of idle_ and in_use_) and counts why; the
  // caller destroys it after unlocking.
  void ForgetLocked(Slot* slot, CloseReason reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // How many more connections the openers should start now.
  int ConnectDemandLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WakeOpenersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FailWaitersLocked(const absl::Status& error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WaitFailedLocked(absl::Duration waited) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A status that ends an acquire at once while reconnects back off, or OK.
  absl::Status FailFastLocked(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  PoolStats StatsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Opens one connection, trying endpoints in order, and runs init_sql.
  absl::StatusOr<Slot*> OpenSlot();
  void OpenerLoop();
  void HousekeeperLoop();
  // Returns true when `slot` may be handed out; else forgets it.
  bool ValidateForHandout(Slot* slot, absl::Time now, absl::Time deadline);

  const PoolOptions options_;
  const std::shared_ptr<Driver> driver_;
  const std::vector<Endpoint> endpoints_;

  mutable absl::Mutex mu_;
  absl::CondVar opener_cv_;
  absl::CondVar housekeeper_cv_;
  std::vector<Slot*> idle_ ABSL_GUARDED_BY(mu_);  // oldest first; acquire takes the back
  WaitQueue waiters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Slot*> all_ ABSL_GUARDED_BY(mu_);  // every open connection
  int total_ ABSL_GUARDED_BY(mu_) = 0;
  int in_use_ ABSL_GUARDED_BY(mu_) = 0;
  int connecting_ ABSL_GUARDED_BY(mu_) = 0;
  int maintenance_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);

  // Reconnect backoff after failed connects.
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time backoff_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Status last_connect_status_ ABSL_GUARDED_BY(mu_);

  // Counters (see PoolStats).
  uint64_t acquired_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t created_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t connect_failures_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t timeouts_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t validation_failures_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rollbacks_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t resets_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_idle_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_lifetime_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_broken_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_discarded_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t keepalives_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_evicted_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_POOL_CORE_H_
