// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "core/pool_core.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/backoff.h"
#include "core/housekeeping_plan.h"
#include "core/session_hygiene.h"

namespace dbpool {
namespace internal {
namespace {

// Opener threads per pool: connects run in parallel up to this many.
constexpr int kOpenerThreads = 2;

// The share of max_lifetime by which a connection may expire early, so that
// connections opened together do not all close together.
constexpr double kLifetimeJitter = 0.05;

bool IsCredentialError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnauthenticated ||
         status.code() == absl::StatusCode::kPermissionDenied;
}

// An error of configuration, not of the network: retrying soon won't help.
bool IsConfigurationError(const absl::Status& status) {
  return IsCredentialError(status) || status.code() == absl::StatusCode::kNotFound ||
         status.code() == absl::StatusCode::kInvalidArgument;
}

// Which of two connect errors says more about why nothing connects.
int ErrorRank(const absl::Status& status) {
  if (IsCredentialError(status)) return 3;
  if (IsConfigurationError(status)) return 2;
  return status.ok() ? 0 : 1;
}

void Destroy(std::vector<Slot*>& slots) {
  for (Slot* s : slots) delete s;
  slots.clear();
}

}  // namespace

PoolCore::PoolCore(PoolOptions options, DriverSetup setup)
    : options_(std::move(options)),
      driver_(std::move(setup.driver)),
      endpoints_(std::move(setup.endpoints)) {}

PoolCore::~PoolCore() { Close(); }

void PoolCore::Start() {
  absl::MutexLock lock(&mu_);
  const int openers = std::min(kOpenerThreads, options_.max_size);
  for (int i = 0; i < openers; ++i) threads_.emplace_back([this] { OpenerLoop(); });
  threads_.emplace_back([this] { HousekeeperLoop(); });
}

absl::StatusOr<Slot*> PoolCore::Acquire(const AcquireOptions& request) {
  // The deadline is fixed on first need: the fast path reads the clock once.
  absl::Time start = absl::InfinitePast();
  absl::Time deadline = absl::InfinitePast();
  auto fix_deadline = [&](absl::Time now) {
    if (start == absl::InfinitePast()) {
      start = now;
      deadline = now + request.timeout.value_or(options_.acquire_timeout);
    }
  };
  for (;;) {
    Slot* slot = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (closed_) {
        return absl::FailedPreconditionError(
            absl::StrCat("dbpool: pool '", options_.name, "' is closed"));
      }
      if (!idle_.empty()) {
        slot = idle_.back();
        idle_.pop_back();
        slot->leased = true;
        ++in_use_;
        WakeOpenersLocked();  // idle may have dropped below min_idle
      } else {
        const absl::Time now = absl::Now();
        if (absl::Status fail = FailFastLocked(now); !fail.ok()) return fail;
        fix_deadline(now);
        Waiter waiter;
        waiters_.push_back(&waiter);
        WakeOpenersLocked();
        while (!waiter.done) {
          if (waiter.cv.WaitWithDeadline(&mu_, deadline) && !waiter.done) {
            waiters_.remove(&waiter);
            ++timeouts_;
            return WaitFailedLocked(absl::Now() - start);
          }
        }
        if (!waiter.error.ok()) return waiter.error;
        slot = waiter.slot;  // in_use_ was counted by the giver
      }
      ++acquired_;
    }
    const absl::Time now = absl::Now();
    fix_deadline(now);
    if (ValidateForHandout(slot, now, deadline)) return slot;
  }
}

bool PoolCore::ValidateForHandout(Slot* slot, absl::Time now, absl::Time deadline) {
  CloseReason reason;
  if (now >= slot->expires) {
    reason = CloseReason::kLifetime;
  } else if (now - slot->last_checked <= options_.validation_window) {
    return true;
  } else {
    const absl::Time ping_deadline = std::max(std::min(deadline, now + options_.validation_timeout),
                                              now + absl::Milliseconds(1));
    if (slot->conn->ping(ping_deadline).ok()) {
      slot->last_checked = absl::Now();
      return true;
    }
    reason = CloseReason::kBroken;
  }
  {
    absl::MutexLock lock(&mu_);
    --in_use_;
    --acquired_;
    if (reason == CloseReason::kBroken) ++validation_failures_;
    ForgetLocked(slot, reason);
  }
  delete slot;
  return false;
}

