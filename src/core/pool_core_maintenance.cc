// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PoolCore's maintenance threads: the resetters (rollbacks and session
// resets off the caller's path) and the housekeeper (idle_timeout,
// max_lifetime, min_idle, keepalive pings, leak reports).
#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "core/claim.h"
#include "core/clock.h"
#include "core/handshake.h"
#include "core/housekeeping_plan.h"
#include "core/pool_core.h"
#include "core/pool_thread.h"
#include "core/session_hygiene.h"
#include "core/wait_until.h"
#include "dbpool/events.h"

namespace dbpool {
namespace internal {
namespace {

// The deadline of the housekeeper's next pass, `wait` from now. It is taken
// on the clock WaitUntil() reads, and it is at least kMinHousekeepingGap
// away, so that every pass ends by letting go of the pool's lock: a
// deadline already past (the plan's `now` comes from the coarse clock,
// which lags the fine one by up to a tick, 4 ms or more, longer than the
// 2.5 ms a 10 ms leak_detection_threshold asks for) would otherwise make
// the loop run pass after pass without ever unlocking, starving every
// caller and opener.
constexpr absl::Duration kMinHousekeepingGap = absl::Milliseconds(1);
int64_t NextHousekeepingPass(absl::Duration wait) {
  return AddNanos(FineNanos(), std::max(wait, kMinHousekeepingGap));
}

}  // namespace

void PoolCore::StartResetterLocked() {
  threads_.reserve(threads_.size() + 1);  // the push cannot throw once the thread runs
  threads_.push_back(StartPoolThread(this, [this] { ResetterLoop(); }));
  ++resetters_;
}

void PoolCore::QueueResetLocked(Slot* slot) {
  slot->state.store(SlotState::kRestoring, std::memory_order_relaxed);
  reset_queue_.push_back(slot);
  // One resetter per reset under way, started on demand up to max_size
  // (at most max_size slots can be restoring at once): a return never
  // waits behind another one's round trip, however long a stalled server
  // makes that last; its own round trip (bounded by validation_timeout)
  // is its only delay. Resetters are kept until close(), so the threads
  // number the most resets ever under way at once, and the usual quick
  // resets need one or two.
  if (static_cast<int>(reset_queue_.size()) > idle_resetters_ && resetters_ < capacity_) {
    try {
      StartResetterLocked();
    } catch (const std::exception&) {
      // No thread to be had (std::system_error, std::bad_alloc): the
      // running resetters get to it in turn.
    }
  }
  resetter_cv_.Signal();
}

void PoolCore::ReportLeaksLocked() {
  const int64_t now = FineNanos();  // the clock of leased_at
  const int64_t threshold = absl::ToInt64Nanoseconds(options_.leak_detection_threshold);
  std::vector<LeakEvent> leaks;
  const int limit = scan_limit_.load(std::memory_order_acquire);
  for (int i = 0; i < limit; ++i) {
    Slot& s = slots_[i];
    if (s.state.load(std::memory_order_acquire) != SlotState::kInUse) continue;
    // Acquire: pairs with the hand-out's release store, after file and line.
    const int64_t since = s.leased_at.load(std::memory_order_acquire);
    if (since == 0 || now - since < threshold) continue;
    if (s.leak_reported.exchange(true, std::memory_order_relaxed)) continue;
    ++leaks_;
    const char* file = s.leased_file.load(std::memory_order_relaxed);
    leaks.push_back(LeakEvent{endpoint_name_, MonoTime(now) - MonoTime(since),
                              file == nullptr ? "" : file,
                              s.leased_line.load(std::memory_order_relaxed)});
  }
  if (leaks.empty() || listener_ == nullptr) return;
  mu_.Unlock();
  for (const LeakEvent& e : leaks) listener_->on_leak(e);
  mu_.Lock();
}

void PoolCore::ResetterLoop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    ++idle_resetters_;
    while (reset_queue_.empty() && !closed_.load(std::memory_order_relaxed)) {
      resetter_cv_.Wait(&mu_);
    }
    --idle_resetters_;
    // Closed, and nothing left to finish: every resetter drains the queue
    // before it exits, and close() joins them all (a return that sees the
    // close under mu_ queues nothing).
    if (reset_queue_.empty()) return;
    Slot* slot = reset_queue_.front();
    reset_queue_.erase(reset_queue_.begin());
    HygieneOutcome hygiene;
    if (BeginIoLocked(slot->conn.get())) {
      mu_.Unlock();
      hygiene = RestoreSession(*slot->conn, options_.reset_policy, options_.validation_timeout,
                               options_.init_sql);
      mu_.Lock();
      EndIoLocked(slot->conn.get());
    } else {
      hygiene.status = absl::FailedPreconditionError("pool closed");
    }
    if (hygiene.rolled_back) rollbacks_.fetch_add(1, std::memory_order_relaxed);
    if (hygiene.reset) resets_.fetch_add(1, std::memory_order_relaxed);
    if (hygiene.status.ok() && !closed_.load(std::memory_order_relaxed)) {
      const int64_t now = MonoNanos();
      slot->last_used.store(now, std::memory_order_relaxed);
      slot->last_checked.store(now, std::memory_order_relaxed);
      slot->state.store(SlotState::kIdle, std::memory_order_seq_cst);
      ServeWaitersLocked();
      continue;
    }
    Closing doomed =
        EmptySlotLocked(slot, closed_.load(std::memory_order_relaxed) ? CloseReason::kShutdown
                                                                      : CloseReason::kBroken);
    mu_.Unlock();
    doomed.Finish();
    EmitPendingCloses();
    mu_.Lock();
  }
}

