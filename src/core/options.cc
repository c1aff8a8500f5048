// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Validation of the driver-independent builder knobs.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "dbpool/driver.h"
#include "dbpool/events.h"
#include "dbpool/pool_options.h"
#include "dbpool/role.h"

namespace dbpool {
namespace {

absl::Status OutOfRange(absl::string_view knob, absl::string_view value, absl::string_view range) {
  return absl::InvalidArgumentError(
      absl::StrCat("dbpool: ", knob, " is ", value, "; allowed range: ", range));
}

absl::Status CheckInt(absl::string_view knob, int value, int lo, int hi) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return OutOfRange(knob, absl::StrCat(value), absl::StrCat(lo, "..", hi));
}

absl::Status CheckDuration(absl::string_view knob, absl::Duration value, absl::Duration lo,
                           absl::Duration hi, bool zero_disables) {
  if (zero_disables && value == absl::ZeroDuration()) return absl::OkStatus();
  if (value >= lo && value <= hi) return absl::OkStatus();
  return OutOfRange(knob, absl::FormatDuration(value),
                    absl::StrCat(zero_disables ? "0 (disabled), or " : "", absl::FormatDuration(lo),
                                 "..", absl::FormatDuration(hi)));
}

absl::Status ValidateFailoverPolicy(const FailoverPolicy& p) {
  DBPOOL_RETURN_IF_ERROR(CheckInt("failover.max_attempts", p.max_attempts(), 1, 100));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("failover.backoff_max", p.backoff_max(),
                                       absl::Milliseconds(1), absl::Minutes(10), false));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("failover.backoff_initial", p.backoff_initial(),
                                       absl::Milliseconds(1), p.backoff_max(), false));
  if (!(p.backoff_jitter() >= 0.0 && p.backoff_jitter() <= 1.0)) {
    return OutOfRange("failover.backoff_jitter", absl::StrCat(p.backoff_jitter()), "0..1");
  }
  DBPOOL_RETURN_IF_ERROR(CheckDuration("failover.probe_interval", p.probe_interval(),
                                       absl::Milliseconds(10), absl::Hours(1), false));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("failover.probe_timeout", p.probe_timeout(),
                                       absl::Milliseconds(10), absl::Minutes(1), false));
  DBPOOL_RETURN_IF_ERROR(CheckInt("failover.failure_threshold", p.failure_threshold(), 1, 100));
  DBPOOL_RETURN_IF_ERROR(CheckInt("failover.recovery_threshold", p.recovery_threshold(), 1, 100));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("failover.max_replica_lag", p.max_replica_lag(),
                                       absl::Milliseconds(1), absl::Hours(24), true));
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePoolOptions(const PoolOptions& o) {
  if (o.name.empty()) return absl::InvalidArgumentError("dbpool: name must not be empty");
  DBPOOL_RETURN_IF_ERROR(CheckInt("max_size", o.max_size, 1, 10000));
  DBPOOL_RETURN_IF_ERROR(CheckInt("min_idle", o.min_idle, 0, o.max_size));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("acquire_timeout", o.acquire_timeout, absl::ZeroDuration(),
                                       absl::Hours(24), false));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("connect_timeout", o.connect_timeout, absl::Milliseconds(10),
                                       absl::Hours(1), false));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("idle_timeout", o.idle_timeout, absl::Milliseconds(10),
                                       absl::Hours(24 * 7), true));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("max_lifetime", o.max_lifetime, absl::Milliseconds(10),
                                       absl::Hours(24 * 30), true));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("validation_window", o.validation_window,
                                       absl::ZeroDuration(), absl::Hours(1), false));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("validation_timeout", o.validation_timeout,
                                       absl::Milliseconds(10), absl::Hours(1), false));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("keepalive_interval", o.keepalive_interval,
                                       absl::Milliseconds(10), absl::Hours(24), true));
  DBPOOL_RETURN_IF_ERROR(CheckDuration("leak_detection_threshold", o.leak_detection_threshold,
                                       absl::Milliseconds(10), absl::Hours(24), true));
  for (size_t i = 0; i < o.init_sql.size(); ++i) {
    if (o.init_sql[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("dbpool: init_sql #", i + 1, " is empty; give a statement"));
    }
  }
  if (o.reset_policy.kind() == ResetPolicy::Kind::kSql && o.reset_policy.sql().empty()) {
    return absl::InvalidArgumentError(
        "dbpool: reset_policy: ResetPolicy::Sql() needs a non-empty statement");
  }
  return ValidateFailoverPolicy(o.failover);
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kPrimary:
      return "primary";
    case Role::kReplica:
      return "replica";
    case Role::kAny:
      return "any";
  }
  return "unknown";
}

const char* CloseCauseName(CloseCause cause) {
  switch (cause) {
    case CloseCause::kDiscarded:
      return "discarded";
    case CloseCause::kBroken:
      return "broken";
    case CloseCause::kValidationFailed:
      return "validation_failed";
    case CloseCause::kIdleTimeout:
      return "idle_timeout";
    case CloseCause::kMaxLifetime:
      return "max_lifetime";
    case CloseCause::kEvicted:
      return "evicted";
    case CloseCause::kReturnedBusy:
      return "returned_busy";
  }
  return "unknown";
}

std::string Endpoint::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

}  // namespace dbpool
