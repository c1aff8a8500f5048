// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PoolCore's openers: the threads that open connections into slots they
// hold in kConnecting, one endpoint after another, with backoff after
// failures.
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/backoff.h"
#include "core/clock.h"
#include "core/pool_core.h"
#include "core/wait_until.h"
#include "dbpool/events.h"

namespace dbpool {
namespace internal {
namespace {

// The share of max_lifetime by which a connection may expire early, so that
// connections opened together do not all close together.
constexpr double kLifetimeJitter = 0.05;

}  // namespace

absl::Status PoolCore::OpenInto(Slot* slot) {
  const uint64_t evict_generation = evict_generation_.load(std::memory_order_acquire);
  const absl::Time deadline = absl::Now() + options_.connect_timeout;
  absl::StatusOr<std::unique_ptr<DriverConnection>> conn =
      driver_->connect_abortable(endpoint_, deadline, connect_abort_);
  if (!conn.ok()) return conn.status();
  for (size_t i = 0; i < options_.init_sql.size(); ++i) {
    const absl::Status status = RunIo(conn->get(), ClosedError(), [&] {
      return (*conn)->execute(options_.init_sql[i], deadline);
    });
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("dbpool: init_sql #", i + 1, " on ",
                                                      endpoint_name_, ": ", status.message()));
    }
  }
  slot->conn = *std::move(conn);
  slot->evict_generation = evict_generation;
  slot->interrupted.store(false, std::memory_order_relaxed);  // the last connection's
  slot->created = MonoNanos();
  slot->last_used.store(slot->created, std::memory_order_relaxed);
  slot->last_checked.store(slot->created, std::memory_order_relaxed);
  slot->expires = INT64_MAX;
  if (options_.max_lifetime > absl::ZeroDuration()) {
    slot->expires = ToMonoNanos(MonoTime(slot->created) +
                                options_.max_lifetime * (1.0 - kLifetimeJitter * UnitRandom()));
  }
  return absl::OkStatus();
}

void PoolCore::OpenerLoop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    while (!closed_.load(std::memory_order_relaxed)) {
      if (ConnectDemandLocked() > 0) {
        if (FineNanos() >= backoff_until_) break;  // WaitUntil()'s clock
        WaitUntil(opener_cv_, &mu_, backoff_until_);
      } else {
        opener_cv_.Wait(&mu_);
      }
    }
    if (closed_.load(std::memory_order_relaxed)) return;
    // total_ < max_size, so an empty slot exists; take the lowest.
    Slot* slot = nullptr;
    for (int i = 0; i < capacity_ && slot == nullptr; ++i) {
      if (slots_[i].state.load(std::memory_order_relaxed) == SlotState::kEmpty) {
        slot = &slots_[i];
        slot->state.store(SlotState::kConnecting, std::memory_order_relaxed);
        if (i + 1 > scan_limit_.load(std::memory_order_relaxed)) {
          scan_limit_.store(i + 1, std::memory_order_release);
        }
      }
    }
    ++total_;
    open_.store(total_, std::memory_order_relaxed);
    mu_.Unlock();
    const absl::Time connect_start = absl::Now();
    const absl::Status opened = OpenInto(slot);
    if (listener_ != nullptr) {
      listener_->on_connect(ConnectEvent{endpoint_name_, absl::Now() - connect_start, opened});
    }
    mu_.Lock();
    if (!opened.ok()) {
      slot->state.store(SlotState::kEmpty, std::memory_order_relaxed);
      --total_;
      open_.store(total_, std::memory_order_relaxed);
      if (closed_.load(std::memory_order_relaxed)) continue;  // abandoned by Close(): no failure
      ++connect_failures_;
      ++consecutive_failures_;
      last_connect_status_ = opened;
      backoff_until_ =
          AddNanos(MonoNanos(), BackoffDelay(options_.failover, consecutive_failures_));
      if (absl::Status fail = FailFastLocked(MonoNanos()); !fail.ok()) FailWaitersLocked(fail);
      continue;
    }
    ++created_;
    consecutive_failures_ = 0;
    backoff_until_ = 0;
    last_connect_status_ = absl::OkStatus();
    if (closed_.load(std::memory_order_relaxed)) {
      Closing doomed = EmptySlotLocked(slot, CloseReason::kShutdown);
      mu_.Unlock();
      doomed.Finish();
      mu_.Lock();
      continue;
    }
    slot->state.store(SlotState::kIdle, std::memory_order_seq_cst);
    ServeWaitersLocked();
  }
}

}  // namespace internal
}  // namespace dbpool
