// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The failover pool's lock-free fast path: the routing decision published
// after every change of the endpoint table (failover/route.h), and what an
// acquire does when it cannot use it.
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <thread>

#include "absl/status/status.h"
#include "await.h"
#include "failover/endpoint_table.h"
#include "failover/route.h"
#include "fake_driver.h"
#include "probe_results.h"

namespace dbpool {
namespace testing {
namespace {

using internal::EndpointTable;
using internal::PublishedRoutes;

const Endpoint kA{"a", 1};
const Endpoint kB{"b", 2};

TEST_CASE("published routes follow the table's picks and are empty once closed", "[route]") {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EndpointTable table(2, FailoverPolicy());
  PublishedRoutes routes;
  CHECK_FALSE(routes.Read(Role::kPrimary).has_value());  // nothing published yet
  table.OnProbe(0, Replica(), t0, t0 + absl::Milliseconds(1));
  table.OnProbe(1, Primary(), t0, t0 + absl::Milliseconds(2));
  routes.Publish(table, /*closed=*/false);
  CHECK(routes.Read(Role::kPrimary) == 1u);
  CHECK(routes.Read(Role::kReplica) == 0u);
  CHECK(routes.Read(Role::kAny) == 0u);
  routes.Publish(table, /*closed=*/true);
  CHECK_FALSE(routes.Read(Role::kPrimary).has_value());
  CHECK_FALSE(routes.Read(Role::kReplica).has_value());
  CHECK_FALSE(routes.Read(Role::kAny).has_value());
}

FakePool TwoEndpoints(const FakeServer& server) {
  FakePool::Builder builder;
  builder.dsn(server.dsn()).endpoint(kA.host, kA.port).endpoint(kB.host, kB.port).max_size(2);
  builder.failover(FailoverPolicy()
                       .probe_interval(absl::Milliseconds(10))
                       .probe_timeout(absl::Milliseconds(500))
                       .failure_threshold(2)
                       .recovery_threshold(2));
  auto pool = builder.build();
  REQUIRE(pool.ok());
  return *std::move(pool);
}

int PrimaryPort(const FakePool& pool) {
  AcquireOptions options;
  options.timeout = absl::Seconds(20);
  auto lease = pool.acquire(options);
  return lease.ok() ? lease->endpoint().port : 0;
}

TEST_CASE("the acquire after a failover goes to the new primary, not the published old one",
          "[route][cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kA, Primary(1));
  server->set_probe(kB, Replica(1));
  FakePool pool = TwoEndpoints(*server);
  REQUIRE(PrimaryPort(pool) == kA.port);
  REQUIRE(PrimaryPort(pool) == kA.port);  // now from an idle connection of a, lock-free
  server->set_probe(kA, Replica(2));
  server->set_probe(kB, Primary(2));
  // The table's change is seen under the cluster's lock, by stats(); the
  // very next acquire, not some later one, must follow it.
  REQUIRE(Await([&] { return pool.stats().failovers >= 1; }));
  CHECK(PrimaryPort(pool) == kB.port);
}

TEST_CASE("a closed failover pool routes no acquire", "[route][cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kB, Replica());
  FakePool pool = TwoEndpoints(*server);
  REQUIRE(PrimaryPort(pool) == kA.port);
  pool.close();
  auto lease = pool.acquire();
  REQUIRE_FALSE(lease.ok());
  CHECK(lease.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("an acquire that finds the routed endpoint busy waits on the locked path",
          "[route][cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kB, Replica());
  FakePool pool = TwoEndpoints(*server);
  AcquireOptions options;
  options.timeout = absl::Seconds(20);
  auto first = pool.acquire(options);
  auto second = pool.acquire(options);
  REQUIRE(first.ok());
  REQUIRE(second.ok());  // both of a's connections (max_size 2)
  std::atomic<int> port{-1};
  std::thread waiter([&] {
    auto lease = pool.acquire(options);
    port.store(lease.ok() ? lease->endpoint().port : 0);
  });
  REQUIRE(Await([&] { return pool.stats().waiting == 1; }));
  first->release();
  waiter.join();
  CHECK(port.load() == kA.port);
}

TEST_CASE("an acquire that finds the routed endpoint busy times out with the pool's error",
          "[route][cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kB, Replica());
  FakePool pool = TwoEndpoints(*server);
  AcquireOptions options;
  options.timeout = absl::Seconds(20);
  auto first = pool.acquire(options);
  auto second = pool.acquire(options);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  options.timeout = absl::Milliseconds(50);
  auto third = pool.acquire(options);
  REQUIRE_FALSE(third.ok());
  CHECK(pool.stats().timeouts == 1);  // a's core waited and timed out
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
