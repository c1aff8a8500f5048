// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PostgreSQL-only behaviour against the real server: libpq's connection
// strings, SQLSTATE mapping, and connection state libpq exposes.
#if DBPOOL_TEST_WITH_POSTGRES

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "pg_harness.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

TEST_CASE("a pool built from a postgresql:// URI with two hosts serves queries",
          "[integration][postgres]") {
  // The first host refuses; the pool walks on to the second.
  const std::string dsn =
      absl::StrCat("postgresql://", RequireEnv("DBPOOL_TEST_PG_USER"), "@127.0.0.1:", ClosedPort(),
                   ",", PgHarness::Host(), ":", PgHarness::Port(), "/",
                   RequireEnv("DBPOOL_TEST_PG_DB"), "?application_name=dsn_test");
  auto pool = PgPool::Builder().dsn(dsn).password(RequireEnv("DBPOOL_TEST_PG_PASSWORD")).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  CHECK(lease->endpoint().port == PgHarness::Port());
  CHECK(PgHarness::Query(lease->native(), "SHOW application_name").value_or("") == "dsn_test");
}

TEST_CASE("bad PostgreSQL settings fail at build() with kInvalidArgument",
          "[integration][postgres]") {
  auto bad_dsn = PgPool::Builder().dsn("postgresql://h:5432/db?nonsense=1").build();
  CHECK(bad_dsn.status().code() == absl::StatusCode::kInvalidArgument);
  auto bad_option = PgPool::Builder()
                        .endpoint(PgHarness::Host(), PgHarness::Port())
                        .option("colour", "red")
                        .build();
  CHECK(bad_option.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad_option.status().message()), Catch::Contains("colour"));
  auto no_endpoint = PgPool::Builder().database("x").build();
  CHECK(no_endpoint.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(no_endpoint.status().message()), Catch::Contains("endpoint"));
  auto bad_size =
      PgPool::Builder().endpoint(PgHarness::Host(), PgHarness::Port()).max_size(0).build();
  CHECK(bad_size.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad_size.status().message()), Catch::Contains("max_size"));
}

TEST_CASE("an invalid libpq option value fails the acquire fast as kInvalidArgument",
          "[integration][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("sslmode")).option("sslmode", "sometimes").build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE_FALSE(lease.ok());
  CHECK(lease.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(lease.status().message()), Catch::Contains("sslmode"));
}

TEST_CASE("PgStatus maps server errors by SQLSTATE and keeps it as a payload",
          "[integration][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("sqlstate")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  PGconn* c = lease->native();
  REQUIRE(PgHarness::Query(c, "CREATE TEMP TABLE u (k int PRIMARY KEY)").ok());
  REQUIRE(PgHarness::Query(c, "INSERT INTO u VALUES (1)").ok());

  absl::Status dup = PgHarness::Query(c, "INSERT INTO u VALUES (1)").status();
  CHECK(dup.code() == absl::StatusCode::kAlreadyExists);
  CHECK_THAT(std::string(dup.message()), Catch::Contains("SQLSTATE 23505"));
  REQUIRE(dup.GetPayload(kSqlStatePayload).has_value());
  CHECK(std::string(*dup.GetPayload(kSqlStatePayload)) == "23505");

  CHECK(PgHarness::Query(c, "SELEC 1").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(PgHarness::Query(c, "SELECT 1/0").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(PgHarness::Query(c, "SELECT * FROM no_such_table").status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(PgHarness::Query(c, "SET statement_timeout = '10ms'; SELECT pg_sleep(1)").status().code() ==
        absl::StatusCode::kCancelled);
  CHECK(PgHarness::Query(c, "BEGIN READ ONLY; CREATE TEMP TABLE v (x int)").status().code() ==
        absl::StatusCode::kUnavailable);  // 25006: the failover layer's signal
}

TEST_CASE("a connection left in pipeline mode is closed, not reused", "[integration][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("pipeline")).max_size(1).build();
  REQUIRE(pool.ok());
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    REQUIRE(PQenterPipelineMode(lease->native()) == 1);
  }
  CHECK(pool->stats().closed_busy == 1);
  auto next = pool->acquire();
  REQUIRE(next.ok());
  CHECK(PQpipelineStatus(next->native()) == PQ_PIPELINE_OFF);
  CHECK(PgHarness::Query(next->native(), "SELECT 1").ok());
}

TEST_CASE("a connection returned with an unread result is closed, not reused",
          "[integration][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("unread")).max_size(1).build();
  REQUIRE(pool.ok());
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    REQUIRE(PQsendQuery(lease->native(), "SELECT pg_sleep(0.05)") == 1);
  }
  CHECK(pool->stats().closed_busy == 1);
  auto next = pool->acquire();
  REQUIRE(next.ok());
  CHECK(PgHarness::Query(next->native(), "SELECT 1").value_or("") == "1");
}

}  // namespace
}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TEST_WITH_POSTGRES
