// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Cluster's acquire_async(): routing without blocking. An async acquire
// waits in the core of the endpoint that serves its role (PoolCore's async
// waiters); when no endpoint serves it, or its endpoint failed it with
// kUnavailable, it is parked here and the route thread routes it again
// once an endpoint serves the role (after a backoff pause for a failed
// one), or fails it at its deadline.
#include <exception>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/backoff.h"
#include "core/clock.h"
#include "core/pool_errors.h"
#include "core/pool_thread.h"
#include "core/wait_until.h"
#include "failover/cluster.h"

namespace dbpool {
namespace internal {

// One acquire_async() across the cluster. Its core waiter changes when it
// is routed again; `mu` orders a cancel() against that.
class AsyncAcquire {
 public:
  using Acquired = Cluster::Acquired;
  using AsyncAcquired = Cluster::AsyncAcquired;
  AsyncAcquire(const AcquireOptions& request, int64_t entered, absl::Duration timeout,
               AsyncAcquired done)
      : request(request),
        entered(entered),
        deadline(AddNanos(entered, timeout)),
        done_(std::move(done)) {}

  // Runs `done` with `result`; the first call only.
  void Finish(absl::StatusOr<Acquired> result) {
    AsyncAcquired done;
    {
      absl::MutexLock lock(&mu);
      if (finished) return;
      finished = true;
      done = std::move(done_);
    }
    done(std::move(result));
  }

  const AcquireOptions request;
  const int64_t entered;   // FineNanos()
  const int64_t deadline;  // FineNanos()
  int failures = 0;        // kUnavailable answers so far (the route thread's, or one core's)

  absl::Mutex mu;
  PoolCore* core ABSL_GUARDED_BY(mu) = nullptr;  // where it waits now, if anywhere
  std::weak_ptr<AsyncWaiter> waiter ABSL_GUARDED_BY(mu);
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  bool finished ABSL_GUARDED_BY(mu) = false;

