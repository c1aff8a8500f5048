// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// libpq's environment variables cannot redirect or block the pool's
// connections: PGHOSTADDR is refused, PGTARGETSESSIONATTRS is overridden.
// Against the shared PostgreSQL primary.
#if DBPOOL_TEST_WITH_POSTGRES

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "pg_harness.h"
#include "scoped_env.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

TEST_CASE("PGHOSTADDR cannot send a pool's connections to another address",
          "[integration][postgres]") {
  ScopedEnv env("PGHOSTADDR", "127.0.0.9");
  auto pool = PgHarness::Builder(UniqueTag("pghostaddr")).build();
  REQUIRE_FALSE(pool.ok());
  CHECK(pool.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(pool.status().message()), Catch::Contains("PGHOSTADDR"));
}

TEST_CASE("PGTARGETSESSIONATTRS=standby does not make the primary unconnectable",
          "[integration][postgres]") {
  ScopedEnv env("PGTARGETSESSIONATTRS", "standby");
  auto pool = PgHarness::Builder(UniqueTag("pgtsa")).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  INFO(lease.status().ToString());
  REQUIRE(lease.ok());
  CHECK(PgHarness::Query(lease->native(), "SELECT 1").ok());
}

}  // namespace
}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TEST_WITH_POSTGRES
