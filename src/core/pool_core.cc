// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "core/pool_core.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/claim.h"
#include "core/clock.h"
#include "core/handshake.h"
#include "core/pool_errors.h"
#include "core/pool_thread.h"
#include "core/session_hygiene.h"
#include "core/wait_until.h"
#include "dbpool/events.h"

namespace dbpool {
namespace internal {
namespace {

// Opener threads per pool: connects run in parallel up to this many.
constexpr int kOpenerThreads = 2;

// The slot this thread used last, per core: tried first by TryClaimIdle(),
// so a thread tends to get the same connection back (hot caches, and the
// other connections can idle out).
struct ClaimHint {
  const void* core = nullptr;
  int index = 0;
};
thread_local ClaimHint claim_hint;

}  // namespace

PoolCore::PoolCore(PoolOptions options, std::shared_ptr<Driver> driver, Endpoint endpoint)
    : options_(std::move(options)),
      driver_(std::move(driver)),
      endpoint_(std::move(endpoint)),
      capacity_(options_.max_size),
      slots_(new Slot[static_cast<size_t>(options_.max_size)]),
      validation_window_ns_(absl::ToInt64Nanoseconds(options_.validation_window)),
      listener_(options_.listener.get()),
      track_leases_(listener_ != nullptr || options_.histograms ||
                    options_.leak_detection_threshold > absl::ZeroDuration()),
      endpoint_name_(endpoint_.ToString()) {
  reset_queue_.reserve(static_cast<size_t>(capacity_));
}

PoolCore::~PoolCore() { Close(); }

void PoolCore::Start() {
  absl::MutexLock lock(&mu_);
  const int openers = std::min(kOpenerThreads, options_.max_size);
  for (int i = 0; i < openers; ++i) {
    threads_.push_back(StartPoolThread(this, [this] { OpenerLoop(); }));
  }
  threads_.push_back(StartPoolThread(this, [this] { HousekeeperLoop(); }));
  StartResetterLocked();
}

Slot* PoolCore::TryClaimIdle(bool fast) {
  const Scan scan = fast ? Scan::kFast : Scan::kHandshake;
  if (claim_hint.core == this && claim_hint.index < capacity_ &&
      Claim(slots_[claim_hint.index], SlotState::kInUse, scan)) {
    return &slots_[claim_hint.index];
  }
  const int limit = scan_limit_.load(std::memory_order_acquire);
  for (int i = 0; i < limit; ++i) {
    if (Claim(slots_[i], SlotState::kInUse, scan)) return &slots_[i];
  }
  return nullptr;
}

// Inlined into the hot path (AcquireSlot); RecordHandout() is the same for
// the async thread (pool_core_async.cc).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void PoolCore::RecordHandoutInline(
    Slot* slot, const AcquireOptions& request, int64_t waited_since) {
  acquired_.fetch_add(1, std::memory_order_relaxed);
  claim_hint = ClaimHint{this, static_cast<int>(slot - slots_.get())};
  if (track_leases_) {
    slot->leased_file.store(request.where.file, std::memory_order_relaxed);
    slot->leased_line.store(request.where.line, std::memory_order_relaxed);
    slot->leak_reported.store(false, std::memory_order_relaxed);
    slot->leased_at.store(FineNanos(), std::memory_order_release);
  }
  if (listener_ != nullptr || options_.histograms) {
    const absl::Duration waited =
        waited_since == 0 ? absl::ZeroDuration() : absl::Nanoseconds(FineNanos() - waited_since);
    if (options_.histograms) wait_histogram_.Record(waited);
    if (listener_ != nullptr) listener_->on_acquire(AcquireEvent{endpoint_name_, waited});
  }
  if (options_.min_idle > 0 && open_.load(std::memory_order_relaxed) < capacity_ &&
      IdleBelowMinimum()) {
    // Taking an idle connection left fewer than min_idle: open more.
    absl::MutexLock lock(&mu_);
    WakeOpenersLocked();
  }
}

// Inlined into both callers: the hot path pays no extra call for the split.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::StatusOr<Slot*> PoolCore::AcquireSlot(
    const AcquireOptions& request, AcquireDeadline& deadline, bool queue, uint64_t routed_at) {
  int64_t waited_since = 0;  // FineNanos() when the slow path began, for events
  bool served = false;       // the last slot came from the wait queue
  for (;;) {
    Slot* slot = nullptr;
    if (!served && waiting_.load(std::memory_order_seq_cst) == 0 &&
        !closed_.load(std::memory_order_acquire)) {
      slot = TryClaimIdle(/*fast=*/true);
    }
    if (slot == nullptr) {
      if (!queue) return static_cast<Slot*>(nullptr);
      if (waited_since == 0) waited_since = FineNanos();
      // A waiter whose connection failed validation keeps its place.
      absl::StatusOr<Slot*> waited = WaitForSlot(deadline, /*front=*/served, routed_at);
      if (!waited.ok()) return waited.status();
      slot = *waited;
      served = true;
    }
    if (ValidateForHandout(slot, MonoNanos(), deadline)) {
      RecordHandoutInline(slot, request, waited_since);
      return slot;
    }
  }
}

