// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "core/session_hygiene.h"

namespace dbpool {
namespace internal {

HygieneOutcome RestoreSession(DriverConnection& conn, const ResetPolicy& policy,
                              absl::Time deadline, absl::Span<const std::string> init_sql) {
  HygieneOutcome out;
  switch (conn.session_state()) {
    case SessionState::kBroken:
      out.status = absl::UnavailableError("connection is broken");
      return out;
    case SessionState::kBusy:
      out.status = absl::FailedPreconditionError("connection returned with a command in flight");
      return out;
    case SessionState::kInTransaction:
      if (policy.kind() == ResetPolicy::Kind::kNone) {
        out.status = absl::FailedPreconditionError("connection returned inside a transaction");
        return out;
      }
      out.status = conn.rollback(deadline);
      if (!out.status.ok()) return out;
      out.rolled_back = true;
      break;
    case SessionState::kIdle:
      break;
  }
  switch (policy.kind()) {
    case ResetPolicy::Kind::kNone:
    case ResetPolicy::Kind::kRollbackOnly:
      break;
    case ResetPolicy::Kind::kFull:
      out.status = conn.full_reset(deadline);
      out.reset = out.status.ok();
      break;
    case ResetPolicy::Kind::kSql:
      out.status = conn.execute(policy.sql(), deadline);
      out.reset = out.status.ok();
      break;
  }
  if (out.reset) {
    for (const std::string& sql : init_sql) {
      out.status = conn.execute(sql, deadline);
      if (!out.status.ok()) break;
    }
  }
  return out;
}

}  // namespace internal
}  // namespace dbpool