void PoolCore::Release(Slot* slot) {
  const absl::Time now = absl::Now();
  const bool expired = now >= slot->expires;
  // Hygiene runs even if the pool closes meanwhile: harmless, and it keeps
  // the common path to one lock.
  HygieneOutcome hygiene;
  if (expired) {
    hygiene.status = absl::DeadlineExceededError("max_lifetime");
  } else {
    hygiene = RestoreSession(*slot->conn, options_.reset_policy, now + options_.validation_timeout,
                             options_.init_sql);
  }
  {
    absl::MutexLock lock(&mu_);
    --in_use_;
    rollbacks_ += hygiene.rolled_back ? 1 : 0;
    resets_ += hygiene.reset ? 1 : 0;
    if (hygiene.status.ok() && !closed_) {
      slot->last_used = now;
      slot->last_checked = now;
      GiveLocked(slot);
      return;
    }
    ForgetLocked(slot, closed_   ? CloseReason::kShutdown
                       : expired ? CloseReason::kLifetime
                                 : CloseReason::kBroken);
  }
  delete slot;
}

void PoolCore::Discard(Slot* slot) {
  {
    absl::MutexLock lock(&mu_);
    --in_use_;
    ForgetLocked(slot, CloseReason::kDiscarded);
  }
  delete slot;
}

void PoolCore::GiveLocked(Slot* slot) {
  if (Waiter* w = waiters_.pop_front()) {
    ++in_use_;
    slot->leased = true;
    w->slot = slot;
    w->done = true;
    w->cv.Signal();
    return;
  }
  slot->leased = false;
  idle_.push_back(slot);
}

void PoolCore::ForgetLocked(Slot* slot, CloseReason reason) {
  --total_;
  all_.erase(slot);
  switch (reason) {
    case CloseReason::kIdle:
      ++closed_idle_;
      break;
    case CloseReason::kLifetime:
      ++closed_lifetime_;
      break;
    case CloseReason::kBroken:
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
  }
  WakeOpenersLocked();
}

int PoolCore::ConnectDemandLocked() const {
  if (closed_) return 0;
  const int room = options_.max_size - total_;
  if (room <= 0) return 0;
  const int for_waiters = static_cast<int>(waiters_.size()) - connecting_;
  // Connections in maintenance (a keepalive ping) count as idle: they come back.
  const int for_min_idle =
      options_.min_idle - static_cast<int>(idle_.size()) - maintenance_ - connecting_;
  return std::min(room, std::max(for_waiters, for_min_idle));
}

void PoolCore::WakeOpenersLocked() {
  if (ConnectDemandLocked() > 0) opener_cv_.SignalAll();
}

void PoolCore::FailWaitersLocked(const absl::Status& error) {
  while (Waiter* w = waiters_.pop_front()) {
    w->error = error;
    w->done = true;
    w->cv.Signal();
  }
}

absl::Status PoolCore::FailFastLocked(absl::Time now) const {
  if (now >= backoff_until_ || last_connect_status_.ok()) return absl::OkStatus();
  if (IsConfigurationError(last_connect_status_)) return last_connect_status_;
  if (options_.failover.when_no_primary() == FailoverPolicy::NoPrimary::kFailFast && total_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "dbpool: pool '", options_.name,
        "': no endpoint reachable; last connect error: ", last_connect_status_.message()));
  }
  return absl::OkStatus();
}

