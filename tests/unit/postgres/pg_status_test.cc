// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What PgStatus() says of a failed command's effect. No server needed: a
// connection that failed to connect stands for a lost one.
#include "postgres/pg_status.h"

#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <memory>

#include "absl/status/status.h"
#include "dbpool/outcome.h"
#include "dbpool/postgres.h"

namespace dbpool {
namespace postgres_internal {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};

// A PGconn in CONNECTION_BAD, as one is after its connection was lost.
std::unique_ptr<PGconn, ConnCloser> BadConnection() {
  std::unique_ptr<PGconn, ConnCloser> conn(
      PQconnectdb("host=/nonexistent/dbpool-test-dir port=1 connect_timeout=1"));
  REQUIRE(conn != nullptr);
  REQUIRE(PQstatus(conn.get()) == CONNECTION_BAD);
  return conn;
}

TEST_CASE("PgOutcome: 08007 is outcome-unknown, every other SQLSTATE was not applied",
          "[postgres][status][outcome]") {
  CHECK(PgOutcome("08007", true, false) == Outcome::kUnknown);
  CHECK(PgOutcome("08007", true, true) == Outcome::kUnknown);
  // Refused or rolled back by the server (an ErrorResponse), connection
  // still up or gone after it.
  for (const char* state :
       {"25006", "40001", "40P01", "57P01", "57P02", "57P03", "23505", "42601", "53300", "08P01"}) {
    INFO(state);
    CHECK(PgOutcome(state, true, true) == Outcome::kNotApplied);
    CHECK(PgOutcome(state, true, false) == Outcome::kNotApplied);
  }
  // The connect errors never concern a statement.
  for (const char* state : {"08001", "08004", "08006"}) {
    INFO(state);
    CHECK(PgOutcome(state, false, false) == Outcome::kNotApplied);
  }
}

TEST_CASE("PgOutcome without SQLSTATE: a lost reply is unknown, an unsent command is not",
          "[postgres][status][outcome]") {
  CHECK(PgOutcome(nullptr, /*got_result=*/true, /*connection_ok=*/false) == Outcome::kUnknown);
  CHECK(PgOutcome(nullptr, /*got_result=*/false, /*connection_ok=*/false) == Outcome::kNotApplied);
  CHECK(PgOutcome(nullptr, true, true) == Outcome::kUnclassified);
}

TEST_CASE("PgStatus of a fatal result on a lost connection is outcome-unknown kUnavailable",
          "[postgres][status][outcome]") {
  auto conn = BadConnection();
  std::unique_ptr<PGresult, ResultClearer> result(
      PQmakeEmptyPGresult(conn.get(), PGRES_FATAL_ERROR));
  REQUIRE(result != nullptr);
  const absl::Status s = PgStatus(result.get(), conn.get());
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(IsOutcomeUnknown(s));
}

TEST_CASE("PgStatus of a null result on a lost connection was not applied",
          "[postgres][status][outcome]") {
  auto conn = BadConnection();
  const absl::Status s = PgStatus(nullptr, conn.get());
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(OutcomeOf(s) == Outcome::kNotApplied);
  CHECK_FALSE(IsOutcomeUnknown(s));
}

TEST_CASE("PgStatus without the connection cannot classify a result lacking a SQLSTATE",
          "[postgres][status][outcome]") {
  std::unique_ptr<PGresult, ResultClearer> result(PQmakeEmptyPGresult(nullptr, PGRES_FATAL_ERROR));
  REQUIRE(result != nullptr);
  const absl::Status s = PgStatus(result.get());
  CHECK(s.code() == absl::StatusCode::kUnknown);
  CHECK(OutcomeOf(s) == Outcome::kUnclassified);
  CHECK(OutcomeOf(PgStatus(static_cast<const PGconn*>(nullptr))) == Outcome::kUnclassified);
}

}  // namespace
}  // namespace postgres_internal
}  // namespace dbpool
