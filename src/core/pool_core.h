// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PoolCore: one endpoint's connections, whatever the database.
//
// Where a connection waits when nobody holds it: in a Slot in state kIdle.
// A core owns max_size slots (so the hard cap is structural), each moving
// through SlotState (see slot.h):
//
//   kEmpty ──opener claims (mutex)──> kConnecting
//   kConnecting ──connected──> kIdle (and on to the oldest waiter, if any)
//               ──connect failed, or abandoned by close()──> kEmpty
//               ──connected after close()──> kClosing
//   kIdle  ──acquire: CAS, no lock──> kInUse ──release: store, no lock──> kIdle
//   kInUse ──release needing a rollback/reset (mutex)──> kRestoring
//   kRestoring ──resetter restored it──> kIdle
//              ──reset failed, or closed meanwhile──> kClosing
//   kIdle  ──housekeeper CAS──> kChecking
//   kChecking ──ping answered, or a stale plan (put back)──> kIdle
//             ──ping failed, expired, idle too long, or closed──> kClosing
//   kIdle  ──CAS by evict, close() or a release that saw close()──> kClosing
//   kInUse ──discard / broken / busy / expired / closed (mutex)──> kClosing
//   kClosing ──connection closed outside the mutex (Closing,
//              FreeClosedSlot)──> kEmpty
//
// The fast path: acquire() claims an idle slot with one compare-and-swap
// (trying the slot this thread used last first), release() returns it with
// one store; neither takes the mutex, allocates, or makes a system call.
// The mutex guards the slow path: the FIFO wait queue, opening and closing
// connections, and counters of rare events.
//
// Fairness: while anyone waits (waiting_ > 0), acquires skip the fast path
// and queue, and a returned connection goes to the oldest waiter. A release
// stores kIdle and then reads waiting_; a waiter publishes waiting_ and then
// scans for idle slots; close() publishes closed_ and then scans. All of
// these stores and loads are sequentially consistent, through the helper
// pair in core/handshake.h, so no connection can sit idle while a waiter
// sleeps, nor outlive close().
//
// Connections open on background opener threads (never a caller's); a
// returned session that needs a round trip to be clean (rollback, reset) is
// restored by a resetter thread while the caller goes on (resetters start
// on demand, one per reset under way, up to max_size, so that no return
// waits behind another's round trip); idle_timeout,
// max_lifetime and keepalive run on one housekeeper thread.
// No user code runs under the mutex.
#ifndef DBPOOL_CORE_POOL_CORE_H_
#define DBPOOL_CORE_POOL_CORE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/async_waiter.h"
#include "core/clock.h"
#include "core/slot.h"
#include "core/wait_queue.h"
#include "dbpool/connect_abort.h"
#include "dbpool/driver.h"
#include "dbpool/pool_options.h"
#include "dbpool/stats.h"

namespace dbpool {
namespace internal {

class PoolCore {
 public:
  // The connections of one endpoint, opened through `driver`.
  PoolCore(PoolOptions options, std::shared_ptr<Driver> driver, Endpoint endpoint);
  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;
  ~PoolCore();

  // Starts the opener and housekeeper threads and the first resetter.
  void Start();

  // Route epochs: a failover layer that routes an acquire here reads its
  // epoch counter (ReadRouteEpoch() in failover/cluster.h) before reading
  // the route, and passes it as `routed_at`; FailWaiters() records the
  // epoch of its call. An acquire that would queue here after a
  // FailWaiters() of a later epoch than its own fails at once with
  // kUnavailable instead (its route may predate the change that failed the
  // waiters, which would otherwise leave it waiting out its deadline on an
  // endpoint nothing routes to any more). kNotRouted: no such check.
  static constexpr uint64_t kNotRouted = UINT64_MAX;

  // A connection for the caller, validated if it sat idle; see Pool::acquire.
  absl::StatusOr<Slot*> Acquire(const AcquireOptions& options, uint64_t routed_at = kNotRouted);

  // Acquire() without queueing: an idle connection claimed on the lock-free
  // path (validated as Acquire() does), or null when Acquire() would have to
  // take the slow path (nothing idle, waiters, closed). `*started` is set to
  // FineNanos() at the attempt's first clock read (its deadline, fixed
  // before a validation ping), or 0 when it read no clock.
  Slot* TryAcquire(const AcquireOptions& options, int64_t* started);

  // Takes back a leased connection: hygiene, then to a waiter or idle.
  void Release(Slot* slot);

