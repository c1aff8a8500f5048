// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PoolCore's acquire_async(): the waits that no thread sleeps on (see
// core/async_waiter.h for the states of one).
#include <exception>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/async_waiter.h"
#include "core/clock.h"
#include "core/handshake.h"
#include "core/pool_core.h"
#include "core/pool_errors.h"
#include "core/pool_thread.h"
#include "core/wait_until.h"

namespace dbpool {
namespace internal {
namespace {

// How many CompleteInline() calls run on this thread (0 or 1: see
// InlineSink).
thread_local int completing_inline = 0;

}  // namespace

PoolCore::InlineSink::InlineSink(PoolCore* core, std::vector<std::shared_ptr<AsyncWaiter>>* sink)
    : core_(core) {
  core_->mu_.AssertHeld();
  if (completing_inline == 0) core_->inline_sink_ = sink;
}

PoolCore::InlineSink::~InlineSink() {
  core_->mu_.AssertHeld();
  core_->inline_sink_ = nullptr;
}

void PoolCore::CompleteInline(std::vector<std::shared_ptr<AsyncWaiter>> served) {
  if (served.empty()) return;
  ++completing_inline;
  for (std::shared_ptr<AsyncWaiter>& w : served) CompleteAsync(std::move(w));
  --completing_inline;
}

std::shared_ptr<AsyncWaiter> PoolCore::AcquireAsync(const AcquireOptions& request, AsyncDone done,
                                                    uint64_t routed_at) {
  auto waiter = std::make_shared<AsyncWaiter>();
  waiter->waiter.async = waiter.get();
  waiter->request = request;
  waiter->entered = FineNanos();
  waiter->deadline = AddNanos(waiter->entered, request.timeout.value_or(options_.acquire_timeout));
  waiter->done = std::move(done);
  Slot* claimed = nullptr;
  if (waiting_.load(std::memory_order_seq_cst) == 0 && !closed_.load(std::memory_order_acquire)) {
    claimed = TryClaimIdle(/*fast=*/true);
    if (claimed != nullptr && CheckForHandout(*claimed, MonoNanos()) == Handout::kReady) {
      RecordHandout(claimed, request, 0);
      waiter->done(claimed);
      return nullptr;
    }
  }
  absl::Status fail;
  {
    absl::MutexLock lock(&mu_);
    if (closed_.load(std::memory_order_relaxed)) {
      fail = ClosedError();
    } else if (claimed == nullptr) {
      fail = RerouteLocked(routed_at);  // about to queue
    }
    if (fail.ok()) fail = StartAsyncLocked();
    if (fail.ok() && claimed != nullptr) {
      // Claimed, but it sat idle too long (or must close): the async thread
      // pings it (a round trip is not for the caller's thread), as the
      // queue's first.
      waiter->self = waiter;
      HandOverLocked(&waiter->waiter, claimed, absl::OkStatus());
      return waiter;
    }
    if (fail.ok()) {
      QueueAsyncLocked(waiter, /*front=*/false);
      if (waiter->state == AsyncState::kQueued) {
        fail = FailFastLocked(MonoNanos());
        if (!fail.ok()) {
          waiters_.remove(&waiter->waiter);
          waiting_.store(static_cast<int>(waiters_.size()), std::memory_order_seq_cst);
          async_deadlines_.erase({waiter->deadline, waiter.get()});
          waiter->state = AsyncState::kFinished;
          waiter->self.reset();
        } else {
          WakeOpenersLocked();
        }
      }
    }
  }
  if (!fail.ok()) {
    if (claimed != nullptr) ReturnIdle(claimed);  // closes it when the pool closed
    waiter->done(std::move(fail));
    return nullptr;
  }
  return waiter;
}

void PoolCore::QueueAsyncLocked(std::shared_ptr<AsyncWaiter> waiter, bool front) {
  AsyncWaiter* w = waiter.get();
  w->waiter.done = false;
  w->waiter.slot = nullptr;
  w->state = AsyncState::kQueued;
  w->self = std::move(waiter);
  if (front) {
    waiters_.push_front(&w->waiter);
  } else {
    waiters_.push_back(&w->waiter);
  }
  async_deadlines_.emplace(w->deadline, w);
  async_cv_.Signal();  // perhaps the earliest deadline now
  Announce(waiting_, static_cast<int>(waiters_.size()));
  // After announcing the wait: a release that stored kIdle before it saw
  // waiting_ > 0 left its connection where this scan finds it.
  ServeWaitersLocked();
}

absl::Status PoolCore::StartAsyncLocked() {
  if (async_started_) return absl::OkStatus();
  try {
    threads_.reserve(threads_.size() + 1);  // the push cannot throw once the thread runs
    threads_.push_back(StartPoolThread(this, [this] { AsyncLoop(); }));
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "dbpool: pool '", options_.name, "': cannot start the async thread: ", e.what()));
  }
  async_started_ = true;
  return absl::OkStatus();
}

