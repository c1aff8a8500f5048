// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "failover/cluster.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "core/backoff.h"
#include "core/clock.h"
#include "core/pool_thread.h"
#include "core/wait_until.h"

namespace dbpool {
namespace internal {

Cluster::Cluster(const PoolOptions& options, DriverSetup setup)
    : options_(options),
      driver_(setup.driver),
      table_(setup.endpoints.size(), options.failover),
      probe_now_(setup.endpoints.size(), false) {
  for (const Endpoint& endpoint : setup.endpoints) {
    cores_.push_back(std::make_unique<PoolCore>(options, driver_, endpoint));
  }
}

Cluster::~Cluster() { Close(); }

void Cluster::Start() {
  for (auto& core : cores_) core->Start();
  if (!monitored()) return;
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < cores_.size(); ++i) {
    probers_.push_back(StartPoolThread(this, [this, i] { ProberLoop(i); }));
  }
}

absl::StatusOr<Cluster::Acquired> Cluster::Acquire(const AcquireOptions& request) {
  if (!monitored()) {
    absl::StatusOr<Slot*> slot = cores_[0]->Acquire(request);
    if (!slot.ok()) return slot.status();
    return Acquired{cores_[0].get(), *slot};
  }
  if (std::optional<size_t> index = routes_.Read(request.role)) {
    int64_t started = 0;  // FineNanos(), when the attempt read the clock
    if (Slot* slot = cores_[*index]->TryAcquire(request, &started)) {
      return Acquired{cores_[*index].get(), slot};
    }
    if (started != 0) {
      // It pinged (validation) and found nothing usable: the time it took
      // counts against the acquire's timeout.
      return AcquireSlow(request, started);
    }
  }
  return AcquireSlow(request, FineNanos());
}

absl::StatusOr<Cluster::Acquired> Cluster::AcquireSlow(const AcquireOptions& request,
                                                       const int64_t start) {
  // Monotonic (FineNanos()), as the core's waits: a step of the wall clock
  // moves neither the deadline nor the pauses between re-routes.
  const int64_t deadline = AddNanos(start, request.timeout.value_or(options_.acquire_timeout));
  auto waited = [start] { return absl::Nanoseconds(FineNanos() - start); };
  const bool fail_fast =
      options_.failover.when_no_primary() == FailoverPolicy::NoPrimary::kFailFast;
  int failures = 0;
  for (;;) {
    size_t index = 0;
    uint64_t routed_at = 0;
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        if (closed_) return ClosedError();
        routed_at = route_epoch_.load(std::memory_order_seq_cst);  // before the route
        if (std::optional<size_t> pick = table_.Pick(request.role)) {
          index = *pick;
          break;
        }
        if (fail_fast && table_.all_probed()) {
          return NoRouteLocked(request.role, waited());
        }
        // Waiting makes the probers look more often (see ProberLoop).
        if (route_waiters_++ == 0) probe_cv_.SignalAll();
        const bool timed_out = WaitUntil(route_cv_, &mu_, deadline);
        --route_waiters_;
        if (timed_out) {
          // routed_at, read before the wait, is still read before this route.
          if (std::optional<size_t> pick = table_.Pick(request.role); pick && !closed_) {
            index = *pick;
            break;
          }
          return NoRouteLocked(request.role, waited());
        }
      }
    }
    AcquireOptions attempt = request;
    attempt.timeout = TimeLeft(deadline);
    absl::StatusOr<Slot*> slot = cores_[index]->Acquire(attempt, routed_at);
    if (slot.ok()) return Acquired{cores_[index].get(), *slot};
    if (slot.status().code() != absl::StatusCode::kUnavailable || FineNanos() >= deadline) {
      return slot.status();
    }
    // The endpoint could not serve: have it probed now, and route again once
    // the table changes or after a backoff pause.
    absl::MutexLock lock(&mu_);
    RequestProbeLocked(index);
    WaitUntil(
        route_cv_, &mu_,
        std::min(deadline, AddNanos(FineNanos(), BackoffDelay(options_.failover, ++failures))));
  }
}

