// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "core/housekeeping_plan.h"

#include <algorithm>

namespace dbpool {
namespace internal {

HousekeepingPlan PlanHousekeeping(absl::Span<const IdleInfo> idle, const PoolOptions& options,
                                  absl::Time now) {
  HousekeepingPlan plan;
  absl::Time next = now + kMaxHousekeepingPause;
  const bool idle_timeout_on = options.idle_timeout > absl::ZeroDuration();
  const bool keepalive_on = options.keepalive_interval > absl::ZeroDuration();

  size_t survivors = idle.size();
  for (size_t i = 0; i < idle.size(); ++i) {
    if (now >= idle[i].expires) {
      plan.close_expired.push_back(i);
      --survivors;
    }
  }
  size_t closable = survivors > static_cast<size_t>(options.min_idle)
                        ? survivors - static_cast<size_t>(options.min_idle)
                        : 0;
  for (size_t i = 0; i < idle.size(); ++i) {
    const IdleInfo& info = idle[i];
    if (now >= info.expires) continue;
    next = std::min(next, info.expires);
    if (idle_timeout_on) {
      const absl::Time idle_deadline = info.last_used + options.idle_timeout;
      if (now >= idle_deadline && closable > 0) {
        plan.close_idle.push_back(i);
        --closable;
        continue;
      }
      if (now < idle_deadline) next = std::min(next, idle_deadline);
    }
    if (keepalive_on) {
      const absl::Time ping_due = info.last_checked + options.keepalive_interval;
      if (now >= ping_due) {
        plan.keepalive.push_back(i);
      } else {
        next = std::min(next, ping_due);
      }
    }
  }
  plan.next_run = std::max(next, now + kMinHousekeepingPause);
  return plan;
}

}  // namespace internal
}  // namespace dbpool