absl::Status PoolCore::WaitFailedLocked(absl::Duration waited) const {
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
  s.total = total_;
  s.idle = static_cast<int>(idle_.size());
  s.in_use = in_use_;
  s.connecting = connecting_;
  s.maintenance = maintenance_;
  s.waiting = static_cast<int>(waiters_.size());
  s.max_size = options_.max_size;
  s.acquired = acquired_;
  s.created = created_;
  s.connect_failures = connect_failures_;
  s.timeouts = timeouts_;
  s.validation_failures = validation_failures_;
  s.rollbacks = rollbacks_;
  s.resets = resets_;
  s.closed_idle = closed_idle_;
  s.closed_lifetime = closed_lifetime_;
  s.closed_broken = closed_broken_;
  s.closed_discarded = closed_discarded_;
  s.keepalives = keepalives_;
  s.closed_evicted = closed_evicted_;
  EndpointStats e;
  e.endpoint = endpoints_.front().ToString();
  e.role = "unknown";
  e.total = s.total;
  e.idle = s.idle;
  e.in_use = s.in_use;
  e.waiting = s.waiting;
  s.endpoints.push_back(std::move(e));
  s.last_connect_error = std::string(last_connect_status_.message());
  return s;
}

void PoolCore::EvictIdle() {
  std::vector<Slot*> idle;
  {
    absl::MutexLock lock(&mu_);
    idle.swap(idle_);
    for (Slot* slot : idle) ForgetLocked(slot, CloseReason::kEvicted);
  }
  Destroy(idle);
}

void PoolCore::InterruptLeased() {
  absl::MutexLock lock(&mu_);
  for (Slot* slot : all_) {
    if (slot->leased) slot->conn->interrupt();
  }
}

void PoolCore::FailWaiters(const absl::Status& error) {
  absl::MutexLock lock(&mu_);
  FailWaitersLocked(error);
}

void PoolCore::Close() {
  std::vector<std::thread> threads;
  std::vector<Slot*> idle;
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      closed_ = true;
      FailWaitersLocked(absl::FailedPreconditionError(
          absl::StrCat("dbpool: pool '", options_.name, "' is closed")));
      total_ -= static_cast<int>(idle_.size());
      for (Slot* slot : idle_) all_.erase(slot);
      idle.swap(idle_);
      opener_cv_.SignalAll();
      housekeeper_cv_.SignalAll();
    }
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  Destroy(idle);
}

absl::StatusOr<Slot*> PoolCore::OpenSlot() {
  absl::Status best_error;
  for (const Endpoint& endpoint : endpoints_) {
    const absl::Time deadline = absl::Now() + options_.connect_timeout;
    absl::StatusOr<std::unique_ptr<DriverConnection>> conn = driver_->connect(endpoint, deadline);
    absl::Status status = conn.status();
    for (size_t i = 0; status.ok() && i < options_.init_sql.size(); ++i) {
      status = (*conn)->execute(options_.init_sql[i], deadline);
      if (!status.ok()) {
        status =
            absl::Status(status.code(), absl::StrCat("dbpool: init_sql #", i + 1, " on ",
                                                     endpoint.ToString(), ": ", status.message()));
      }
    }
    if (status.ok()) {
      auto* slot = new Slot;
      slot->conn = *std::move(conn);
      slot->endpoint = &endpoint;
      slot->created = slot->last_used = slot->last_checked = absl::Now();
      if (options_.max_lifetime > absl::ZeroDuration()) {
        slot->expires =
            slot->created + options_.max_lifetime * (1.0 - kLifetimeJitter * UnitRandom());
      }
      return slot;
    }
    if (ErrorRank(status) >= ErrorRank(best_error)) best_error = status;
  }
  if (best_error.ok()) return absl::UnavailableError("dbpool: no endpoint configured");
  return best_error;
}