void PoolCore::RecordHandout(Slot* slot, const AcquireOptions& request, int64_t waited_since) {
  RecordHandoutInline(slot, request, waited_since);
}

absl::StatusOr<Slot*> PoolCore::Acquire(const AcquireOptions& request, uint64_t routed_at) {
  AcquireDeadline deadline(request.timeout.value_or(options_.acquire_timeout));
  return AcquireSlot(request, deadline, /*queue=*/true, routed_at);
}

Slot* PoolCore::TryAcquire(const AcquireOptions& request, int64_t* started) {
  AcquireDeadline deadline(request.timeout.value_or(options_.acquire_timeout));
  // Without queueing nothing fails: a connection that fails validation is
  // closed and the next idle one tried, and none left means null.
  absl::StatusOr<Slot*> slot = AcquireSlot(request, deadline, /*queue=*/false);
  *started = deadline.entered_if_fixed();
  return slot.ok() ? *slot : nullptr;
}

absl::Status PoolCore::WarmUp(int count, int64_t deadline, int* ready) {
  // Held together, so that each acquire past the first needs one more
  // connection: the openers open what is missing, and a connect error
  // that waiting cannot heal ends the acquire at once, as it ends any.
  std::vector<Slot*> held;
  held.reserve(static_cast<size_t>(count));
  absl::Status status;
  while (static_cast<int>(held.size()) < count) {
    AcquireOptions request;
    request.timeout = TimeLeft(deadline);
    request.where = SourceLocation::Current();
    absl::StatusOr<Slot*> slot = Acquire(request);
    if (!slot.ok()) {
      status = slot.status();
      break;
    }
    held.push_back(*slot);
  }
  *ready = static_cast<int>(held.size());
  for (Slot* slot : held) Release(slot);
  return status;
}

absl::Status PoolCore::ClosedError() const { return PoolClosedError(options_.name); }

absl::Status PoolCore::RerouteLocked(uint64_t routed_at) const {
  if (routed_at == kNotRouted || routed_at >= failed_at_) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("dbpool: endpoint ", endpoint_name_,
                   " stopped serving this acquire's role after it was routed here; routed again"));
}