absl::Status Cluster::NoRouteLocked(Role role, absl::Duration waited) const {
  if (role == Role::kPrimary && !table_.split_brain().empty()) return SplitBrainLocked();
  std::vector<EndpointStats> endpoints(cores_.size());
  table_.Describe(&endpoints);
  std::string state;
  for (size_t i = 0; i < cores_.size(); ++i) {
    absl::StrAppend(&state, i == 0 ? "" : ", ", cores_[i]->endpoint().ToString(), " ",
                    endpoints[i].up ? "up " : "down ", endpoints[i].role);
  }
  return absl::UnavailableError(absl::StrCat("dbpool: pool '", options_.name, "': no ",
                                             RoleName(role), " endpoint within ",
                                             absl::FormatDuration(waited), " (", state, ")"));
}

absl::Status Cluster::SplitBrainLocked() const {
  std::vector<std::string> names;
  for (size_t i : table_.split_brain()) names.push_back(cores_[i]->endpoint().ToString());
  return absl::UnavailableError(absl::StrCat(
      "dbpool: pool '", options_.name, "': split brain: ", absl::StrJoin(names, " and "),
      " are all writable on the same or an unknown timeline; writes fail closed until only one "
      "is writable (see docs/failover.md)"));
}

void Cluster::ReportFailure(const PoolCore* core) {
  if (!monitored()) return;
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < cores_.size(); ++i) {
    if (cores_[i].get() == core) RequestProbeLocked(i);
  }
}

void Cluster::RequestProbeLocked(size_t i) {
  probe_now_[i] = true;
  probe_cv_.SignalAll();
}

void Cluster::ProberLoop(size_t i) {
  PoolCore& core = *cores_[i];
  const Endpoint& endpoint = core.endpoint();
  const FailoverPolicy& policy = options_.failover;
  std::unique_ptr<DriverConnection> conn;
  absl::MutexLock lock(&mu_);
  while (!closed_) {
    mu_.Unlock();
    // The table's times and the schedule are monotonic; the driver takes a
    // wall-clock deadline.
    const absl::Time started = MonoTime(FineNanos());
    const absl::Time probe_deadline = absl::Now() + policy.probe_timeout();
    absl::StatusOr<ProbeResult> role = absl::UnavailableError("not connected");
    if (conn == nullptr) {
      absl::StatusOr<std::unique_ptr<DriverConnection>> opened =
          driver_->connect_abortable(endpoint, probe_deadline, connect_abort_);
      if (opened.ok()) {
        conn = *std::move(opened);
      } else {
        role = opened.status();
      }
    }
    if (conn != nullptr) {
      role = ProbeUnlessClosed(conn.get(), probe_deadline);
      if (!role.ok()) conn.reset();
    }
    const absl::Time now = MonoTime(FineNanos());
    mu_.Lock();
    if (closed_) break;  // a probe that close() interrupted says nothing of the server
    const std::optional<size_t> old_primary = table_.primary();
    const ProbeTransition t = table_.OnProbe(i, role, started, now);
    routes_.Publish(table_, closed_);
    if (t.went_down || t.came_up || t.primary_changed) route_cv_.SignalAll();
    if ((t.primary_changed || t.split_brain) && options_.listener != nullptr) {
      FailoverEvent event;
      if (old_primary.has_value()) event.from = cores_[*old_primary]->endpoint().ToString();
      if (table_.primary().has_value()) event.to = cores_[*table_.primary()]->endpoint().ToString();
      if (t.went_down && old_primary == i) event.detection = table_.last_detection_time();
      event.split_brain = t.split_brain;
      if (t.split_brain) {
        for (size_t j : table_.split_brain()) {
          event.writable.push_back(cores_[j]->endpoint().ToString());
        }
      }
      mu_.Unlock();
      options_.listener->on_failover(event);
      mu_.Lock();
    }
    if (t.primary_changed) {
      // A promotion elsewhere is likely: look at every endpoint now.
      for (size_t j = 0; j < cores_.size(); ++j) probe_now_[j] = j != i;
      probe_cv_.SignalAll();
    }
    if (t.went_down || (t.primary_changed && old_primary.has_value())) {
      PoolCore* affected = t.went_down ? &core : cores_[*old_primary].get();
      const std::string why = absl::StrCat("dbpool: endpoint ", affected->endpoint().ToString(),
                                           t.went_down ? " is down" : " is no longer primary");
      mu_.Unlock();
      if (t.went_down) {
        core.EvictIdle();
        core.InterruptLeased();
      }
      // After Publish(): an acquire that read the old routes read an
      // earlier epoch, so it cannot queue on `affected` once this is done.
      const uint64_t epoch = route_epoch_.fetch_add(1, std::memory_order_seq_cst) + 1;
      affected->FailWaiters(absl::UnavailableError(why), epoch);  // re-routed by Acquire
      mu_.Lock();
    }
    // A failed probe is repeated at once until the endpoint is declared down;
    // while acquires wait for an endpoint that is missing (no primary after
    // a failover), probes run ten times as often to see a promotion early.
    const int64_t last = FineNanos();
    auto next_probe = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      if (table_.suspect(i) && table_.up(i)) return last;
      const absl::Duration fast = std::max(absl::Milliseconds(10), policy.probe_interval() / 10);
      return AddNanos(last, route_waiters_ > 0 ? std::min(fast, policy.probe_interval())
                                               : policy.probe_interval());
    };
    while (!closed_ && !probe_now_[i] && FineNanos() < next_probe()) {
      WaitUntil(probe_cv_, &mu_, next_probe());
    }
    probe_now_[i] = false;
  }
}

