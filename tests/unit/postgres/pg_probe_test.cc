// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The election probe's answer, as PostgreSQL gives it. No server needed
// (the query itself runs in the integration suites).
#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "postgres/pg_connection.h"

namespace dbpool {
namespace postgres_internal {
namespace {

TEST_CASE("a primary that is not fenced is writable and reports its timeline", "[postgres]") {
  absl::StatusOr<ProbeResult> r = ParsePgProbe("f,off,off,3,");
  REQUIRE(r.ok());
  CHECK(r->role == Role::kPrimary);
  CHECK_FALSE(r->read_only);
  CHECK(r->writable());
  CHECK(r->timeline == 3);
}

TEST_CASE("default_transaction_read_only or transaction_read_only fences a primary", "[postgres]") {
  for (const char* answer : {"f,on,on,1,", "f,off,on,1,", "f,on,off,1,"}) {
    absl::StatusOr<ProbeResult> r = ParsePgProbe(answer);
    REQUIRE(r.ok());
    CHECK(r->role == Role::kPrimary);
    CHECK(r->read_only);
    CHECK_FALSE(r->writable());
  }
}

TEST_CASE("a replica without a visible WAL receiver has an unknown timeline", "[postgres]") {
  absl::StatusOr<ProbeResult> r = ParsePgProbe("t,off,on,,");
  REQUIRE(r.ok());
  CHECK(r->role == Role::kReplica);
  CHECK_FALSE(r->writable());
  CHECK_FALSE(r->timeline.has_value());
}

TEST_CASE("a replica reports its replay lag; a primary none", "[postgres]") {
  absl::StatusOr<ProbeResult> behind = ParsePgProbe("t,off,on,2,12.5");
  REQUIRE(behind.ok());
  CHECK(behind->replay_lag == absl::Milliseconds(12500));
  absl::StatusOr<ProbeResult> caught_up = ParsePgProbe("t,off,on,2,0");
  REQUIRE(caught_up.ok());
  CHECK(caught_up->replay_lag == absl::ZeroDuration());
  // A replica whose clock is behind its primary's: no negative lag.
  absl::StatusOr<ProbeResult> skewed = ParsePgProbe("t,off,on,2,-0.25");
  REQUIRE(skewed.ok());
  CHECK(skewed->replay_lag == absl::ZeroDuration());
  absl::StatusOr<ProbeResult> unknown = ParsePgProbe("t,off,on,2,");
  REQUIRE(unknown.ok());
  CHECK_FALSE(unknown->replay_lag.has_value());
  absl::StatusOr<ProbeResult> primary = ParsePgProbe("f,off,off,2,");
  REQUIRE(primary.ok());
  CHECK_FALSE(primary->replay_lag.has_value());
}

TEST_CASE("an unexpected probe answer is an error naming it", "[postgres]") {
  for (const char* answer :
       {"", "t", "x,off,off,1,", "f,off,off,-1,", "f,off,off,1", "f,off,off,1,,2", "t,off,on,1,x",
        "t,off,on,1,nan", "t,off,on,1,1e300"}) {
    absl::StatusOr<ProbeResult> r = ParsePgProbe(answer);
    CHECK(r.status().code() == absl::StatusCode::kUnknown);
  }
}

TEST_CASE("the probe reads recovery, both read-only settings and the timeline in one query",
          "[postgres]") {
  const std::string sql = kPgProbeSql;
  CHECK(sql.find("pg_is_in_recovery") != std::string::npos);
  CHECK(sql.find("'default_transaction_read_only'") != std::string::npos);
  CHECK(sql.find("'transaction_read_only'") != std::string::npos);
  CHECK(sql.find("pg_walfile_name(pg_catalog.pg_current_wal_lsn())") != std::string::npos);
  CHECK(sql.find("received_tli") != std::string::npos);
  CHECK(sql.find("pg_last_xact_replay_timestamp()") != std::string::npos);
  CHECK(sql.find(';') == std::string::npos);  // one statement, one round trip
}

}  // namespace
}  // namespace postgres_internal
}  // namespace dbpool
