// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "failover/endpoint_table.h"

#include <utility>

namespace dbpool {
namespace internal {

EndpointTable::EndpointTable(size_t endpoints, FailoverPolicy policy)
    : policy_(std::move(policy)), state_(endpoints) {}

ProbeTransition EndpointTable::OnProbe(size_t i, const absl::StatusOr<Role>& result,
                                       absl::Time started, absl::Time now) {
  State& s = state_[i];
  ProbeTransition t;
  if (result.ok()) {
    t.came_up = !s.up;
    s.up = true;
    s.role = *result;
    s.failures = 0;
    s.rtt = now - started;
  } else {
    if (s.failures == 0) s.first_failure_start = started;
    ++s.failures;
    if (s.up && s.failures >= policy_.failure_threshold()) {
      s.up = false;
      t.went_down = true;
      if (primary_ == i) last_detection_ = now - s.first_failure_start;
    }
  }
  s.probed = true;
  t.primary_changed = ElectPrimary(now);
  return t;
}

bool EndpointTable::ElectPrimary(absl::Time now) {
  std::optional<size_t> elected;
  if (primary_.has_value() && state_[*primary_].up && state_[*primary_].role == Role::kPrimary) {
    elected = primary_;  // sticky: a second writable endpoint does not steal the role
  } else {
    for (size_t i = 0; i < state_.size(); ++i) {
      if (state_[i].up && state_[i].role == Role::kPrimary) {
        elected = i;
        break;
      }
    }
  }
  if (elected == primary_) return false;
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
    if (!s.up || (role == Role::kReplica && s.role != Role::kReplica)) continue;
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
  }
}

}  // namespace internal
}  // namespace dbpool
