// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Failover against real MariaDB: two servers of the test's own, the writable
// one blackholed through the fault proxy, the other made writable with
// SET GLOBAL read_only = OFF while writers keep going through with_retry().
#if DBPOOL_TEST_WITH_MYSQL

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "failover_workload.h"
#include "fault_proxy.h"
#include "my_harness.h"
#include "mysql/my_calls.h"
#include "scratch_servers.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

std::unique_ptr<MYSQL, void (*)(MYSQL*)> ConnectTo(const ScratchServers& s) {
  MYSQL* m = mysql_init(nullptr);
  if (mysql_real_connect(m, "127.0.0.1", s.Get("DBPOOL_TEST_MY_USER").c_str(),
                         s.Get("DBPOOL_TEST_MY_PASSWORD").c_str(),
                         s.Get("DBPOOL_TEST_MY_DB").c_str(), s.Port("DBPOOL_TEST_MY_PORT"), nullptr,
                         0) == nullptr) {
    FAIL("cannot connect to scratch MariaDB: " << mysql_error(m));
  }
  return {m, mysql_close};
}

TEST_CASE("a blackholed MariaDB primary fails over to the server made writable",
          "[integration][failover][mysql]") {
  ScratchServers a("mysql");
  ScratchServers b("mysql");
  auto admin_a = ConnectTo(a);
  auto admin_b = ConnectTo(b);
  for (MYSQL* m : {admin_a.get(), admin_b.get()}) {
    REQUIRE(MyHarness::Query(m,
                             "CREATE TABLE failover_writes (writer int, seq int, "
                             "PRIMARY KEY (writer, seq))")
                .ok());
  }
  REQUIRE(MyHarness::Query(admin_b.get(), "SET GLOBAL read_only = ON").ok());

  auto proxy = FaultProxy::Start("127.0.0.1", a.Port("DBPOOL_TEST_MY_PORT"));
  REQUIRE(proxy.ok());
  const int b_port = b.Port("DBPOOL_TEST_MY_PORT");
  MySqlPool::Builder builder;
  builder.endpoint("127.0.0.1", (*proxy)->port())
      .endpoint("127.0.0.1", b_port)
      .database(a.Get("DBPOOL_TEST_MY_DB"))
      .user(a.Get("DBPOOL_TEST_MY_USER"))
      .password(a.Get("DBPOOL_TEST_MY_PASSWORD"))
      .max_size(4);
  if (!mysql_internal::CallsAreNonBlocking()) {
    // The blocking path (Oracle's library) has no deadline of its own on a
    // round trip: read_timeout and write_timeout are the bound that lets
    // the prober see a stalled server, as docs/mysql.md tells its users.
    builder.option("read_timeout", "1").option("write_timeout", "1");
  }
  auto pool = builder.build();
  REQUIRE(pool.ok());
  FailoverWorkload<MyHarness> load(*pool, /*writers=*/8, /*readers=*/2);
  load.Start();
  REQUIRE(load.AwaitWritesAfter(absl::InfinitePast(), 50));
  for (const auto& w : load.WritesAfter(absl::InfinitePast())) CHECK(w.port == (*proxy)->port());

  REQUIRE((*proxy)->set_mode(FaultProxy::Mode::kStall).ok());
  const absl::Time fault = absl::Now();
  REQUIRE(MyHarness::Query(admin_b.get(), "SET GLOBAL read_only = OFF").ok());
  REQUIRE(load.AwaitWritesAfter(fault, 100));
  REQUIRE(load.Stop());  // no thread left blocked on the stalled socket

  const auto after = load.WritesAfter(fault);
  absl::Time first = absl::InfiniteFuture();
  for (const auto& w : after) first = std::min(first, w.done);
  WARN("blackholed MariaDB primary: first write " << absl::FormatDuration(first - fault)
                                                  << " after the fault");
  for (const absl::Status& e : load.errors()) UNSCOPED_INFO(e.ToString());
  CHECK(load.errors().empty());
  for (const absl::Status& st : load.outcome_unknown()) UNSCOPED_INFO(st.ToString());
  CHECK(load.outcome_unknown().size() <= static_cast<size_t>(load.writers()));
  CHECK(load.read_errors().empty());
  for (const auto& w : after) CHECK(w.port == b_port);

  // Every write made after the fault is stored on the new primary.
  REQUIRE(mysql_query(admin_b.get(), "SELECT writer, seq FROM failover_writes") == 0);
  MYSQL_RES* res = mysql_store_result(admin_b.get());
  REQUIRE(res != nullptr);
  std::set<std::pair<int, int>> stored;
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    int w = 0, q = 0;
    REQUIRE(absl::SimpleAtoi(row[0], &w));
    REQUIRE(absl::SimpleAtoi(row[1], &q));
    stored.emplace(w, q);
  }
  mysql_free_result(res);
  int missing = 0;
  for (const auto& w : after) missing += stored.count({w.writer, w.seq}) == 0 ? 1 : 0;
  CHECK(missing == 0);
  CHECK(load.max_total() <= 8);
  const PoolStats s = pool->stats();
  CHECK(s.failovers >= 1);
  REQUIRE(s.endpoints.size() == 2);
  CHECK(s.endpoints[1].role == "primary");
}

}  // namespace
}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TEST_WITH_MYSQL