absl::StatusOr<ProbeResult> Cluster::ProbeUnlessClosed(DriverConnection* conn,
                                                       absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return ClosedError();
    probing_.push_back(conn);
  }
  absl::StatusOr<ProbeResult> result = conn->probe(deadline);
  absl::MutexLock lock(&mu_);  // after this, Close() no longer touches `conn`
  probing_.erase(std::find(probing_.begin(), probing_.end(), conn));
  return result;
}

void Cluster::CountCommitResolution(TxnStatus status) {
  switch (status) {
    case TxnStatus::kCommitted:
      commits_resolved_committed_.fetch_add(1, std::memory_order_relaxed);
      break;
    case TxnStatus::kAborted:
      commits_resolved_aborted_.fetch_add(1, std::memory_order_relaxed);
      break;
    case TxnStatus::kInProgress:
    case TxnStatus::kUnknown:
      commits_unresolved_.fetch_add(1, std::memory_order_relaxed);
      break;
  }
}

void Cluster::RecheckRole(PoolCore* core, Slot* slot) {
  if (slot->conn->session_state() != SessionState::kIdle) return;  // lost, or mid-transaction
  const absl::Time deadline = absl::Now() + options_.failover.probe_timeout();
  const absl::StatusOr<ProbeResult> held = ProbeUnlessClosed(slot->conn.get(), deadline);
  if (!held.ok() || held->writable()) return;  // not a read-only rejection
  bool idle = false;
  if (!rechecking_.compare_exchange_strong(idle, true)) return;
  bool moved = false;
  absl::StatusOr<std::unique_ptr<DriverConnection>> fresh =
      driver_->connect_abortable(core->endpoint(), deadline, connect_abort_);
  if (fresh.ok()) {
    const absl::StatusOr<ProbeResult> now = ProbeUnlessClosed(fresh->get(), deadline);
    moved = now.ok() && now->writable();
  }
  rechecking_.store(false);
  if (moved) core->SoftEvict();
}

void Cluster::Evict() {
  for (auto& core : cores_) core->SoftEvict();
}