  // Pool::acquire_async() for this endpoint; never blocks. When a
  // connection is idle and needs no check, or the pool is closed, `done`
  // runs on this thread before the return, which is then null. Otherwise
  // the call queues in FIFO order with the blocking acquires, under the
  // same deadline rules. A release that hands it a connection runs `done`
  // on the releasing thread (see InlineSink); otherwise `done` runs on the
  // core's async thread (a pool thread, started on first need): with a
  // connection from an opener or a resetter (checked first when it sat
  // idle past validation_window), or an error at the deadline or close.
  // Returns the queued waiter, for CancelAsync().
  std::shared_ptr<AsyncWaiter> AcquireAsync(const AcquireOptions& request, AsyncDone done,
                                            uint64_t routed_at = kNotRouted);

  // Ends a queued AcquireAsync() with kCancelled, its `done` running on
  // this thread before the return, and returns true; false, doing
  // nothing, once it has been served or failed (its `done` runs or ran
  // with that).
  bool CancelAsync(AsyncWaiter* waiter);

  // Pool::warm_up() for this endpoint: acquires `count` connections at
  // once (opening those that are missing, validating idle ones as any
  // acquire does) before `deadline` (FineNanos()), then returns them. OK,
  // or the first acquire's error; `*ready` is how many it got.
  absl::Status WarmUp(int count, int64_t deadline, int* ready);

  // Takes back a leased connection and closes it.
  void Discard(Slot* slot);

  PoolStats Stats() const;

  // Closes every idle connection now (its endpoint went down).
  void EvictIdle();

  // Closes every idle connection now and every leased one when it comes
  // back (Pool::evict()); connections opened after the call are kept.
  // Thread-safe; counted in closed_evicted.
  void SoftEvict();

  // Shuts down the sockets of leased connections, so that native calls
  // blocked on them return an error (their endpoint went down).
  void InterruptLeased();

  // Ends every waiting acquire with `error`; with a route epoch (see
  // kNotRouted), also every later one routed at an earlier epoch.
  void FailWaiters(const absl::Status& error, uint64_t epoch = 0);

  // Fails waiters, closes idle connections, stops the threads. Idempotent;
  // a second call returns once the first has finished. Called on one of
  // this core's own threads (from a listener), it does not wait for that
  // thread, which a later call (the destructor's at the latest) joins.
  void Close();

  // The first (for a cluster member: the only) endpoint.
  const Endpoint& endpoint() const { return endpoint_; }
  const PoolOptions& options() const { return options_; }

 private:
  enum class CloseReason {
    kIdle,
    kLifetime,
    kBroken,
    kValidationFailed,
    kDiscarded,
    kEvicted,
    kShutdown,
    kReturnedBusy,
  };

  // Sends the close events recorded under mu_ to the listener. Call
  // without mu_ held.
  void EmitPendingCloses();

  // A connection taken out of its slot to be closed. Closing a socket is
  // I/O, so it happens outside mu_; until it has, the slot stays kClosing
  // and counted in total_, so the pool never holds more than max_size
  // connections, closing ones included. Destroy (or Finish()) it only
  // without mu_ held: that closes the connection, then frees the slot. So
  // nothing that can throw may run under mu_ while one lives there: a
  // vector of them is reserved before the first slot is claimed.
  class Closing {
   public:
    Closing() = default;
    Closing(PoolCore* core, Slot* slot) : core_(core), slot_(slot) {}
    Closing(Closing&& other) noexcept
        : core_(other.core_), slot_(std::exchange(other.slot_, nullptr)) {}
    Closing& operator=(Closing&& other) noexcept {
      if (this != &other) {
        Finish();
        core_ = other.core_;
        slot_ = std::exchange(other.slot_, nullptr);
      }
      return *this;
    }
    Closing(const Closing&) = delete;
    Closing& operator=(const Closing&) = delete;
    ~Closing() { Finish(); }
    void Finish();

   private:
    PoolCore* core_ = nullptr;
    Slot* slot_ = nullptr;
  };
  // Frees a slot whose connection Closing has closed.
  void FreeClosedSlot(Slot* slot) ABSL_LOCKS_EXCLUDED(mu_);