absl::StatusOr<Slot*> PoolCore::WaitForSlot(AcquireDeadline& deadline, bool front,
                                            uint64_t routed_at) {
  absl::MutexLock lock(&mu_);
  if (closed_.load(std::memory_order_relaxed)) return ClosedError();
  if (absl::Status stale = RerouteLocked(routed_at); !stale.ok()) return stale;
  Waiter waiter;
  if (front) {
    waiters_.push_front(&waiter);
  } else {
    waiters_.push_back(&waiter);
  }
  Announce(waiting_, static_cast<int>(waiters_.size()));
  // After announcing the wait: a release that stored kIdle before it saw
  // waiting_ > 0 left its connection where this scan finds it.
  ServeWaitersLocked();
  if (!waiter.done) {
    if (absl::Status fail = FailFastLocked(MonoNanos()); !fail.ok()) {
      waiters_.remove(&waiter);
      waiting_.store(static_cast<int>(waiters_.size()), std::memory_order_seq_cst);
      return fail;
    }
    WakeOpenersLocked();
  }
  while (!waiter.done) {
    if (WaitUntil(waiter.cv, &mu_, deadline.Get()) && !waiter.done) {
      waiters_.remove(&waiter);
      waiting_.store(static_cast<int>(waiters_.size()), std::memory_order_seq_cst);
      ++timeouts_;
      return WaitFailedLocked(absl::Nanoseconds(FineNanos() - deadline.entered()));
    }
  }
  if (!waiter.error.ok()) return waiter.error;
  return waiter.slot;  // claimed kInUse by the giver
}

void PoolCore::ServeWaitersLocked() {
  while (!waiters_.empty()) {
    Slot* slot = TryClaimIdle(/*fast=*/false);
    if (slot == nullptr) break;
    HandOverLocked(waiters_.pop_front(), slot, absl::OkStatus());
  }
  waiting_.store(static_cast<int>(waiters_.size()), std::memory_order_seq_cst);
}

void PoolCore::HandOverLocked(Waiter* w, Slot* slot, absl::Status error) {
  w->slot = slot;
  w->error = std::move(error);
  w->done = true;
  if (AsyncWaiter* a = w->async) {
    async_deadlines_.erase({a->deadline, a});
    if (inline_sink_ != nullptr && slot != nullptr &&
        CheckForHandout(*slot, MonoNanos()) == Handout::kReady) {
      // The releasing thread completes it (see InlineSink): no hop to the
      // async thread.
      a->state = AsyncState::kFinished;
      inline_sink_->push_back(std::move(a->self));
      return;
    }
    a->state = AsyncState::kReady;
    async_ready_.push_back(std::move(a->self));
    async_cv_.Signal();
  } else {
    w->cv.Signal();
  }
}

bool PoolCore::BeginIoLocked(DriverConnection* conn) {
  if (closed_.load(std::memory_order_relaxed)) return false;
  in_io_.push_back(conn);
  return true;
}

void PoolCore::EndIoLocked(DriverConnection* conn) {
  in_io_.erase(std::find(in_io_.begin(), in_io_.end(), conn));
}

bool PoolCore::ValidateForHandout(Slot* slot, int64_t now, AcquireDeadline& deadline) {
  CloseReason reason;
  const Handout check = CheckForHandout(*slot, now);
  if (check == Handout::kReady) return true;
  if (check == Handout::kEvicted) {
    reason = CloseReason::kEvicted;
  } else if (check == Handout::kExpired) {
    reason = CloseReason::kLifetime;
  } else if (check == Handout::kInterrupted) {
    reason = CloseReason::kBroken;
  } else {
    // Bounded by the caller's deadline and by validation_timeout, whichever
    // comes first, but at least a millisecond.
    const int64_t ping_deadline =
        std::max(std::min(deadline.Get(), AddNanos(now, options_.validation_timeout)),
                 AddNanos(FineNanos(), absl::Milliseconds(1)));
    if (RunIo(slot->conn.get(), ClosedError(), [&] {
          return slot->conn->ping(WallDeadline(ping_deadline));
        }).ok()) {
      slot->last_checked.store(MonoNanos(), std::memory_order_relaxed);
      return true;
    }
    absl::MutexLock lock(&mu_);
    if (closed_.load(std::memory_order_relaxed)) {
      reason = CloseReason::kShutdown;  // not pinged, or interrupted by close()
    } else {
      reason = CloseReason::kValidationFailed;
      ++validation_failures_;
    }
  }
  CloseSlot(slot, reason);
  return false;
}

