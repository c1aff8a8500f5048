// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/outcome.h
//
// What is known of the effect of a failed statement or COMMIT. A failure is
// one of:
//   not applied  the statement never reached the server (the connection was
//                already gone, the connect failed), or the server refused it
//                with an error reply (a read-only server's 25006, MySQL 1290,
//                a serialization failure, a deadlock, 57P01 sent as an
//                error): nothing of it happened, a retry is safe;
//   unknown      the statement or COMMIT was sent and no reply came (the
//                connection was lost while waiting, PostgreSQL's 08007,
//                MySQL 2013): it may or may not have been applied;
//   unclassified a status from elsewhere (the application's own code).
//
// The drivers' status helpers (PgStatus(), MySqlStatus()) and every status
// the pool returns carry the answer as the payload kOutcomePayload. The code
// of an outcome-unknown status stays kUnavailable, as before this payload
// existed, so that code branching on kUnavailable ("connection trouble")
// keeps working; IsOutcomeUnknown() is the one test that tells the cases
// apart. with_retry() and with_transaction() read it to decide what they may
// run again (see dbpool/pool.h).
#ifndef DBPOOL_OUTCOME_H_
#define DBPOOL_OUTCOME_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace dbpool {

// The payload type URL under which a status carries its outcome: the text
// "unknown" or "not_applied".
inline constexpr absl::string_view kOutcomePayload = "dbpool.dev/outcome";

// Outcome
//
// What is known of a failed command's effect (see the file comment).
enum class Outcome {
  kUnclassified,  // no kOutcomePayload: nothing is known
  kNotApplied,    // never sent, or refused by the server: safe to retry
  kUnknown,       // sent, no reply: may have been applied
};

// OutcomeOf()
//
// The outcome `status` carries; kUnclassified for OK and for a status
// without (or with an unrecognised) kOutcomePayload.
inline Outcome OutcomeOf(const absl::Status& status) {
  if (status.ok()) return Outcome::kUnclassified;
  const auto payload = status.GetPayload(kOutcomePayload);
  if (!payload.has_value()) return Outcome::kUnclassified;
  if (*payload == "unknown") return Outcome::kUnknown;
  if (*payload == "not_applied") return Outcome::kNotApplied;
  return Outcome::kUnclassified;
}

// WithOutcome()
//
// `status` with its kOutcomePayload set to `outcome` (kUnclassified removes
// it). Code and message are kept. OK stays OK (an OK status holds no
// payload).
inline absl::Status WithOutcome(absl::Status status, Outcome outcome) {
  if (status.ok()) return status;
  switch (outcome) {
    case Outcome::kUnclassified:
      status.ErasePayload(kOutcomePayload);
      break;
    case Outcome::kNotApplied:
      status.SetPayload(kOutcomePayload, absl::Cord("not_applied"));
      break;
    case Outcome::kUnknown:
      status.SetPayload(kOutcomePayload, absl::Cord("unknown"));
      break;
  }
  return status;
}

// IsOutcomeUnknown()
//
// True for exactly the failures whose statement or COMMIT was sent and got
// no reply: the write may have happened. Such a status has code kUnavailable
// when it comes from a driver helper or the pool. False for OK.
inline bool IsOutcomeUnknown(const absl::Status& status) {
  return OutcomeOf(status) == Outcome::kUnknown;
}

// MarkOutcomeUnknown()
//
// `status` marked outcome-unknown (WithOutcome(status, Outcome::kUnknown)):
// for application code that loses a reply through other means than the
// driver helpers and wants with_retry() to treat it so.
inline absl::Status MarkOutcomeUnknown(absl::Status status) {
  return WithOutcome(std::move(status), Outcome::kUnknown);
}

}  // namespace dbpool

#endif  // DBPOOL_OUTCOME_H_