 private:
  AsyncAcquired done_;
};

std::shared_ptr<AsyncAcquire> Cluster::AcquireAsync(const AcquireOptions& request,
                                                    AsyncAcquired done) {
  auto op = std::make_shared<AsyncAcquire>(
      request, FineNanos(), request.timeout.value_or(options_.acquire_timeout), std::move(done));
  RouteAsync(op);
  return op;
}

void Cluster::RouteAsync(const std::shared_ptr<AsyncAcquire>& op) {
  size_t index = 0;
  uint64_t routed_at = PoolCore::kNotRouted;
  if (monitored()) {
    routed_at = route_epoch_.load(std::memory_order_seq_cst);  // before the route
    std::optional<size_t> pick = routes_.Read(op->request.role);
    if (!pick.has_value()) {
      absl::Status fail;
      {
        absl::MutexLock lock(&mu_);
        if (closed_) {
          fail = ClosedError();
        } else if ((pick = table_.Pick(op->request.role)); !pick.has_value()) {
          if (options_.failover.when_no_primary() == FailoverPolicy::NoPrimary::kFailFast &&
              table_.all_probed()) {
            fail = NoRouteLocked(op->request.role, absl::Nanoseconds(FineNanos() - op->entered));
          } else {
            ParkLocked(op, 0);
            return;
          }
        }
      }
      if (!fail.ok()) {
        op->Finish(std::move(fail));
        return;
      }
    }
    index = *pick;
  }
  PoolCore* core = cores_[index].get();
  bool cancelled = false;
  {
    absl::MutexLock lock(&op->mu);
    cancelled = op->cancelled;
    op->core = core;
    op->waiter.reset();
  }
  if (cancelled) {
    op->Finish(CancelledError());
    return;
  }
  AcquireOptions attempt = op->request;
  attempt.timeout = TimeLeft(op->deadline);
  std::shared_ptr<AsyncWaiter> waiter = core->AcquireAsync(
      attempt,
      [this, op, index](absl::StatusOr<Slot*> got) { OnAsyncCoreDone(op, index, std::move(got)); },
      routed_at);
  if (waiter == nullptr) return;  // done already
  bool cancel_now = false;
  {
    absl::MutexLock lock(&op->mu);
    op->waiter = waiter;
    cancel_now = op->cancelled;  // cancel() came before the waiter was known
  }
  if (cancel_now) core->CancelAsync(waiter.get());
}

void Cluster::OnAsyncCoreDone(const std::shared_ptr<AsyncAcquire>& op, size_t index,
                              absl::StatusOr<Slot*> got) {
  if (got.ok()) {
    op->Finish(Acquired{cores_[index].get(), *got});
    return;
  }
  bool cancelled = false;
  {
    absl::MutexLock lock(&op->mu);
    op->core = nullptr;
    cancelled = op->cancelled;
  }
  if (!monitored() || cancelled || got.status().code() != absl::StatusCode::kUnavailable ||
      FineNanos() >= op->deadline) {
    op->Finish(got.status());
    return;
  }
  // The endpoint could not serve: have it probed now, and route again after
  // a backoff pause, as Acquire() does.
  absl::MutexLock lock(&mu_);
  RequestProbeLocked(index);
  ParkLocked(op, AddNanos(FineNanos(), BackoffDelay(options_.failover, ++op->failures)));
}

void Cluster::ParkLocked(std::shared_ptr<AsyncAcquire> op, int64_t not_before) {
  if (closed_) {  // the route thread is gone, or going
    mu_.Unlock();
    op->Finish(ClosedError());
    mu_.Lock();
    return;
  }
  if (!route_thread_started_) {
    try {
      probers_.reserve(probers_.size() + 1);
      probers_.push_back(StartPoolThread(this, [this] { RouteLoop(); }));
      route_thread_started_ = true;
    } catch (const std::exception& e) {
      const std::string why = e.what();
      mu_.Unlock();
      op->Finish(absl::ResourceExhaustedError(absl::StrCat(
          "dbpool: pool '", options_.name, "': cannot start the route thread: ", why)));
      mu_.Lock();
      return;
    }
  }
  // Waiting makes the probers look more often (see ProberLoop).
  if (route_waiters_++ == 0) probe_cv_.SignalAll();
  parked_.push_back(Parked{std::move(op), not_before});
  route_cv_.SignalAll();
}

absl::Status Cluster::ClosedError() const { return PoolClosedError(options_.name); }

absl::Status Cluster::CancelledError() const { return AcquireCancelledError(options_.name); }

bool Cluster::CancelAsync(AsyncAcquire* op) {
  PoolCore* core = nullptr;
  std::shared_ptr<AsyncWaiter> waiter;
  {
    absl::MutexLock lock(&op->mu);
    if (op->finished) return false;
    op->cancelled = true;
    core = op->core;
    waiter = op->waiter.lock();
  }
  if (waiter != nullptr) return core->CancelAsync(waiter.get());
  // Parked, perhaps: take it out and end it here.
  std::shared_ptr<AsyncAcquire> parked;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < parked_.size(); ++i) {
      if (parked_[i].op.get() == op) {
        parked = std::move(parked_[i].op);
        parked_.erase(parked_.begin() + static_cast<std::ptrdiff_t>(i));
        --route_waiters_;
        break;
      }
    }
  }
  if (parked == nullptr) return false;  // between two cores: RouteAsync() sees `cancelled`
  parked->Finish(CancelledError());
  return true;
}

void Cluster::RouteLoop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    std::vector<std::pair<std::shared_ptr<AsyncAcquire>, absl::Status>> due;
    const int64_t now = FineNanos();
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < parked_.size();) {
      Parked& p = parked_[i];
      absl::Status fail;
      bool go = false;
      if (closed_) {
        fail = ClosedError();
      } else if (now >= p.not_before && table_.Pick(p.op->request.role).has_value()) {
        go = true;
      } else if (now >= p.op->deadline) {
        fail = NoRouteLocked(p.op->request.role, absl::Nanoseconds(now - p.op->entered));
      }
      if (go || !fail.ok()) {
        due.emplace_back(std::move(p.op), std::move(fail));
        parked_.erase(parked_.begin() + static_cast<std::ptrdiff_t>(i));
        --route_waiters_;
        continue;
      }
      next = std::min(next, now < p.not_before ? p.not_before : p.op->deadline);
      ++i;
    }
    if (!due.empty()) {
      mu_.Unlock();
      for (auto& [op, fail] : due) {
        if (fail.ok()) {
          RouteAsync(op);
        } else {
          op->Finish(std::move(fail));
        }
      }
      mu_.Lock();
      continue;
    }
    if (closed_) return;
    // Woken by a change of the table (route_cv_), a new parked acquire, or
    // the earliest pause or deadline.
    WaitUntil(route_cv_, &mu_, next);
  }
}

}  // namespace internal
}  // namespace dbpool