void PoolCore::Release(Slot* slot) {
  const int64_t now = MonoNanos();
  if (track_leases_) {
    // The fine clock: hold times of microseconds are common, the coarse
    // clock's tick is milliseconds.
    const int64_t since = EndLease(slot);
    if (listener_ != nullptr || options_.histograms) {
      const absl::Duration held = absl::Nanoseconds(FineNanos() - since);
      if (options_.histograms) hold_histogram_.Record(held);
      if (listener_ != nullptr) listener_->on_release(ReleaseEvent{endpoint_name_, held});
    }
  }
  if (Evicted(*slot)) {
    CloseSlot(slot, CloseReason::kEvicted);
    return;
  }
  const bool expired = now >= slot->expires;
  if (expired || closed_.load(std::memory_order_acquire)) {
    CloseSlot(slot, expired ? CloseReason::kLifetime : CloseReason::kShutdown);
    return;
  }
  const SessionState state = slot->conn->session_state();
  const ReturnAction action = ClassifyReturn(state, options_.reset_policy);
  if (action == ReturnAction::kClose) {
    CloseSlot(slot,
              state == SessionState::kBusy ? CloseReason::kReturnedBusy : CloseReason::kBroken);
    return;
  }
  if (action == ReturnAction::kRestore) {
    // A round trip is needed: the resetter does it, the caller goes on.
    Closing doomed;
    {
      absl::MutexLock lock(&mu_);
      if (closed_.load(std::memory_order_relaxed)) {
        // Closed since the check above: the resetter may have exited, and
        // a queued slot would keep its connection (and transaction) open.
        doomed = EmptySlotLocked(slot, CloseReason::kShutdown);
      } else {
        QueueResetLocked(slot);
      }
    }
    return;  // `doomed`, if any, closes the connection here, unlocked
  }
  slot->last_used.store(now, std::memory_order_relaxed);
  slot->last_checked.store(now, std::memory_order_relaxed);
  ReturnIdle(slot);
}

void PoolCore::ReturnIdle(Slot* slot) {
  PublishIdle(*slot);
  if (!HandOffNeeded(waiting_, closed_)) return;  // the fast path: nobody to hand it to
  Closing doomed;
  std::vector<std::shared_ptr<AsyncWaiter>> served_here;  // async waiters this thread completes
  {
    absl::MutexLock lock(&mu_);
    InlineSink sink(this, &served_here);
    ServeWaitersLocked();
    // Closed meanwhile: Close() may have swept the idle slots before this
    // one became idle; close it here unless someone already took it.
    if (closed_.load(std::memory_order_relaxed) && Claim(*slot, SlotState::kClosing)) {
      doomed = EmptySlotLocked(slot, CloseReason::kShutdown);
    }
  }
  doomed.Finish();
  CompleteInline(std::move(served_here));
}

void PoolCore::Discard(Slot* slot) {
  if (track_leases_) EndLease(slot);
  CloseSlot(slot, CloseReason::kDiscarded);
}

int64_t PoolCore::EndLease(Slot* slot) {
  // Cleared, so that the leak detector never takes this lease's time and
  // place for the next holder's (a slot handed to a waiter, or claimed and
  // being validated, is kInUse before its new lease is recorded).
  return slot->leased_at.exchange(0, std::memory_order_relaxed);
}

void PoolCore::CloseSlot(Slot* slot, CloseReason reason) {
  Closing doomed;
  {
    absl::MutexLock lock(&mu_);
    doomed = EmptySlotLocked(slot, reason);
  }
  doomed.Finish();
  EmitPendingCloses();
}

void PoolCore::Closing::Finish() {
  if (slot_ == nullptr) return;
  slot_->conn.reset();  // closes the socket (I/O), outside mu_
  core_->FreeClosedSlot(std::exchange(slot_, nullptr));
}

