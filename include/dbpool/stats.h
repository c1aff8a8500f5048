// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/stats.h
//
// A snapshot of a pool's state and counters.
#ifndef DBPOOL_STATS_H_
#define DBPOOL_STATS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace dbpool {

// EndpointStats
//
// One endpoint's part of a PoolStats snapshot.
struct EndpointStats {
  std::string endpoint;  // "host:port"
  std::string role;      // "primary", "replica", or "unknown" (not probed yet)
  bool up = true;        // answering probes (always true for a single endpoint)
  int total = 0;         // server connections to it, connecting ones included
  int idle = 0;
  int in_use = 0;
  int waiting = 0;
  // A replica's replay lag at its last probe (ProbeResult::replay_lag);
  // nullopt for a primary, when the driver cannot tell, or with a single
  // endpoint (not probed).
  std::optional<absl::Duration> replica_lag;
  // Whether that lag is beyond FailoverPolicy::max_replica_lag, so that the
  // replica serves no Role::kReplica acquire now.
  bool lagging = false;
};

// Histogram
//
// Counts of observed durations per bucket; bucket i holds values up to
// kHistogramBounds[i] seconds (the last bucket: everything above).
inline constexpr double kHistogramBounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                              0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                              0.5,     1,      2.5,     5,      10};
inline constexpr int kHistogramBuckets = sizeof(kHistogramBounds) / sizeof(double) + 1;

struct Histogram {
  uint64_t buckets[kHistogramBuckets] = {};  // not cumulative
  uint64_t count = 0;
  double sum_seconds = 0;
};

// PoolStats
//
// Returned by Pool::stats(). Gauges are read together under the pool's lock,
// so total == idle + in_use + connecting + maintenance holds in every
// snapshot. Counters only grow. Never holds a secret.
struct PoolStats {
  // Gauges.
  int total = 0;        // server connections the pool owns, connecting ones included
  int idle = 0;         // open and ready to hand out
  int in_use = 0;       // held by leases
  int connecting = 0;   // being opened in the background
  int maintenance = 0;  // taken by the pool: keepalive pings, rollbacks, resets, closes
  int waiting = 0;      // acquire() calls waiting for a connection
  int max_size = 0;     // the hard cap (per endpoint, summed over endpoints)

  // Counters.
  uint64_t acquired = 0;             // successful acquires
  uint64_t created = 0;              // connections opened
  uint64_t connect_failures = 0;     // failed connection attempts
  uint64_t timeouts = 0;             // acquires that hit their deadline
  uint64_t validation_failures = 0;  // idle connections found dead before hand-out
  uint64_t rollbacks = 0;            // transactions rolled back on return
  uint64_t resets = 0;               // full or custom resets run on return
  uint64_t closed_idle = 0;          // closed by idle_timeout
  uint64_t closed_lifetime = 0;      // closed by max_lifetime
  uint64_t closed_broken = 0;        // closed because broken or a reset failed
  uint64_t closed_discarded = 0;     // closed by Lease::discard()
  uint64_t keepalives = 0;           // keepalive pings run
  uint64_t closed_evicted = 0;       // closed because their endpoint went down, or by evict()
  uint64_t leaks = 0;                // leases reported held past leak_detection_threshold
  uint64_t closed_busy = 0;          // returned with a command or result in flight
  // Passes of the housekeeper (idle and lifetime closes, keepalive, leak
  // reports). It grows by about one per housekeeping period, never faster
  // than one per millisecond while it has nothing to do: a health signal
  // for the background thread.
  uint64_t housekeeping_passes = 0;

  // with_transaction() COMMITs whose reply was lost, by how the server's
  // answer resolved them: committed (fn not run again), rolled back or
  // never written (fn run again), and unresolved (returned
  // outcome-unknown: the server could not tell, or no answer within the
  // retry budget, or the driver cannot ask).
  uint64_t commits_resolved_committed = 0;
  uint64_t commits_resolved_aborted = 0;
  uint64_t commits_unresolved = 0;

  // Failover (pools with several endpoints).
  uint64_t failovers = 0;  // times the primary moved to another endpoint
  // From the first failed probe of the primary to marking it down, for the
  // last failover.
  absl::Duration last_detection_time = absl::ZeroDuration();
  // Total time with no usable primary after one was known.
  absl::Duration time_without_primary = absl::ZeroDuration();
  // Times a split brain began: two or more endpoints writable on the same
  // or an unknown timeline (writes fail closed meanwhile; see
  // docs/failover.md).
  uint64_t split_brains = 0;
  bool split_brain = false;  // one is going on now
  // Times acquire(Role::kReplica) began to be served by the primary because
  // no replica was up and within FailoverPolicy::max_replica_lag (counted
  // when that starts, not per acquire; at start too, when no replica is).
  uint64_t replica_fallbacks = 0;
  std::vector<EndpointStats> endpoints;  // in preference order

  // With Builder::histograms(true): time from acquire() to hand-out, and
  // from hand-out to release. Empty otherwise.
  Histogram acquire_wait;
  Histogram hold_time;

  // The last connection error, with its endpoint ("" if none yet). Cleared
  // by the next successful connect.
  std::string last_connect_error;
};

// ToString()
//
// One line: "total=8 idle=2 in_use=6 connecting=0 waiting=0 max_size=8 ...".
std::string ToString(const PoolStats& stats);

}  // namespace dbpool

#endif  // DBPOOL_STATS_H_
