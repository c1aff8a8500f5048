// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The failover layer end to end against the fake driver: probers feed the
// endpoint table, acquires follow its election.
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "await.h"
#include "fake_driver.h"
#include "probe_results.h"

namespace dbpool {
namespace testing {
namespace {

const Endpoint kA{"a", 1};
const Endpoint kB{"b", 2};

class FailoverRecorder : public PoolListener {
 public:
  void on_failover(const FailoverEvent& e) override {
    absl::MutexLock lock(&mu_);
    events_.push_back(e);
  }
  std::vector<FailoverEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  absl::Mutex mu_;
  std::vector<FailoverEvent> events_ ABSL_GUARDED_BY(mu_);
};

FailoverPolicy FastProbes() {
  return FailoverPolicy()
      .probe_interval(absl::Milliseconds(10))
      .probe_timeout(absl::Milliseconds(500))
      .failure_threshold(2)
      .recovery_threshold(2)
      .backoff_initial(absl::Milliseconds(1))
      .backoff_max(absl::Milliseconds(10));
}

FakePool TwoEndpoints(const FakeServer& server, FailoverPolicy policy,
                      std::shared_ptr<PoolListener> listener = nullptr) {
  FakePool::Builder builder;
  builder.dsn(server.dsn()).endpoint(kA.host, kA.port).endpoint(kB.host, kB.port).max_size(2);
  builder.failover(policy);
  if (listener != nullptr) builder.listener(std::move(listener));
  auto pool = builder.build();
  REQUIRE(pool.ok());
  return *std::move(pool);
}

// The port of the endpoint serving acquire(role) right now, or 0.
int PortFor(const FakePool& pool, Role role, absl::Duration timeout = absl::Milliseconds(20)) {
  AcquireOptions options;
  options.role = role;
  options.timeout = timeout;
  auto lease = pool.acquire(options);
  return lease.ok() ? lease->endpoint().port : 0;
}

TEST_CASE("writes go to the writable endpoint and reads to the replica", "[cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kA, Replica(1));
  server->set_probe(kB, Primary(1));
  FakePool pool = TwoEndpoints(*server, FastProbes());
  CHECK(PortFor(pool, Role::kPrimary, absl::Seconds(20)) == kB.port);
  CHECK(PortFor(pool, Role::kReplica, absl::Seconds(20)) == kA.port);
}

TEST_CASE("two writable endpoints fail writes closed, naming both, with an event and a stat",
          "[cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kA, Primary());
  server->set_probe(kB, Primary());
  auto recorder = std::make_shared<FailoverRecorder>();
  FakePool pool = TwoEndpoints(*server, FastProbes(), recorder);
  REQUIRE(Await([&] { return pool.stats().split_brain; }));
  AcquireOptions options;
  options.timeout = absl::Milliseconds(50);  // waits, as with no primary, then fails closed
  auto lease = pool.acquire(options);
  REQUIRE_FALSE(lease.ok());
  CHECK(lease.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(lease.status().message(), "split brain"));
  CHECK(absl::StrContains(lease.status().message(), "a:1"));
  CHECK(absl::StrContains(lease.status().message(), "b:2"));
  CHECK(pool.stats().split_brains == 1);
  REQUIRE(Await([&] { return !recorder->events().empty(); }));
  const FailoverEvent e = recorder->events().front();
  CHECK(e.split_brain);
  CHECK(e.to.empty());
  CHECK(e.writable == std::vector<std::string>{"a:1", "b:2"});
  // Once one of them is a replica, writes move on.
  server->set_probe(kB, Replica());
  REQUIRE(Await([&] { return PortFor(pool, Role::kPrimary) == kA.port; }));
  CHECK_FALSE(pool.stats().split_brain);
}

TEST_CASE("with when_no_primary kFailFast a split brain fails writes at once", "[cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kA, Primary(4));
  server->set_probe(kB, Primary(4));
  FakePool pool =
      TwoEndpoints(*server, FastProbes().when_no_primary(FailoverPolicy::NoPrimary::kFailFast));
  REQUIRE(Await([&] { return pool.stats().split_brain; }));
  AcquireOptions options;
  options.timeout = absl::Seconds(60);
  const absl::Time start = absl::Now();
  auto lease = pool.acquire(options);
  CHECK(absl::Now() - start < absl::Seconds(30));
  REQUIRE_FALSE(lease.ok());
  CHECK(lease.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(lease.status().message(), "split brain"));
}

TEST_CASE("a split brain is logged at kWarning naming both endpoints", "[cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kA, Primary());
  server->set_probe(kB, Primary());
  auto lines = std::make_shared<absl::Mutex>();
  auto logged = std::make_shared<std::vector<std::string>>();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .endpoint(kA.host, kA.port)
                  .endpoint(kB.host, kB.port)
                  .failover(FastProbes())
                  .log_sink(
                      [lines, logged](LogLevel, absl::string_view line) {
                        absl::MutexLock lock(lines.get());
                        logged->emplace_back(line);
                      },
                      LogLevel::kWarning)
                  .build();
  REQUIRE(pool.ok());
  auto has_line = [&] {
    absl::MutexLock lock(lines.get());
    for (const std::string& l : *logged) {
      if (absl::StrContains(l, "split brain: a:1 and b:2")) return true;
    }
    return false;
  };
  CHECK(Await(has_line));
}

TEST_CASE("a stale old primary is not re-elected when the new primary stops answering",
          "[cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kA, Primary(1));
  server->set_probe(kB, Replica(1));
  FakePool pool = TwoEndpoints(*server, FastProbes());
  REQUIRE(PortFor(pool, Role::kPrimary, absl::Seconds(20)) == kA.port);
  // B is promoted while A, unfenced, stays writable on the old timeline.
  server->set_probe(kB, Primary(2));
  REQUIRE(Await([&] { return PortFor(pool, Role::kPrimary) == kB.port; }));
  server->set_probe(kB, absl::UnavailableError("fake: b is gone"));
  REQUIRE(Await([&] {
    const PoolStats s = pool.stats();
    return s.endpoints.size() == 2 && !s.endpoints[1].up;
  }));
  const int a_probes = server->good_probes(kA);
  REQUIRE(Await([&] { return server->good_probes(kA) >= a_probes + 5; }));
  for (int i = 0; i < 5; ++i) CHECK(PortFor(pool, Role::kPrimary) == 0);
  CHECK(PortFor(pool, Role::kReplica) != kA.port);
}

TEST_CASE("at start the first endpoint to answer does not win over a newer primary", "[cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kA, Primary(2));
  server->set_probe(kB, Primary(1));
  server->block_probes(kA);  // A answers late
  FakePool pool = TwoEndpoints(*server, FastProbes().probe_timeout(absl::Seconds(10)));
  REQUIRE(Await([&] { return server->good_probes(kB) >= 3; }));
  CHECK(PortFor(pool, Role::kPrimary) == 0);  // not B: A was not heard yet
  server->unblock_probes(kA);
  CHECK(PortFor(pool, Role::kPrimary, absl::Seconds(20)) == kA.port);
  CHECK(pool.stats().failovers == 0);
}

TEST_CASE("an endpoint back from down takes traffic only after recovery_threshold good probes",
          "[cluster]") {
  auto server = FakeServer::Create();
  server->set_probe(kA, Primary(1));
  server->set_probe(kB, Replica(1));
  FakePool pool = TwoEndpoints(*server, FastProbes().recovery_threshold(4));
  REQUIRE(PortFor(pool, Role::kReplica, absl::Seconds(20)) == kB.port);
  server->set_probe(kB, absl::UnavailableError("fake: b is gone"));
  REQUIRE(Await([&] { return !pool.stats().endpoints[1].up; }));
  const int before = server->good_probes(kB);
  server->set_probe(kB, Replica(1));
  REQUIRE(Await([&] { return pool.stats().endpoints[1].up; }));
  CHECK(server->good_probes(kB) - before >= 4);
  CHECK(PortFor(pool, Role::kReplica) == kB.port);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