  // Ends a queued wait: `slot` (claimed kInUse for it) or `error`. Wakes a
  // blocking waiter; moves an async one to the ready list.
  void HandOverLocked(Waiter* w, Slot* slot, absl::Status error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // While one lives (mu_ held throughout), async waiters that ServeWaitersLocked()
  // hands a connection needing no check go to `*sink` instead of the async
  // thread, and the releasing thread completes them (CompleteInline) once
  // it has unlocked. Not on a thread that is completing some already: a
  // callback that releases a lease hands that connection to the async
  // thread, so callbacks never nest.
  class InlineSink {
   public:
    // Both with core->mu_ held (which the analysis cannot relate to the
    // caller's own mu_).
    InlineSink(PoolCore* core,
               std::vector<std::shared_ptr<AsyncWaiter>>* sink) ABSL_NO_THREAD_SAFETY_ANALYSIS;
    ~InlineSink() ABSL_NO_THREAD_SAFETY_ANALYSIS;
    InlineSink(const InlineSink&) = delete;
    InlineSink& operator=(const InlineSink&) = delete;

   private:
    PoolCore* const core_;
  };
  // Completes async waiters an InlineSink collected, on this thread,
  // without mu_ held.
  void CompleteInline(std::vector<std::shared_ptr<AsyncWaiter>> served) ABSL_LOCKS_EXCLUDED(mu_);
  // Queues an async waiter (kQueued), at the head when `front`.
  void QueueAsyncLocked(std::shared_ptr<AsyncWaiter> waiter, bool front)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the async thread if it does not run yet.
  absl::Status StartAsyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The async thread: times out queued async waiters and completes ready
  // ones, outside mu_.
  void AsyncLoop();
  // Completes one ready async waiter, without mu_ held: checks the
  // connection it was handed (queueing it again at the head when that
  // fails), then runs its `done`.
  void CompleteAsync(std::shared_ptr<AsyncWaiter> waiter) ABSL_LOCKS_EXCLUDED(mu_);
  // The closed pool's error.
  absl::Status ClosedError() const;

  // Claims an idle slot (kIdle -> kInUse) without locking, or returns null.
  // `fast`: for the lock-free fast path; else for a scan that follows an
  // Announce() (core/handshake.h).
  Slot* TryClaimIdle(bool fast);
  // Hands idle slots to waiters, oldest first, while both exist.
  void ServeWaitersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the lease record of a returned slot (leak detection, hold time);
  // returns its start (FineNanos(), 0 if none was recorded).
  int64_t EndLease(Slot* slot);
  // Publishes an owned slot as idle and serves waiters if any.
  void ReturnIdle(Slot* slot);
  // Closes an owned slot's connection (kInUse or one of the core's own states -> kClosing ->
  // kEmpty).
  void CloseSlot(Slot* slot, CloseReason reason);
  // The same with mu_ held: counts the close and returns the Closing that
  // the caller finishes after unlocking.
  Closing EmptySlotLocked(Slot* slot, CloseReason reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes every idle slot and empties it, for eviction or shutdown.
  std::vector<Closing> TakeAllIdleLocked(CloseReason reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // How many slots are in each state, from one pass over them (see slot.h:
  // exact but for kIdle and kInUse, which the fast path changes unlocked).
  // The one source of the counts of connecting, checked, restoring and
  // closing connections.
  struct SlotCounts {
    std::array<int, kSlotStates> by_state{};
    int operator[](SlotState state) const { return by_state[static_cast<int>(state)]; }
    // Connections the core is checking or restoring: they come back.
    int maintained() const {
      return (*this)[SlotState::kChecking] + (*this)[SlotState::kRestoring];
    }
    // Connections open or coming back for hand-out: idle, leased, or with
    // the core. Not those connecting (they may fail) or closing.
    int serving() const {
      return (*this)[SlotState::kIdle] + (*this)[SlotState::kInUse] + maintained();
    }
  };
  SlotCounts CountLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether fewer than min_idle slots are idle (a lock-free estimate).
  bool IdleBelowMinimum() const;
  // How many more connections the openers should start now.
  int ConnectDemandLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WakeOpenersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FailWaitersLocked(const absl::Status& error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WaitFailedLocked(absl::Duration waited) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A status that ends an acquire at once while reconnects back off, or OK.
  absl::Status FailFastLocked(int64_t now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  PoolStats StatsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The deadline of one acquire, fixed from the monotonic clock on first
  // need: before its first validation ping or wait (nothing before either
  // blocks, so the lock-free path reads no clock for it).
  class AcquireDeadline {
   public:
    explicit AcquireDeadline(absl::Duration timeout) : timeout_(timeout) {}
    // A deadline already fixed: `entered` and `at` are FineNanos().
    AcquireDeadline(int64_t entered, int64_t at)
        : timeout_(absl::ZeroDuration()), entered_(entered), at_(at) {}
    int64_t Get() {  // FineNanos()
      if (entered_ == 0) {
        entered_ = FineNanos();
        at_ = AddNanos(entered_, timeout_);
      }
      return at_;
    }
    int64_t entered() {
      Get();
      return entered_;
    }
    // entered(), or 0 while the deadline was never needed.
    int64_t entered_if_fixed() const { return entered_; }

   private:
    const absl::Duration timeout_;
    int64_t entered_ = 0;
    int64_t at_ = INT64_MAX;
  };
  // The slow path of Acquire: queue and wait until the deadline. `front`:
  // at the head of the queue (a waiter that was served a connection which
  // failed validation keeps its place).
  absl::StatusOr<Slot*> WaitForSlot(AcquireDeadline& deadline, bool front, uint64_t routed_at);
  // Around a round trip of the pool's own on `conn` (which stays owned by
  // the caller): BeginIoLocked() registers it for Close() to interrupt, or
  // returns false, registering nothing, once the pool is closed (the round
  // trip must then not start); EndIoLocked() takes it out again. With
  // RunIo(), the same without mu_ held: `io` runs unless closed, and its
  // result is returned (`if_closed` when it did not run).
  bool BeginIoLocked(DriverConnection* conn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndIoLocked(DriverConnection* conn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  template <typename Io>
  absl::Status RunIo(DriverConnection* conn, absl::Status if_closed, Io io)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The error of an acquire routed at `routed_at` that must not queue (see
  // kNotRouted), or OK.
  absl::Status RerouteLocked(uint64_t routed_at) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Acquire() and TryAcquire(): with `queue` false, returns null where
  // Acquire() would take the slow path.
  absl::StatusOr<Slot*> AcquireSlot(const AcquireOptions& request, AcquireDeadline& deadline,
                                    bool queue, uint64_t routed_at = kNotRouted);

  // Opens one connection to the endpoint into `slot` (kConnecting) and
  // runs init_sql on it.
  absl::Status OpenInto(Slot* slot);
  void OpenerLoop();
  void HousekeeperLoop();
  // Reports leases held past leak_detection_threshold, once each. Call
  // with mu_ held; unlocks around the listener.
  void ReportLeaksLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Restores sessions of returned connections that need a round trip
  // (rollback, full or custom reset), off the caller's thread. Several run
  // at once, one per reset under way (see QueueResetLocked).
  void ResetterLoop();
  // Queues an owned slot (kInUse -> kRestoring) for a resetter, starting
  // one more if every resetter is busy and fewer than max_size run.
  void QueueResetLocked(Slot* slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartResetterLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether SoftEvict() was called since `slot` began connecting.
  bool Evicted(const Slot& slot) const;
  // What a claimed slot needs before it is handed out.
  enum class Handout { kReady, kPing, kEvicted, kExpired, kInterrupted };
  Handout CheckForHandout(const Slot& slot, int64_t now) const;
  // The bookkeeping of a hand-out (counts, lease record, the listener's
  // on_acquire, min_idle). `waited_since`: FineNanos() when the acquire
  // began waiting, 0 if it did not.
  void RecordHandout(Slot* slot, const AcquireOptions& request, int64_t waited_since);
  void RecordHandoutInline(Slot* slot, const AcquireOptions& request, int64_t waited_since);
  // Returns true when `slot` may be handed out; else closes it.
  // `now` is MonoNanos(); a ping gets the time left before `deadline`.
  bool ValidateForHandout(Slot* slot, int64_t now, AcquireDeadline& deadline);

  const PoolOptions options_;
  const std::shared_ptr<Driver> driver_;
  const Endpoint endpoint_;
  const int capacity_;                   // max_size
  const std::unique_ptr<Slot[]> slots_;  // capacity_ slots
  const int64_t validation_window_ns_;
  PoolListener* const listener_;     // options_.listener, may be null
  const bool track_leases_;          // a listener, leak detection or histograms want hand-out times
  const std::string endpoint_name_;  // for events

  // Read on the fast path without the mutex.
  std::atomic<int> waiting_{0};      // waiters_.size()
  std::atomic<bool> closed_{false};  // written under mu_
  std::atomic<int> scan_limit_{0};   // 1 + the highest slot index ever used
  std::atomic<uint64_t> acquired_{0};
  std::atomic<int> open_{0};  // total_, mirrored for the fast path
  // Bumped by SoftEvict(): a connection that began connecting under an
  // older value is closed on return instead of going idle.
  std::atomic<uint64_t> evict_generation_{0};

  mutable absl::Mutex mu_;
  absl::CondVar opener_cv_;
  absl::CondVar housekeeper_cv_;
  absl::CondVar resetter_cv_;
  absl::CondVar async_cv_;  // the ready list or the earliest async deadline changed
  bool async_started_ ABSL_GUARDED_BY(mu_) = false;
  // Async waiters served or failed (kReady), for the async thread.
  std::vector<std::shared_ptr<AsyncWaiter>> async_ready_ ABSL_GUARDED_BY(mu_);
  // Set by an InlineSink while its thread serves waiters.
  std::vector<std::shared_ptr<AsyncWaiter>>* inline_sink_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Queued async waiters by deadline (FineNanos()).
  std::set<std::pair<int64_t, AsyncWaiter*>> async_deadlines_ ABSL_GUARDED_BY(mu_);
  // kRestoring, awaiting hygiene. Its capacity is reserved for every slot
  // at construction, so queueing one (after it was claimed) never allocates.
  std::vector<Slot*> reset_queue_ ABSL_GUARDED_BY(mu_);
  int resetters_ ABSL_GUARDED_BY(mu_) = 0;       // resetter threads started (up to max_size)
  int idle_resetters_ ABSL_GUARDED_BY(mu_) = 0;  // of them, waiting for work
  // Closes the listener is yet to hear of (EmitPendingCloses), counted by
  // cause. Counts, not a list: recording one allocates nothing, and
  // EmptySlotLocked() runs after a slot was claimed, where a std::bad_alloc
  // would leave the slot kClosing with no Closing to free it.
  static constexpr int kCloseCauses = static_cast<int>(CloseCause::kReturnedBusy) + 1;
  std::array<int, kCloseCauses> pending_closes_ ABSL_GUARDED_BY(mu_) = {};
  WaitQueue waiters_ ABSL_GUARDED_BY(mu_);
  int total_ ABSL_GUARDED_BY(mu_) = 0;  // non-empty slots
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  int closers_ ABSL_GUARDED_BY(mu_) = 0;  // Close() calls still closing
  // The route epoch of the last FailWaiters() (see kNotRouted).
  uint64_t failed_at_ ABSL_GUARDED_BY(mu_) = 0;
  // Connections that a round trip of the pool's own is using right now
  // (a validation or keepalive ping, a reset, init_sql), so that Close()
  // can interrupt them: a stalled server must not hold close() for
  // validation_timeout. See BeginIoLocked().
  std::vector<DriverConnection*> in_io_ ABSL_GUARDED_BY(mu_);
  // Fired by Close(): connects under way (the openers') give up at once
  // instead of at connect_timeout.
  ConnectAbort connect_abort_;

  // Reconnect backoff after failed connects.
  int consecutive_failures_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t backoff_until_ ABSL_GUARDED_BY(mu_) = 0;  // MonoNanos()
  absl::Status last_connect_status_ ABSL_GUARDED_BY(mu_);

  // Counters of rare events (see PoolStats).
  uint64_t created_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t connect_failures_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t timeouts_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t validation_failures_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_idle_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_lifetime_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_broken_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_discarded_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t keepalives_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t housekeeping_passes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_evicted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t leaks_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t closed_busy_ ABSL_GUARDED_BY(mu_) = 0;
  // Counted on the release path without the mutex.
  std::atomic<uint64_t> rollbacks_{0};
  std::atomic<uint64_t> resets_{0};

  // Histograms (options_.histograms): bucket counts and sums in nanoseconds.
  struct AtomicHistogram {
    std::atomic<uint64_t> buckets[kHistogramBuckets] = {};
    std::atomic<uint64_t> sum_ns{0};
    void Record(absl::Duration d);
    void CopyTo(Histogram* out) const;
  };
  AtomicHistogram wait_histogram_;
  AtomicHistogram hold_histogram_;
};

// Inline: both are on the hot path.
inline bool PoolCore::Evicted(const Slot& slot) const {
  return slot.evict_generation < evict_generation_.load(std::memory_order_acquire);
}

inline PoolCore::Handout PoolCore::CheckForHandout(const Slot& slot, int64_t now) const {
  // Idle again after a ping or reset that an evict() overtook.
  if (Evicted(slot)) return Handout::kEvicted;
  if (now >= slot.expires) return Handout::kExpired;
  // Shut down by InterruptLeased() while leased, after its return had found
  // the session usable: broken, however recently it was checked.
  if (slot.interrupted.load(std::memory_order_acquire)) return Handout::kInterrupted;
  // A zero window validates every hand-out.
  if (now - slot.last_checked.load(std::memory_order_relaxed) < validation_window_ns_) {
    return Handout::kReady;
  }
  return Handout::kPing;
}

template <typename Io>
absl::Status PoolCore::RunIo(DriverConnection* conn, absl::Status if_closed, Io io) {
  {
    absl::MutexLock lock(&mu_);
    if (!BeginIoLocked(conn)) return if_closed;
  }
  absl::Status status = io();
  absl::MutexLock lock(&mu_);
  EndIoLocked(conn);
  return status;
}

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_POOL_CORE_H_
