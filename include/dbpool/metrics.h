// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/metrics.h
//
// PoolStats in the Prometheus text exposition format.
#ifndef DBPOOL_METRICS_H_
#define DBPOOL_METRICS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "dbpool/stats.h"

namespace dbpool {

// RenderPrometheus()
//
// `stats` as Prometheus text (exposition format 0.0.4), every metric in the
// `dbpool_` namespace with label pool="<pool_name>" (escaped):
//   gauges    dbpool_connections{state=idle|in_use|connecting|maintenance},
//             dbpool_waiting, dbpool_max_connections,
//             dbpool_endpoint_up{endpoint,role}, dbpool_endpoint_connections{endpoint}
//   counters  dbpool_acquired_total, dbpool_created_total,
//             dbpool_connect_failures_total, dbpool_timeouts_total,
//             dbpool_validation_failures_total, dbpool_rollbacks_total,
//             dbpool_resets_total, dbpool_keepalives_total, dbpool_leaks_total,
//             dbpool_failovers_total, dbpool_closed_total{reason=...}
//   histograms (when enabled with Builder::histograms(true))
//             dbpool_acquire_wait_seconds, dbpool_hold_seconds
// Append the output of several pools to serve them from one endpoint.
std::string RenderPrometheus(const PoolStats& stats, absl::string_view pool_name);

}  // namespace dbpool

#endif  // DBPOOL_METRICS_H_
