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
#include "dbpool/driver.h"
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
  bool split_brain = false;      // two writable endpoints were just found: writes fail closed
};

class EndpointTable {
 public:
  EndpointTable(size_t endpoints, FailoverPolicy policy);

  // Feeds one probe of endpoint `i` that started at `started` and ended at
  // `now` with what the server said or an error. Every time this table is
  // given is on one clock, which it only subtracts: the cluster passes the
  // monotonic one (MonoTime(FineNanos())), so a wall-clock step skews no
  // detection time.
  ProbeTransition OnProbe(size_t i, const absl::StatusOr<ProbeResult>& result, absl::Time started,
                          absl::Time now);

  // The endpoint that should serve `role` now, or nullopt when none can:
  //   kPrimary: the elected primary (see ElectPrimary); none during a split
  //             brain, and none at start until every endpoint answered or
  //             failed a probe (or probe_timeout passed since the first);
  //   kReplica: the up replica within max_replica_lag with the lowest probe
  //             latency, else (once every endpoint was probed) the primary;
  //   kAny:     the up endpoint with the lowest probe latency.
  std::optional<size_t> Pick(Role role) const;

  // Whether endpoint `i` failed its last probe (a probe should follow soon).
  bool suspect(size_t i) const { return state_[i].failures > 0; }
  bool up(size_t i) const { return state_[i].up; }
  // Whether every endpoint has been probed at least once.
  bool all_probed() const;
  std::optional<size_t> primary() const { return primary_; }
  // While two or more up endpoints are writable on the same or an unknown
  // timeline: those endpoints (in list order); empty otherwise.
  const std::vector<size_t>& split_brain() const { return split_brain_; }
  // Whether endpoint `i` lost the primary role to another endpoint while it
  // was still writable, and was not seen read-only, replicating or on a
  // newer timeline since (it cannot be elected).
  bool tainted(size_t i) const { return state_[i].tainted; }

  // Failover counters for PoolStats.
  uint64_t failovers() const { return failovers_; }
  absl::Duration last_detection_time() const { return last_detection_; }
  absl::Duration time_without_primary(absl::Time now) const;
  uint64_t split_brains() const { return split_brains_; }  // times a split brain began
  // Times Pick(kReplica) began to answer the primary (see
  // PoolStats::replica_fallbacks).
  uint64_t replica_fallbacks() const { return replica_fallbacks_; }

  // Fills the per-endpoint role and health fields of `out` (same order).
  void Describe(std::vector<EndpointStats>* out) const;

 private:
  struct State {
    bool probed = false;
    bool up = false;
    Role role = Role::kAny;  // kAny: unknown; kPrimary only when writable
    bool writable = false;   // the last good probe said so
    std::optional<int64_t> timeline;
    std::optional<absl::Duration> lag;  // a replica's replay lag, last good probe
    // Lost the primary role to another endpoint while writable (see tainted()).
    bool tainted = false;
    std::optional<int64_t> tainted_timeline;
    int failures = 0;
    int successes = 0;  // consecutive good probes while not up (recovery_threshold)
    absl::Time first_failure_start = absl::InfinitePast();
    absl::Duration rtt = absl::InfiniteDuration();
  };

  // Re-elects the primary after a change; true if it changed. Among the up
  // writable endpoints the one on the highest timeline wins; two or more
  // with the same or an unknown timeline are a split brain (none wins); a
  // tainted endpoint never wins. Sets `*split_brain_began`.
  bool ElectPrimary(absl::Time now, bool* split_brain_began);
  // Whether the first election may run: every endpoint was probed, or
  // probe_timeout passed since the first probe started.
  bool StartupDone(absl::Time now) const;
  // Whether `s` is a replica further behind than max_replica_lag.
  bool Lagging(const State& s) const;
  // Counts the start of a fallback of replica reads to the primary.
  void NoteReplicaFallback();

  const FailoverPolicy policy_;
  std::vector<State> state_;
  std::optional<size_t> primary_;
  std::optional<size_t> last_primary_;  // the last endpoint elected, even if none is now
  std::vector<size_t> split_brain_;
  uint64_t split_brains_ = 0;
  bool replicas_fall_back_ = false;  // Pick(kReplica) answered the primary at the last probe
  uint64_t replica_fallbacks_ = 0;
  absl::Time first_probe_ = absl::InfiniteFuture();
  bool ever_had_primary_ = false;
  absl::Time lost_primary_at_ = absl::InfinitePast();  // set while no primary after one existed
  absl::Duration without_primary_ = absl::ZeroDuration();
  uint64_t failovers_ = 0;
  absl::Duration last_detection_ = absl::ZeroDuration();
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_FAILOVER_ENDPOINT_TABLE_H_