bool PoolCore::CancelAsync(AsyncWaiter* waiter) {
  std::shared_ptr<AsyncWaiter> owned;
  {
    absl::MutexLock lock(&mu_);
    if (waiter->state != AsyncState::kQueued) return false;
    waiters_.remove(&waiter->waiter);
    waiting_.store(static_cast<int>(waiters_.size()), std::memory_order_seq_cst);
    async_deadlines_.erase({waiter->deadline, waiter});
    waiter->state = AsyncState::kFinished;
    owned = std::move(waiter->self);
  }
  owned->done(AcquireCancelledError(options_.name));
  return true;
}

void PoolCore::AsyncLoop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    // Deadlines are judged on the clock WaitUntil() reads.
    const int64_t now = FineNanos();
    while (!async_deadlines_.empty() && async_deadlines_.begin()->first <= now) {
      AsyncWaiter* w = async_deadlines_.begin()->second;
      waiters_.remove(&w->waiter);
      waiting_.store(static_cast<int>(waiters_.size()), std::memory_order_seq_cst);
      ++timeouts_;
      HandOverLocked(&w->waiter, nullptr, WaitFailedLocked(absl::Nanoseconds(now - w->entered)));
    }
    if (!async_ready_.empty()) {
      std::vector<std::shared_ptr<AsyncWaiter>> ready;
      ready.swap(async_ready_);
      for (const std::shared_ptr<AsyncWaiter>& w : ready) w->state = AsyncState::kFinished;
      mu_.Unlock();
      for (std::shared_ptr<AsyncWaiter>& w : ready) CompleteAsync(std::move(w));
      mu_.Lock();
      continue;
    }
    // Close() failed every queued waiter into the ready list, and none
    // queues after it: nothing is left to complete.
    if (closed_.load(std::memory_order_relaxed)) return;
    WaitUntil(async_cv_, &mu_,
              async_deadlines_.empty() ? INT64_MAX : async_deadlines_.begin()->first);
  }
}

void PoolCore::CompleteAsync(std::shared_ptr<AsyncWaiter> waiter) {
  Slot* slot = waiter->waiter.slot;
  if (slot == nullptr) {
    waiter->done(waiter->waiter.error);
    return;
  }
  AcquireDeadline deadline(waiter->entered, waiter->deadline);
  if (ValidateForHandout(slot, MonoNanos(), deadline)) {
    RecordHandout(slot, waiter->request, waiter->entered);
    waiter->done(slot);
    return;
  }
  // The connection failed its check and was closed: wait again, keeping
  // the place at the head of the queue.
  absl::Status fail;
  {
    absl::MutexLock lock(&mu_);
    if (closed_.load(std::memory_order_relaxed)) {
      fail = ClosedError();
    } else if (FineNanos() >= waiter->deadline) {
      ++timeouts_;
      fail = WaitFailedLocked(absl::Nanoseconds(FineNanos() - waiter->entered));
    } else {
      QueueAsyncLocked(std::move(waiter), /*front=*/true);
      WakeOpenersLocked();
      return;
    }
  }
  waiter->done(std::move(fail));
}

}  // namespace internal
}  // namespace dbpool