absl::Status Cluster::Evict(const Endpoint& endpoint) {
  bool found = false;
  for (auto& core : cores_) {
    if (core->endpoint().host == endpoint.host && core->endpoint().port == endpoint.port) {
      core->SoftEvict();
      found = true;
    }
  }
  if (found) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("dbpool: pool '", options_.name, "': evict(",
                                          endpoint.ToString(), "): not one of its endpoints"));
}

PoolStats Cluster::Stats() const {
  PoolStats sum;
  for (const auto& core : cores_) {
    PoolStats s = core->Stats();
    sum.total += s.total;
    sum.idle += s.idle;
    sum.in_use += s.in_use;
    sum.connecting += s.connecting;
    sum.maintenance += s.maintenance;
    sum.waiting += s.waiting;
    sum.max_size += s.max_size;
    sum.acquired += s.acquired;
    sum.created += s.created;
    sum.connect_failures += s.connect_failures;
    sum.timeouts += s.timeouts;
    sum.validation_failures += s.validation_failures;
    sum.rollbacks += s.rollbacks;
    sum.resets += s.resets;
    sum.closed_idle += s.closed_idle;
    sum.closed_lifetime += s.closed_lifetime;
    sum.closed_broken += s.closed_broken;
    sum.closed_discarded += s.closed_discarded;
    sum.closed_busy += s.closed_busy;
    sum.keepalives += s.keepalives;
    sum.housekeeping_passes += s.housekeeping_passes;
    sum.closed_evicted += s.closed_evicted;
    sum.leaks += s.leaks;
    for (auto [to, from] :
         {std::pair<Histogram*, const Histogram*>{&sum.acquire_wait, &s.acquire_wait},
          std::pair<Histogram*, const Histogram*>{&sum.hold_time, &s.hold_time}}) {
      for (int b = 0; b < kHistogramBuckets; ++b) to->buckets[b] += from->buckets[b];
      to->count += from->count;
      to->sum_seconds += from->sum_seconds;
    }
    if (sum.last_connect_error.empty()) sum.last_connect_error = s.last_connect_error;
    for (EndpointStats& e : s.endpoints) sum.endpoints.push_back(std::move(e));
  }
  sum.commits_resolved_committed = commits_resolved_committed_.load(std::memory_order_relaxed);
  sum.commits_resolved_aborted = commits_resolved_aborted_.load(std::memory_order_relaxed);
  sum.commits_unresolved = commits_unresolved_.load(std::memory_order_relaxed);
  if (monitored()) {
    absl::MutexLock lock(&mu_);
    table_.Describe(&sum.endpoints);
    sum.failovers = table_.failovers();
    sum.last_detection_time = table_.last_detection_time();
    sum.time_without_primary = table_.time_without_primary(MonoTime(FineNanos()));
    sum.split_brains = table_.split_brains();
    sum.split_brain = !table_.split_brain().empty();
    sum.replica_fallbacks = table_.replica_fallbacks();
  }
  return sum;
}

void Cluster::Close() {
  std::vector<std::thread> probers;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    connect_abort_.Fire();
    for (DriverConnection* conn : probing_) {
      if (conn != nullptr) conn->interrupt();
    }
    routes_.Publish(table_, closed_);
    route_cv_.SignalAll();
    probe_cv_.SignalAll();
    probers.swap(probers_);
  }
  // Called by on_failover on a prober, that prober is left for a later
  // Close() (the destructor's) to join.
  std::vector<std::thread> self = JoinAllButSelf(std::move(probers));
  if (!self.empty()) {
    absl::MutexLock lock(&mu_);
    for (std::thread& t : self) probers_.push_back(std::move(t));
  }
  for (auto& core : cores_) core->Close();
}

bool Cluster::OnOwnThread() const {
  const void* owner = PoolThreadOwner();
  if (owner == this) return true;
  for (const auto& core : cores_) {
    if (owner == core.get()) return true;
  }
  return false;
}

}  // namespace internal
}  // namespace dbpool
