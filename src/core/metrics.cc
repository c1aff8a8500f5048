// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PoolStats as Prometheus text exposition format 0.0.4.
#include "dbpool/metrics.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace dbpool {
namespace {

// A label value with \, " and newline escaped.
std::string Escape(absl::string_view value) {
  return absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

class Writer {
 public:
  explicit Writer(absl::string_view pool)
      : pool_label_(absl::StrCat("pool=\"", Escape(pool), "\"")) {}

  void Family(absl::string_view name, absl::string_view type, absl::string_view help) {
    absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  void Sample(absl::string_view name, absl::string_view labels, double value) {
    absl::StrAppend(&out_, name, "{", pool_label_, labels.empty() ? "" : ",", labels, "} ",
                    absl::StrFormat("%.17g", value), "\n");
  }
  void Histogram(absl::string_view name, absl::string_view help, const dbpool::Histogram& h) {
    Family(name, "histogram", help);
    uint64_t cumulative = 0;
    for (int i = 0; i < kHistogramBuckets; ++i) {
      cumulative += h.buckets[i];
      const std::string le =
          i + 1 < kHistogramBuckets ? absl::StrFormat("%g", kHistogramBounds[i]) : "+Inf";
      Sample(absl::StrCat(name, "_bucket"), absl::StrCat("le=\"", le, "\""),
             static_cast<double>(cumulative));
    }
    Sample(absl::StrCat(name, "_sum"), "", h.sum_seconds);
    Sample(absl::StrCat(name, "_count"), "", static_cast<double>(h.count));
  }
  std::string Take() { return std::move(out_); }

 private:
  const std::string pool_label_;
  std::string out_;
};

}  // namespace

std::string RenderPrometheus(const PoolStats& s, absl::string_view pool_name) {
  Writer w(pool_name);
  w.Family("dbpool_connections", "gauge", "Server connections by state.");
  w.Sample("dbpool_connections", "state=\"idle\"", s.idle);
  w.Sample("dbpool_connections", "state=\"in_use\"", s.in_use);
  w.Sample("dbpool_connections", "state=\"connecting\"", s.connecting);
  w.Sample("dbpool_connections", "state=\"maintenance\"", s.maintenance);
  w.Family("dbpool_waiting", "gauge", "acquire() calls waiting for a connection.");
  w.Sample("dbpool_waiting", "", s.waiting);
  w.Family("dbpool_max_connections", "gauge", "The hard cap (max_size, summed over endpoints).");
  w.Sample("dbpool_max_connections", "", s.max_size);

  struct Counter {
    const char* name;
    const char* help;
    uint64_t value;
  };
  const Counter counters[] = {
      {"dbpool_acquired_total", "Successful acquires.", s.acquired},
      {"dbpool_created_total", "Connections opened.", s.created},
      {"dbpool_connect_failures_total", "Failed connection attempts.", s.connect_failures},
      {"dbpool_timeouts_total", "Acquires that hit their deadline.", s.timeouts},
      {"dbpool_validation_failures_total", "Idle connections found dead.", s.validation_failures},
      {"dbpool_rollbacks_total", "Transactions rolled back on return.", s.rollbacks},
      {"dbpool_resets_total", "Full or custom session resets on return.", s.resets},
      {"dbpool_keepalives_total", "Keepalive pings of idle connections.", s.keepalives},
      {"dbpool_leaks_total", "Leases held past leak_detection_threshold.", s.leaks},
      {"dbpool_failovers_total", "Times the primary moved to another endpoint.", s.failovers},
      {"dbpool_split_brains_total", "Times two endpoints were writable at once.", s.split_brains},
      {"dbpool_replica_fallbacks_total",
       "Times replica reads began to go to the primary (no replica up and within the lag bound).",
       s.replica_fallbacks},
  };
  for (const Counter& c : counters) {
    w.Family(c.name, "counter", c.help);
    w.Sample(c.name, "", static_cast<double>(c.value));
  }
  w.Family("dbpool_closed_total", "counter", "Connections closed, by reason.");
  w.Sample("dbpool_closed_total", "reason=\"idle_timeout\"", s.closed_idle);
  w.Sample("dbpool_closed_total", "reason=\"max_lifetime\"", s.closed_lifetime);
  w.Sample("dbpool_closed_total", "reason=\"broken\"", s.closed_broken);
  w.Sample("dbpool_closed_total", "reason=\"discarded\"", s.closed_discarded);
  w.Sample("dbpool_closed_total", "reason=\"evicted\"", s.closed_evicted);
  w.Family("dbpool_commit_resolutions_total", "counter",
           "with_transaction() COMMITs whose reply was lost, by the server's answer.");
  w.Sample("dbpool_commit_resolutions_total", "result=\"committed\"", s.commits_resolved_committed);
  w.Sample("dbpool_commit_resolutions_total", "result=\"aborted\"", s.commits_resolved_aborted);
  w.Sample("dbpool_commit_resolutions_total", "result=\"unresolved\"", s.commits_unresolved);
  w.Sample("dbpool_closed_total", "reason=\"returned_busy\"", s.closed_busy);

  w.Family("dbpool_endpoint_up", "gauge", "1 while the endpoint answers probes.");
  for (const EndpointStats& e : s.endpoints) {
    w.Sample("dbpool_endpoint_up",
             absl::StrCat("endpoint=\"", Escape(e.endpoint), "\",role=\"", e.role, "\""),
             e.up ? 1 : 0);
  }
  w.Family("dbpool_endpoint_connections", "gauge", "Server connections per endpoint.");
  for (const EndpointStats& e : s.endpoints) {
    w.Sample("dbpool_endpoint_connections", absl::StrCat("endpoint=\"", Escape(e.endpoint), "\""),
             e.total);
  }
  if (s.acquire_wait.count > 0 || s.hold_time.count > 0) {
    w.Histogram("dbpool_acquire_wait_seconds", "Time from acquire() to hand-out.", s.acquire_wait);
    w.Histogram("dbpool_hold_seconds", "Time from hand-out to release.", s.hold_time);
  }
  return w.Take();
}

}  // namespace dbpool
