// Temporary measurement, not committed.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "harnesses.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

TEST_CASE("cost of with_transaction", "[cost]") {
  auto pool = PgHarness::Builder(UniqueTag("cost")).max_size(1).build();
  REQUIRE(pool.ok());
  {
    auto l = pool->acquire();
    REQUIRE(PgHarness::Query(l->native(), "DROP TABLE IF EXISTS cost_t; CREATE TABLE cost_t (a int, b int)").ok());
  }
  auto three = [](PGconn* c, int i) -> absl::Status {
    for (int k = 0; k < 3; ++k) {
      absl::Status s = PgHarness::Query(c, "INSERT INTO cost_t VALUES (" + std::to_string(i) + ", " + std::to_string(k) + ")").status();
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  };
  const int n = 3000;
  for (int round = 0; round < 4; ++round) {
    absl::Time t0 = absl::Now();
    for (int i = 0; i < n; ++i) {
      auto l = pool->acquire();
      REQUIRE(PgHarness::Query(l->native(), "BEGIN").ok());
      REQUIRE(three(l->native(), i).ok());
      REQUIRE(PgHarness::Query(l->native(), "COMMIT").ok());
    }
    const double hand = absl::ToDoubleMicroseconds(absl::Now() - t0) / n;
    t0 = absl::Now();
    for (int i = 0; i < n; ++i) {
      REQUIRE(pool->with_transaction([&](PgLease& l) { return three(l.native(), i); }).ok());
    }
    const double helper = absl::ToDoubleMicroseconds(absl::Now() - t0) / n;
    std::printf("round %d: hand-written %.1f us/txn, with_transaction %.1f us/txn (+%.1f%%)\n", round, hand, helper, 100.0 * (helper - hand) / hand);
  }
  auto l = pool->acquire();
  (void)PgHarness::Query(l->native(), "DROP TABLE cost_t");
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
