// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The housekeeper's decisions as a pure function of time and idle slots, so
// that idle_timeout, max_lifetime and keepalive rules are testable without
// threads or a clock.
#ifndef DBPOOL_CORE_HOUSEKEEPING_PLAN_H_
#define DBPOOL_CORE_HOUSEKEEPING_PLAN_H_

#include <cstddef>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "dbpool/pool_options.h"

namespace dbpool {
namespace internal {

// What the plan needs to know of one idle connection.
struct IdleInfo {
  absl::Time last_used;
  absl::Time last_checked;
  absl::Time expires;
};

// What to do with the idle set now, by index into the planner's input.
struct HousekeepingPlan {
  std::vector<size_t> close_expired;  // past max_lifetime
  std::vector<size_t> close_idle;     // idle past idle_timeout, above min_idle
  std::vector<size_t> keepalive;      // unchecked for keepalive_interval: ping
  absl::Time next_run;                // when the plan may change next
};

// The shortest and longest pause between housekeeping passes.
inline constexpr absl::Duration kMinHousekeepingPause = absl::Milliseconds(5);
inline constexpr absl::Duration kMaxHousekeepingPause = absl::Seconds(1);

// Plans one pass. `idle` is ordered oldest-returned first. Expired
// connections always close; idle ones close oldest first while more than
// min_idle remain; survivors unchecked for keepalive_interval are pinged.
HousekeepingPlan PlanHousekeeping(absl::Span<const IdleInfo> idle, const PoolOptions& options,
                                  absl::Time now);

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_HOUSEKEEPING_PLAN_H_
