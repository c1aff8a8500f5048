// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// EndpointTable: who decides that an endpoint is down, and which endpoint
// serves a role. A sans-I/O state machine: it is fed probe results and
// reported errors with their times, and answers routing questions; the
// cluster does the I/O and the waiting. Not thread-safe (the cluster's mutex
// guards it).
#ifndef DBPOOL_FAILOVER_ENDPOINT_TABLE_H_
#define DBPOOL_FAILOVER_ENDPOINT_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dbpool/failover_policy.h"
#include "dbpool/role.h"
#include "dbpool/stats.h"

namespace dbpool {
namespace internal {

// What one probe result changed.
struct ProbeTransition {
  bool went_down = false;        // crossed failure_threshold: evict and interrupt
  bool came_up = false;          // answered after being down or never probed
  bool primary_changed = false;  // the routed primary is another endpoint (or none) now
};

class EndpointTable {
 public:
  EndpointTable(size_t endpoints, FailoverPolicy policy);

  // Feeds one probe of endpoint `i` that started at `started` and ended at
  // `now` with a role or an error.
  ProbeTransition OnProbe(size_t i, const absl::StatusOr<Role>& result, absl::Time started,
                          absl::Time now);

  // The endpoint that should serve `role` now, or nullopt when none can:
  //   kPrimary: the routed primary (sticky while it stays up and writable);
  //   kReplica: the up replica with the lowest probe latency, else (once
  //             every endpoint was probed) the primary;
  //   kAny:     the up endpoint with the lowest probe latency.
  std::optional<size_t> Pick(Role role) const;

  // Whether endpoint `i` failed its last probe (a probe should follow soon).
  bool suspect(size_t i) const { return state_[i].failures > 0; }
  bool up(size_t i) const { return state_[i].up; }
  // Whether every endpoint has been probed at least once.
  bool all_probed() const;
  std::optional<size_t> primary() const { return primary_; }

  // Failover counters for PoolStats.
  uint64_t failovers() const { return failovers_; }
  absl::Duration last_detection_time() const { return last_detection_; }
  absl::Duration time_without_primary(absl::Time now) const;

  // Fills the per-endpoint role and health fields of `out` (same order).
  void Describe(std::vector<EndpointStats>* out) const;

 private:
  struct State {
    bool probed = false;
    bool up = false;
    Role role = Role::kAny;  // kAny: unknown
    int failures = 0;
    absl::Time first_failure_start = absl::InfinitePast();
    absl::Duration rtt = absl::InfiniteDuration();
  };

  // Re-elects the routed primary after a change; true if it changed.
  bool ElectPrimary(absl::Time now);

  const FailoverPolicy policy_;
  std::vector<State> state_;
  std::optional<size_t> primary_;
  bool ever_had_primary_ = false;
  absl::Time lost_primary_at_ = absl::InfinitePast();  // set while no primary after one existed
  absl::Duration without_primary_ = absl::ZeroDuration();
  uint64_t failovers_ = 0;
  absl::Duration last_detection_ = absl::ZeroDuration();
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_FAILOVER_ENDPOINT_TABLE_H_
