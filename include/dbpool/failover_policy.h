// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/failover_policy.h
//
// How the pool retries, backs off and behaves when endpoints fail.
#ifndef DBPOOL_FAILOVER_POLICY_H_
#define DBPOOL_FAILOVER_POLICY_H_

#include "absl/time/time.h"

namespace dbpool {

// FailoverPolicy
//
// A value type with chained setters; hand it to Builder::failover(). Ranges
// are checked by Builder::build(), which returns kInvalidArgument naming the
// knob ("failover.max_attempts", ...).
class FailoverPolicy {
 public:
  // What acquire(Role::kPrimary) does while no endpoint can serve it.
  enum class NoPrimary {
    kWait,      // wait up to the acquire deadline (the default)
    kFailFast,  // return kUnavailable at once
  };

  FailoverPolicy() = default;

  // max_attempts()
  //
  // How many times with_retry() calls the user's function (first call
  // included) when it fails with kUnavailable or a broken connection.
  // Default: 3. Range: 1..100.
  FailoverPolicy& max_attempts(int n) {
    max_attempts_ = n;
    return *this;
  }
  int max_attempts() const { return max_attempts_; }

  // backoff_initial()
  //
  // The first pause between failed attempts: with_retry() attempts and
  // reconnects to an endpoint that refused. Doubles after each failure.
  // Default: 50ms. Range: 1ms..backoff_max.
  FailoverPolicy& backoff_initial(absl::Duration d) {
    backoff_initial_ = d;
    return *this;
  }
  absl::Duration backoff_initial() const { return backoff_initial_; }

  // backoff_max()
  //
  // The longest pause between failed attempts. Default: 2s.
  // Range: backoff_initial..10min.
  FailoverPolicy& backoff_max(absl::Duration d) {
    backoff_max_ = d;
    return *this;
  }
  absl::Duration backoff_max() const { return backoff_max_; }

  // backoff_jitter()
  //
  // Each pause is scaled by a random factor in [1 - jitter, 1 + jitter], so
  // many processes do not reconnect in step. Default: 0.2. Range: 0..1.
  FailoverPolicy& backoff_jitter(double fraction) {
    backoff_jitter_ = fraction;
    return *this;
  }
  double backoff_jitter() const { return backoff_jitter_; }

  // probe_interval()
  //
  // How often the health monitor probes each endpoint's role and liveness.
  // Default: 500ms. Range: 10ms..1h.
  FailoverPolicy& probe_interval(absl::Duration d) {
    probe_interval_ = d;
    return *this;
  }
  absl::Duration probe_interval() const { return probe_interval_; }

  // probe_timeout()
  //
  // How long one probe may take before it counts as a failure.
  // Default: 500ms. Range: 10ms..1min.
  FailoverPolicy& probe_timeout(absl::Duration d) {
    probe_timeout_ = d;
    return *this;
  }
  absl::Duration probe_timeout() const { return probe_timeout_; }

  // failure_threshold()
  //
  // Consecutive failed probes after which an endpoint is marked down.
  // Default: 2. Range: 1..100.
  FailoverPolicy& failure_threshold(int n) {
    failure_threshold_ = n;
    return *this;
  }
  int failure_threshold() const { return failure_threshold_; }

  // recovery_threshold()
  //
  // Consecutive good probes after which an endpoint that was down (or
  // failed its first probes) is up again, so that a flapping server does
  // not take traffic back on its first answer. An endpoint's very first
  // good probe makes it up at once. Default: 2. Range: 1..100.
  FailoverPolicy& recovery_threshold(int n) {
    recovery_threshold_ = n;
    return *this;
  }
  int recovery_threshold() const { return recovery_threshold_; }

  // max_replica_lag()
  //
  // A replica whose last probe found it further behind than this (see
  // ProbeResult::replay_lag) serves no acquire(Role::kReplica) until a
  // probe finds it within the bound again; with no replica within it,
  // those reads go to the primary (PoolStats::replica_fallbacks counts the
  // times that began). A replica whose lag the driver cannot tell (MySQL,
  // today) is used as before. Role::kAny is not bounded. Default: 0 (no
  // bound). Range: 0, or 1ms..24h.
  FailoverPolicy& max_replica_lag(absl::Duration d) {
    max_replica_lag_ = d;
    return *this;
  }
  absl::Duration max_replica_lag() const { return max_replica_lag_; }

  // when_no_primary()
  //
  // See NoPrimary. Default: NoPrimary::kWait.
  FailoverPolicy& when_no_primary(NoPrimary behaviour) {
    no_primary_ = behaviour;
    return *this;
  }
  NoPrimary when_no_primary() const { return no_primary_; }

 private:
  int max_attempts_ = 3;
  absl::Duration backoff_initial_ = absl::Milliseconds(50);
  absl::Duration backoff_max_ = absl::Seconds(2);
  double backoff_jitter_ = 0.2;
  absl::Duration probe_interval_ = absl::Milliseconds(500);
  absl::Duration probe_timeout_ = absl::Milliseconds(500);
  int failure_threshold_ = 2;
  int recovery_threshold_ = 2;
  absl::Duration max_replica_lag_ = absl::ZeroDuration();
  NoPrimary no_primary_ = NoPrimary::kWait;
};

}  // namespace dbpool

#endif  // DBPOOL_FAILOVER_POLICY_H_
