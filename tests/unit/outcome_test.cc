// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The outcome payload of dbpool/outcome.h.
#include "dbpool/outcome.h"

#include <catch2/catch.hpp>

#include "absl/status/status.h"

namespace dbpool {
namespace {

TEST_CASE("a status marked outcome-unknown keeps its code and message", "[outcome]") {
  const absl::Status lost = MarkOutcomeUnknown(absl::UnavailableError("reply lost"));
  CHECK(IsOutcomeUnknown(lost));
  CHECK(OutcomeOf(lost) == Outcome::kUnknown);
  CHECK(lost.code() == absl::StatusCode::kUnavailable);
  CHECK(lost.message() == "reply lost");
  REQUIRE(lost.GetPayload(kOutcomePayload).has_value());
  CHECK(std::string(*lost.GetPayload(kOutcomePayload)) == "unknown");
}

TEST_CASE("only outcome-unknown statuses answer IsOutcomeUnknown", "[outcome]") {
  CHECK_FALSE(IsOutcomeUnknown(absl::OkStatus()));
  CHECK_FALSE(IsOutcomeUnknown(absl::UnavailableError("plain")));
  const absl::Status refused =
      WithOutcome(absl::UnavailableError("read-only"), Outcome::kNotApplied);
  CHECK_FALSE(IsOutcomeUnknown(refused));
  CHECK(OutcomeOf(refused) == Outcome::kNotApplied);
  CHECK(OutcomeOf(absl::UnavailableError("plain")) == Outcome::kUnclassified);
  absl::Status odd = absl::UnavailableError("x");
  odd.SetPayload(kOutcomePayload, absl::Cord("maybe"));
  CHECK(OutcomeOf(odd) == Outcome::kUnclassified);
}

TEST_CASE("WithOutcome replaces or removes the outcome and leaves OK alone", "[outcome]") {
  absl::Status s = MarkOutcomeUnknown(absl::InternalError("x"));
  s = WithOutcome(s, Outcome::kNotApplied);
  CHECK(OutcomeOf(s) == Outcome::kNotApplied);
  s = WithOutcome(s, Outcome::kUnclassified);
  CHECK_FALSE(s.GetPayload(kOutcomePayload).has_value());
  CHECK(MarkOutcomeUnknown(absl::OkStatus()).ok());
  CHECK_FALSE(IsOutcomeUnknown(MarkOutcomeUnknown(absl::OkStatus())));
}

}  // namespace
}  // namespace dbpool