void PoolCore::FreeClosedSlot(Slot* slot) {
  absl::MutexLock lock(&mu_);
  slot->state.store(SlotState::kEmpty, std::memory_order_release);
  --total_;
  open_.store(total_, std::memory_order_relaxed);
  WakeOpenersLocked();
}

PoolCore::Closing PoolCore::EmptySlotLocked(Slot* slot, CloseReason reason) {
  // The slot stays taken (and counted) until Closing has closed it.
  slot->state.store(SlotState::kClosing, std::memory_order_release);
  switch (reason) {
    case CloseReason::kIdle:
      ++closed_idle_;
      break;
    case CloseReason::kLifetime:
      ++closed_lifetime_;
      break;
    case CloseReason::kBroken:
    case CloseReason::kValidationFailed:
      ++closed_broken_;
      break;
    case CloseReason::kDiscarded:
      ++closed_discarded_;
      break;
    case CloseReason::kEvicted:
      ++closed_evicted_;
      break;
    case CloseReason::kShutdown:
      break;
    case CloseReason::kReturnedBusy:
      ++closed_busy_;
      break;
  }
  if (listener_ != nullptr && reason != CloseReason::kShutdown) {
    static constexpr CloseCause kCause[] = {CloseCause::kIdleTimeout,
                                            CloseCause::kMaxLifetime,
                                            CloseCause::kBroken,
                                            CloseCause::kValidationFailed,
                                            CloseCause::kDiscarded,
                                            CloseCause::kEvicted,
                                            CloseCause::kBroken /* kShutdown: not sent */,
                                            CloseCause::kReturnedBusy};
    ++pending_closes_[static_cast<int>(kCause[static_cast<int>(reason)])];
  }
  return Closing(this, slot);
}

void PoolCore::EmitPendingCloses() {
  if (listener_ == nullptr) return;
  std::array<int, kCloseCauses> counts;
  {
    absl::MutexLock lock(&mu_);
    counts = pending_closes_;
    pending_closes_.fill(0);
  }
  for (int cause = 0; cause < kCloseCauses; ++cause) {
    for (int k = 0; k < counts[cause]; ++k) {
      listener_->on_close(CloseEvent{endpoint_name_, static_cast<CloseCause>(cause)});
    }
  }
}

std::vector<PoolCore::Closing> PoolCore::TakeAllIdleLocked(CloseReason reason) {
  std::vector<Closing> taken;
  // Before any claim: a std::bad_alloc from push_back would destroy a
  // Closing here, under mu_, which its destructor takes.
  taken.reserve(static_cast<size_t>(capacity_));
  for (int i = 0; i < capacity_; ++i) {
    if (Claim(slots_[i], SlotState::kClosing)) {
      taken.push_back(EmptySlotLocked(&slots_[i], reason));
    }
  }
  return taken;
}

bool PoolCore::IdleBelowMinimum() const {
  int idle = 0, open = 0;
  const int limit = scan_limit_.load(std::memory_order_acquire);
  for (int i = 0; i < limit; ++i) {
    const SlotState state = slots_[i].state.load(std::memory_order_relaxed);
    idle += state == SlotState::kIdle ? 1 : 0;
    open += state != SlotState::kEmpty ? 1 : 0;
  }
  // At max_size there is no room to open more, whatever min_idle says.
  return idle < options_.min_idle && open < capacity_;
}

PoolCore::SlotCounts PoolCore::CountLocked() const {
  SlotCounts counts;
  const int limit = scan_limit_.load(std::memory_order_acquire);
  for (int i = 0; i < limit; ++i) {
    ++counts.by_state[static_cast<int>(slots_[i].state.load(std::memory_order_relaxed))];
  }
  return counts;
}

