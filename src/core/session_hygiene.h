// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Session hygiene: what a returned connection goes through before the next
// user may have it. Shared by every driver.
#ifndef DBPOOL_CORE_SESSION_HYGIENE_H_
#define DBPOOL_CORE_SESSION_HYGIENE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "dbpool/driver.h"
#include "dbpool/reset_policy.h"

namespace dbpool {
namespace internal {

// What RestoreSession() did.
struct HygieneOutcome {
  absl::Status status;       // OK: the connection may be reused; else close it
  bool rolled_back = false;  // a transaction was rolled back
  bool reset = false;        // a full or custom reset ran
};

// What a returned connection needs, decided locally (no I/O).
enum class ReturnAction {
  kClose,    // broken, busy, or in a transaction under ResetPolicy::None
  kReuse,    // clean: back to the idle set as it is
  kRestore,  // a rollback and/or the policy's reset: RestoreSession()
};
ReturnAction ClassifyReturn(SessionState state, const ResetPolicy& policy);

// Broken or busy connections fail at once; an open transaction is rolled
// back (unless the policy is None, where it fails); then the policy's full
// or custom reset runs, followed by `init_sql` again (a reset wipes what it
// set). The round trips together give up after `timeout`; the clock is read
// only when a round trip is needed (an idle session costs none).
HygieneOutcome RestoreSession(DriverConnection& conn, const ResetPolicy& policy,
                              absl::Duration timeout, absl::Span<const std::string> init_sql = {});

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_SESSION_HYGIENE_H_
