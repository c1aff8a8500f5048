// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "failover/endpoint_table.h"

#include <algorithm>
#include <utility>

namespace dbpool {
namespace internal {

EndpointTable::EndpointTable(size_t endpoints, FailoverPolicy policy)
    : policy_(std::move(policy)), state_(endpoints) {}

ProbeTransition EndpointTable::OnProbe(size_t i, const absl::StatusOr<ProbeResult>& result,
                                       absl::Time started, absl::Time now) {
  State& s = state_[i];
  ProbeTransition t;
  first_probe_ = std::min(first_probe_, started);
  if (result.ok()) {
    s.writable = result->writable();
    s.role = s.writable ? Role::kPrimary : Role::kReplica;
    s.timeline = result->timeline;
    s.lag = s.role == Role::kReplica ? result->replay_lag : std::nullopt;
    s.failures = 0;
    s.rtt = now - started;
    if (s.tainted && (!s.writable || (s.timeline.has_value() && s.tainted_timeline.has_value() &&
                                      *s.timeline > *s.tainted_timeline))) {
      s.tainted = false;  // seen demoted or fenced, or promoted again later
    }
    // Hysteresis: back from down only after recovery_threshold good probes
    // in a row; an endpoint's first answer counts at once.
    if (!s.up && (!s.probed || ++s.successes >= policy_.recovery_threshold())) {
      t.came_up = true;
      s.up = true;
      s.successes = 0;
    }
  } else {
    s.successes = 0;
    if (s.failures == 0) s.first_failure_start = started;
    ++s.failures;
    if (s.up && s.failures >= policy_.failure_threshold()) {
      s.up = false;
      t.went_down = true;
      if (primary_ == i) last_detection_ = now - s.first_failure_start;
    }
  }
  s.probed = true;
  t.primary_changed = ElectPrimary(now, &t.split_brain);
  NoteReplicaFallback();
  return t;
}

bool EndpointTable::Lagging(const State& s) const {
  return s.role == Role::kReplica && policy_.max_replica_lag() > absl::ZeroDuration() &&
         s.lag.has_value() && *s.lag > policy_.max_replica_lag();
}

void EndpointTable::NoteReplicaFallback() {
  const std::optional<size_t> reads = Pick(Role::kReplica);
  const bool falls_back = reads.has_value() && reads == primary_;
  if (falls_back && !replicas_fall_back_) ++replica_fallbacks_;
  replicas_fall_back_ = falls_back;
}

bool EndpointTable::StartupDone(absl::Time now) const {
  return ever_had_primary_ || all_probed() || now - first_probe_ >= policy_.probe_timeout();
}

bool EndpointTable::ElectPrimary(absl::Time now, bool* split_brain_began) {
  *split_brain_began = false;
  std::optional<int64_t> highest;
  for (const State& s : state_) {
    if (s.up && s.writable && s.timeline.has_value()) {
      highest = std::max(highest.value_or(*s.timeline), *s.timeline);
    }
  }
  // The contenders: writable endpoints not outranked by a higher timeline.
  std::vector<size_t> top;
  for (size_t i = 0; i < state_.size(); ++i) {
    const State& s = state_[i];
    if (s.up && s.writable && (!s.timeline.has_value() || s.timeline == highest)) top.push_back(i);
  }
  std::optional<size_t> elected;
  if (top.size() >= 2) {
    *split_brain_began = split_brain_.empty();
    if (*split_brain_began) ++split_brains_;
    split_brain_ = top;
  } else {
    split_brain_.clear();
    if (top.size() == 1 && !state_[top[0]].tainted && StartupDone(now)) elected = top[0];
  }
  if (elected == primary_) return false;
  if (last_primary_.has_value() && elected.has_value() && elected != last_primary_) {
    // The last primary lost the role to another endpoint: if it is still
    // (or was last seen) writable, it must not win again on its own.
    State& old = state_[*last_primary_];
    if (old.writable) {
      old.tainted = true;
      old.tainted_timeline = old.timeline;
    }
  }
  if (elected.has_value()) last_primary_ = elected;
  if (primary_.has_value() && !elected.has_value()) lost_primary_at_ = now;
  if (elected.has_value()) {
    if (lost_primary_at_ != absl::InfinitePast()) {
      without_primary_ += now - lost_primary_at_;
      lost_primary_at_ = absl::InfinitePast();
    }
    if (ever_had_primary_) ++failovers_;
    ever_had_primary_ = true;
  }
  primary_ = elected;
  return true;
}

std::optional<size_t> EndpointTable::Pick(Role role) const {
  if (role == Role::kPrimary) return primary_;
  std::optional<size_t> best;
  for (size_t i = 0; i < state_.size(); ++i) {
    const State& s = state_[i];
    if (!s.up || (role == Role::kReplica && (s.role != Role::kReplica || Lagging(s)))) continue;
    if (!best.has_value() || s.rtt < state_[*best].rtt) best = i;
  }
  if (!best.has_value() && role == Role::kReplica) {
    // Fall back to the primary only once every endpoint has answered or
    // failed a probe: right after start, a replica may just not be probed yet.
    return all_probed() ? primary_ : std::nullopt;
  }
  return best;
}

bool EndpointTable::all_probed() const {
  for (const State& s : state_) {
    if (!s.probed) return false;
  }
  return true;
}

absl::Duration EndpointTable::time_without_primary(absl::Time now) const {
  if (lost_primary_at_ == absl::InfinitePast()) return without_primary_;
  return without_primary_ + (now - lost_primary_at_);
}

void EndpointTable::Describe(std::vector<EndpointStats>* out) const {
  for (size_t i = 0; i < state_.size() && i < out->size(); ++i) {
    const State& s = state_[i];
    EndpointStats& e = (*out)[i];
    e.up = s.up;
    e.role = !s.probed || s.role == Role::kAny ? "unknown" : std::string(RoleName(s.role));
    e.replica_lag = s.lag;
    e.lagging = Lagging(s);
  }
}

}  // namespace internal
}  // namespace dbpool