int PoolCore::ConnectDemandLocked() const {
  if (closed_.load(std::memory_order_relaxed)) return 0;
  const int room = options_.max_size - total_;
  if (room <= 0) return 0;
  const SlotCounts counts = CountLocked();
  const int connecting = counts[SlotState::kConnecting];
  const int for_waiters = static_cast<int>(waiters_.size()) - connecting;
  int for_min_idle = 0;
  if (options_.min_idle > 0) {
    // Connections being checked or restored count as idle: they come back.
    for_min_idle = options_.min_idle - counts[SlotState::kIdle] - counts.maintained() - connecting;
  }
  return std::min(room, std::max(for_waiters, for_min_idle));
}

void PoolCore::WakeOpenersLocked() {
  if (ConnectDemandLocked() > 0) opener_cv_.SignalAll();
}

void PoolCore::FailWaitersLocked(const absl::Status& error) {
  while (Waiter* w = waiters_.pop_front()) HandOverLocked(w, nullptr, error);
  waiting_.store(0, std::memory_order_seq_cst);
}

absl::Status PoolCore::FailFastLocked(int64_t now) const {
  if (now >= backoff_until_ || last_connect_status_.ok()) return absl::OkStatus();
  // A connection that is leased (or being reset) may come back within the
  // caller's deadline: only fail fast when there is none.
  if (CountLocked().serving() > 0) return absl::OkStatus();
  if (IsConfigurationError(last_connect_status_)) return last_connect_status_;
  if (options_.failover.when_no_primary() == FailoverPolicy::NoPrimary::kFailFast && total_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "dbpool: pool '", options_.name,
        "': no endpoint reachable; last connect error: ", last_connect_status_.message()));
  }
  return absl::OkStatus();
}

absl::Status PoolCore::WaitFailedLocked(absl::Duration waited) const {
  // Waited for a lease to come back while connects failed with an error
  // that waiting does not heal: that error is the answer.
  if (total_ < options_.max_size && IsConfigurationError(last_connect_status_)) {
    return last_connect_status_;
  }
  const std::string state = ToString(StatsLocked());
  if (!last_connect_status_.ok() && total_ < options_.max_size) {
    return absl::UnavailableError(absl::StrCat("dbpool: pool '", options_.name,
                                               "': no endpoint reachable within ",
                                               absl::FormatDuration(waited), " (", state, ")"));
  }
  return absl::DeadlineExceededError(absl::StrCat("dbpool: pool '", options_.name,
                                                  "': no connection free within ",
                                                  absl::FormatDuration(waited), " (", state, ")"));
}

PoolStats PoolCore::Stats() const {
  absl::MutexLock lock(&mu_);
  return StatsLocked();
}

PoolStats PoolCore::StatsLocked() const {
  PoolStats s;
  // One pass over the slots: each is counted once, in the state it had when
  // read, so total == idle + in_use + connecting + maintenance holds.
  const SlotCounts counts = CountLocked();
  s.idle = counts[SlotState::kIdle];
  s.in_use = counts[SlotState::kInUse];
  s.connecting = counts[SlotState::kConnecting];
  s.maintenance = counts.maintained() + counts[SlotState::kClosing];
  s.total = s.idle + s.in_use + s.connecting + s.maintenance;
  s.waiting = static_cast<int>(waiters_.size());
  s.max_size = options_.max_size;
  s.acquired = acquired_.load(std::memory_order_relaxed);
  s.created = created_;
  s.connect_failures = connect_failures_;
  s.timeouts = timeouts_;
  s.validation_failures = validation_failures_;
  s.rollbacks = rollbacks_.load(std::memory_order_relaxed);
  s.resets = resets_.load(std::memory_order_relaxed);
  s.closed_idle = closed_idle_;
  s.closed_lifetime = closed_lifetime_;
  s.closed_broken = closed_broken_;
  s.closed_discarded = closed_discarded_;
  s.keepalives = keepalives_;
  s.housekeeping_passes = housekeeping_passes_;
  s.closed_evicted = closed_evicted_;
  s.leaks = leaks_;
  s.closed_busy = closed_busy_;
  wait_histogram_.CopyTo(&s.acquire_wait);
  hold_histogram_.CopyTo(&s.hold_time);
  s.last_connect_error = std::string(last_connect_status_.message());
  EndpointStats e;
  e.endpoint = endpoint_name_;
  e.role = "unknown";
  e.total = s.total;
  e.idle = s.idle;
  e.in_use = s.in_use;
  e.waiting = s.waiting;
  s.endpoints.push_back(std::move(e));
  return s;
}