void PoolCore::OpenerLoop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    while (!closed_) {
      if (ConnectDemandLocked() > 0) {
        if (absl::Now() >= backoff_until_) break;
        opener_cv_.WaitWithDeadline(&mu_, backoff_until_);
      } else {
        opener_cv_.Wait(&mu_);
      }
    }
    if (closed_) return;
    ++connecting_;
    ++total_;
    mu_.Unlock();
    absl::StatusOr<Slot*> opened = OpenSlot();
    mu_.Lock();
    --connecting_;
    if (!opened.ok()) {
      --total_;
      ++connect_failures_;
      ++consecutive_failures_;
      last_connect_status_ = opened.status();
      backoff_until_ = absl::Now() + BackoffDelay(options_.failover, consecutive_failures_);
      if (absl::Status fail = FailFastLocked(absl::Now()); !fail.ok()) FailWaitersLocked(fail);
      continue;
    }
    ++created_;
    consecutive_failures_ = 0;
    backoff_until_ = absl::InfinitePast();
    last_connect_status_ = absl::OkStatus();
    if (closed_) {
      --total_;
      mu_.Unlock();
      delete *opened;
      mu_.Lock();
      continue;
    }
    all_.insert(*opened);
    GiveLocked(*opened);
  }
}

void PoolCore::HousekeeperLoop() {
  absl::MutexLock lock(&mu_);
  while (!closed_) {
    std::vector<IdleInfo> infos;
    infos.reserve(idle_.size());
    for (const Slot* s : idle_) infos.push_back({s->last_used, s->last_checked, s->expires});
    const absl::Time now = absl::Now();
    const HousekeepingPlan plan = PlanHousekeeping(infos, options_, now);

    std::vector<Slot*> to_close;
    std::vector<Slot*> to_ping;
    std::vector<bool> taken(idle_.size(), false);
    for (size_t i : plan.close_expired) {
      to_close.push_back(idle_[i]);
      taken[i] = true;
      ForgetLocked(idle_[i], CloseReason::kLifetime);
    }
    for (size_t i : plan.close_idle) {
      to_close.push_back(idle_[i]);
      taken[i] = true;
      ForgetLocked(idle_[i], CloseReason::kIdle);
    }
    for (size_t i : plan.keepalive) {
      to_ping.push_back(idle_[i]);
      taken[i] = true;
      ++maintenance_;
    }
    if (!to_close.empty() || !to_ping.empty()) {
      std::vector<Slot*> kept;
      kept.reserve(idle_.size());
      for (size_t i = 0; i < idle_.size(); ++i) {
        if (!taken[i]) kept.push_back(idle_[i]);
      }
      idle_.swap(kept);
      WakeOpenersLocked();  // ForgetLocked() above still counted the closed ones as idle

      mu_.Unlock();
      Destroy(to_close);
      std::vector<bool> alive(to_ping.size());
      for (size_t i = 0; i < to_ping.size(); ++i) {
        alive[i] = to_ping[i]->conn->ping(absl::Now() + options_.validation_timeout).ok();
      }
      mu_.Lock();

      for (size_t i = 0; i < to_ping.size(); ++i) {
        --maintenance_;
        ++keepalives_;
        if (alive[i] && !closed_) {
          to_ping[i]->last_checked = absl::Now();
          if (waiters_.empty()) {
            // A ping is not a use: back among the idle in last_used order,
            // not on top as if just returned (acquire takes the back).
            idle_.insert(std::upper_bound(idle_.begin(), idle_.end(), to_ping[i],
                                          [](const Slot* a, const Slot* b) {
                                            return a->last_used < b->last_used;
                                          }),
                         to_ping[i]);
          } else {
            GiveLocked(to_ping[i]);
          }
        } else {
          if (!alive[i]) ++validation_failures_;
          ForgetLocked(to_ping[i], alive[i] ? CloseReason::kShutdown : CloseReason::kBroken);
          to_close.push_back(to_ping[i]);
        }
      }
      if (!to_close.empty()) {
        mu_.Unlock();
        Destroy(to_close);
        mu_.Lock();
      }
      continue;  // re-plan at once: the set changed while unlocked
    }
    housekeeper_cv_.WaitWithDeadline(&mu_, plan.next_run);
  }
}

}  // namespace internal
}  // namespace dbpool