void PoolCore::HousekeeperLoop() {
  absl::MutexLock lock(&mu_);
  while (!closed_.load(std::memory_order_relaxed)) {
    ++housekeeping_passes_;
    // Plan from a snapshot of the idle slots, oldest use first.
    std::vector<IdleInfo> infos;
    std::vector<int> index;
    const int limit = scan_limit_.load(std::memory_order_acquire);
    for (int i = 0; i < limit; ++i) {
      if (slots_[i].state.load(std::memory_order_acquire) == SlotState::kIdle) index.push_back(i);
    }
    std::sort(index.begin(), index.end(), [this](int a, int b) {
      return slots_[a].last_used.load(std::memory_order_relaxed) <
             slots_[b].last_used.load(std::memory_order_relaxed);
    });
    for (int i : index) {
      const Slot& s = slots_[i];
      infos.push_back({MonoTime(s.last_used.load(std::memory_order_relaxed)),
                       MonoTime(s.last_checked.load(std::memory_order_relaxed)),
                       MonoTime(s.expires)});
    }
    const absl::Time now = MonoTime(MonoNanos());
    HousekeepingPlan plan = PlanHousekeeping(infos, options_, now);
    if (options_.leak_detection_threshold > absl::ZeroDuration()) {
      ReportLeaksLocked();
      plan.next_run = std::min(plan.next_run, now + options_.leak_detection_threshold / 4);
    }

    // Claim what the plan names; a slot a caller took meanwhile is skipped.
    // The plan is stale by now (callers acquire and release without the
    // lock; ReportLeaksLocked unlocked around the listener): a claimed slot
    // whose connection was used, checked or replaced since the snapshot is
    // put back untouched.
    bool put_back = false;
    std::vector<Closing> doomed;
    // Before any claim (see TakeAllIdleLocked).
    doomed.reserve(plan.close_expired.size() + plan.close_idle.size());
    auto claim_as_planned = [&](size_t k) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> Slot* {
      Slot* s = &slots_[index[k]];
      if (!Claim(*s, SlotState::kChecking)) return nullptr;
      if (closed_.load(std::memory_order_relaxed)) {  // closed while unlocked
        doomed.push_back(EmptySlotLocked(s, CloseReason::kShutdown));
        return nullptr;
      }
      if (MonoTime(s->last_used.load(std::memory_order_relaxed)) != infos[k].last_used ||
          MonoTime(s->last_checked.load(std::memory_order_relaxed)) != infos[k].last_checked ||
          MonoTime(s->expires) != infos[k].expires) {
        PublishIdle(*s);
        put_back = true;
        return nullptr;
      }
      return s;
    };
    for (size_t k : plan.close_expired) {
      if (Slot* s = claim_as_planned(k)) {
        doomed.push_back(EmptySlotLocked(s, CloseReason::kLifetime));
      }
    }
    for (size_t k : plan.close_idle) {
      if (Slot* s = claim_as_planned(k)) doomed.push_back(EmptySlotLocked(s, CloseReason::kIdle));
    }
    if (put_back) ServeWaitersLocked();  // a waiter may have queued meanwhile
    WakeOpenersLocked();                 // min_idle, after closing
    if (doomed.empty() && plan.keepalive.empty()) {
      WaitUntil(housekeeper_cv_, &mu_, NextHousekeepingPass(plan.next_run - now));
      continue;
    }
    mu_.Unlock();
    doomed.clear();
    EmitPendingCloses();
    mu_.Lock();
    // Keepalive pings one at a time, each connection claimed just before
    // its ping and published as soon as it answers: a stalled ping holds
    // only its own connection, never others already proven alive (or not
    // yet pinged).
    for (size_t k : plan.keepalive) {
      if (closed_.load(std::memory_order_relaxed)) break;
      Slot* s = claim_as_planned(k);
      if (s == nullptr) continue;
      const bool started = BeginIoLocked(s->conn.get());  // not closed: checked above
      mu_.Unlock();
      const bool alive =
          started &&
          s->conn->ping(WallDeadline(AddNanos(FineNanos(), options_.validation_timeout))).ok();
      mu_.Lock();
      if (started) EndIoLocked(s->conn.get());
      ++keepalives_;
      if (alive && !closed_.load(std::memory_order_relaxed)) {
        // last_used is kept: a ping is not a use, so idle_timeout still counts.
        s->last_checked.store(MonoNanos(), std::memory_order_relaxed);
        PublishIdle(*s);
        ServeWaitersLocked();
        continue;
      }
      // Closed meanwhile (its ping interrupted by close(), or never sent):
      // a shutdown, not a failed validation.
      const bool failed = !alive && !closed_.load(std::memory_order_relaxed);
      if (failed) ++validation_failures_;
      Closing dead =
          EmptySlotLocked(s, failed ? CloseReason::kValidationFailed : CloseReason::kShutdown);
      mu_.Unlock();
      dead.Finish();
      EmitPendingCloses();
      mu_.Lock();
    }
    // Re-plan at once: the set changed while unlocked.
  }
}

}  // namespace internal
}  // namespace dbpool