void PoolCore::AtomicHistogram::Record(absl::Duration d) {
  const double seconds = absl::ToDoubleSeconds(d);
  int i = 0;
  while (i < kHistogramBuckets - 1 && seconds > kHistogramBounds[i]) ++i;
  buckets[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, absl::ToInt64Nanoseconds(d))),
                   std::memory_order_relaxed);
}

void PoolCore::AtomicHistogram::CopyTo(Histogram* out) const {
  out->count = 0;
  for (int i = 0; i < kHistogramBuckets; ++i) {
    out->buckets[i] = buckets[i].load(std::memory_order_relaxed);
    out->count += out->buckets[i];
  }
  out->sum_seconds = static_cast<double>(sum_ns.load(std::memory_order_relaxed)) / 1e9;
}

void PoolCore::EvictIdle() {
  std::vector<Closing> doomed;
  {
    absl::MutexLock lock(&mu_);
    doomed = TakeAllIdleLocked(CloseReason::kEvicted);
  }
  doomed.clear();  // closing sockets is I/O: not under the lock
  EmitPendingCloses();
}

void PoolCore::SoftEvict() {
  // First the generation, then the sweep: a connection claimed from idle
  // between the two is closed when it returns.
  evict_generation_.fetch_add(1, std::memory_order_seq_cst);
  EvictIdle();
}

void PoolCore::InterruptLeased() {
  absl::MutexLock lock(&mu_);
  // Slots leave kInUse for kEmpty only under mu_, so the connections stay.
  const int limit = scan_limit_.load(std::memory_order_acquire);
  for (int i = 0; i < limit; ++i) {
    if (slots_[i].state.load(std::memory_order_acquire) == SlotState::kInUse) {
      slots_[i].interrupted.store(true, std::memory_order_release);
      slots_[i].conn->interrupt();
    }
  }
}

void PoolCore::FailWaiters(const absl::Status& error, uint64_t epoch) {
  absl::MutexLock lock(&mu_);
  failed_at_ = std::max(failed_at_, epoch);
  FailWaitersLocked(error);
}

void PoolCore::Close() {
  std::vector<std::thread> threads;
  std::vector<Closing> doomed;
  {
    absl::MutexLock lock(&mu_);
    if (!closed_.load(std::memory_order_relaxed)) {
      Announce(closed_, true);           // then TakeAllIdleLocked() scans
      FailWaitersLocked(ClosedError());  // async ones complete on the async thread
      // Round trips of the pool's own under way end now, not at their
      // deadlines; none starts after this (BeginIoLocked()).
      for (DriverConnection* conn : in_io_) conn->interrupt();
      connect_abort_.Fire();  // and so do connects
      doomed = TakeAllIdleLocked(CloseReason::kShutdown);
      opener_cv_.SignalAll();
      housekeeper_cv_.SignalAll();
      resetter_cv_.SignalAll();
      async_cv_.SignalAll();
    }
    threads.swap(threads_);
    ++closers_;
  }
  doomed.clear();  // closes the idle connections, outside the lock
  std::vector<std::thread> self = JoinAllButSelf(std::move(threads));
  absl::MutexLock lock(&mu_);
  for (std::thread& t : self) threads_.push_back(std::move(t));
  --closers_;
  // A second close() returns only once the first has finished. Not on a
  // pool thread (a listener calling close()): a closer may be joining it.
  if (PoolThreadOwner() != this) {
    auto all_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closers_ == 0; };
    mu_.Await(absl::Condition(&all_done));
  }
}

}  // namespace internal
}  // namespace dbpool
