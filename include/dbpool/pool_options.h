// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/pool_options.h
//
// The driver-independent settings of a pool, as set through Pool::Builder.
// Documented knob by knob on the builder (dbpool/pool.h).
#ifndef DBPOOL_POOL_OPTIONS_H_
#define DBPOOL_POOL_OPTIONS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "dbpool/events.h"
#include "dbpool/failover_policy.h"
#include "dbpool/log.h"
#include "dbpool/reset_policy.h"
#include "dbpool/role.h"

namespace dbpool {

// PoolOptions
//
// Plain data; Builder::build() validates it with ValidatePoolOptions().
struct PoolOptions {
  std::string name = "default";
  int max_size = 10;
  int min_idle = 0;
  absl::Duration acquire_timeout = absl::Seconds(5);
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration idle_timeout = absl::Minutes(10);
  absl::Duration max_lifetime = absl::Minutes(30);
  absl::Duration validation_window = absl::Milliseconds(500);
  absl::Duration validation_timeout = absl::Seconds(5);
  absl::Duration keepalive_interval = absl::Minutes(2);
  absl::Duration leak_detection_threshold = absl::ZeroDuration();  // zero: off
  bool histograms = false;
  std::vector<std::string> init_sql;
  ResetPolicy reset_policy;
  FailoverPolicy failover;
  std::shared_ptr<PoolListener> listener;  // may be null
  LogSink log_sink;                        // may be empty: quiet
  LogLevel log_level = LogLevel::kWarning;
};

// ValidatePoolOptions()
//
// OK, or kInvalidArgument whose message names the first bad knob and its
// allowed range, e.g. "dbpool: max_size is 0; allowed range: 1..10000".
absl::Status ValidatePoolOptions(const PoolOptions& options);

// SourceLocation
//
// Where acquire() was called, captured by a default argument
// (SourceLocation::Current()) for leak reports.
struct SourceLocation {
  const char* file = "";
  int line = 0;
  static constexpr SourceLocation Current(const char* file = __builtin_FILE(),
                                          int line = __builtin_LINE()) {
    return SourceLocation{file, line};
  }
};

// AcquireOptions
//
// Per-call settings of Pool::acquire().
struct AcquireOptions {
  // The role of the endpoint to serve the call. Default: kPrimary.
  Role role = Role::kPrimary;
  // How long the acquire may take, a validation ping of the connection
  // included; unset means the pool's acquire_timeout. Zero means: only an
  // immediately available connection (which may still get one ping of at
  // least a millisecond when validation_window asks for it).
  std::optional<absl::Duration> timeout;
  // The caller's file and line, for leak reports; both acquire()
  // overloads fill it in when it is left unset (line 0).
  SourceLocation where;
};

// RetryOptions
//
// Per-call settings of Pool::with_retry() and Pool::with_transaction().
struct RetryOptions {
  // The role of the endpoint to serve each attempt. Default: kPrimary.
  Role role = Role::kPrimary;
  // Whether `fn` may safely run twice: a read, or a write whose second run
  // changes nothing (an upsert to fixed values, a delete by key). Only then
  // is an attempt whose outcome is unknown (IsOutcomeUnknown(): the
  // statement or COMMIT was sent and no reply came) run again; otherwise it
  // is returned at once. Default: false.
  bool idempotent = false;
  // with_transaction() only (with_retry() ignores it): take the
  // transaction's id just before COMMIT, and only if the transaction was
  // assigned one (it wrote), instead of with BEGIN. It costs one round trip
  // more per transaction, and spares a transaction that writes nothing an
  // id of its own (an xid consumed, a commit record and a WAL flush at
  // COMMIT; see docs/failover.md, "What taking the id at BEGIN costs"): for
  // transactions that mostly only read. A lost COMMIT is resolved as
  // exactly either way. Drivers that take no id at BEGIN (MySQL) ignore it.
  // Default: false.
  bool defer_txn_id = false;
};

}  // namespace dbpool

#endif  // DBPOOL_POOL_OPTIONS_H_
