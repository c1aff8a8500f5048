// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "core/session_hygiene.h"

#include "absl/time/clock.h"

namespace dbpool {
namespace internal {

ReturnAction ClassifyReturn(SessionState state, const ResetPolicy& policy) {
  const ResetPolicy::Kind kind = policy.kind();
  if (state == SessionState::kBroken || state == SessionState::kBusy ||
      (state == SessionState::kInTransaction && kind == ResetPolicy::Kind::kNone)) {
    return ReturnAction::kClose;
  }
  if (state == SessionState::kInTransaction || kind == ResetPolicy::Kind::kFull ||
      kind == ResetPolicy::Kind::kSql) {
    return ReturnAction::kRestore;
  }
  return ReturnAction::kReuse;
}

HygieneOutcome RestoreSession(DriverConnection& conn, const ResetPolicy& policy,
                              absl::Duration timeout, absl::Span<const std::string> init_sql) {
  HygieneOutcome out;
  absl::Time deadline = absl::InfinitePast();
  auto get_deadline = [&] {
    if (deadline == absl::InfinitePast()) deadline = absl::Now() + timeout;
    return deadline;
  };
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
      out.status = conn.rollback(get_deadline());
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
      out.status = conn.full_reset(get_deadline());
      out.reset = out.status.ok();
      break;
    case ResetPolicy::Kind::kSql:
      out.status = conn.execute(policy.sql(), get_deadline());
      out.reset = out.status.ok();
      break;
  }
  if (out.reset) {
    for (const std::string& sql : init_sql) {
      out.status = conn.execute(sql, get_deadline());
      if (!out.status.ok()) break;
    }
  }
  return out;
}

}  // namespace internal
}  // namespace dbpool
