// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Pool::evict(): idle connections close now, leased ones on return.
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "await.h"
#include "fake_driver.h"

namespace dbpool {
namespace testing {
namespace {

FakePool Build(const FakeServer& server, int max_size, std::shared_ptr<PoolListener> listener) {
  FakePool::Builder builder;
  builder.dsn(server.dsn()).max_size(max_size);
  if (listener != nullptr) builder.listener(std::move(listener));
  auto pool = builder.build();
  REQUIRE(pool.ok());
  return *std::move(pool);
}

class CloseCounter : public PoolListener {
 public:
  void on_close(const CloseEvent& e) override {
    if (e.cause == CloseCause::kEvicted) evicted.fetch_add(1);
  }
  std::atomic<int> evicted{0};
};

TEST_CASE("evict() closes idle connections now and leased ones when they return", "[evict]") {
  auto server = FakeServer::Create();
  auto counter = std::make_shared<CloseCounter>();
  FakePool pool = Build(*server, 3, counter);
  std::vector<FakeLease> leases;
  for (int i = 0; i < 3; ++i) {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    leases.push_back(*std::move(lease));
  }
  const int held_id = leases[0].native()->id;
  leases.pop_back();
  leases.pop_back();
  REQUIRE(pool.stats().idle == 2);

  pool.evict();
  PoolStats s = pool.stats();
  CHECK(s.closed_evicted == 2);
  CHECK(s.idle == 0);
  CHECK(s.in_use == 1);
  CHECK(leases[0].native()->Query().ok());  // a lease in use is never touched

  leases.clear();
  s = pool.stats();
  CHECK(s.closed_evicted == 3);
  CHECK(s.total == 0);
  CHECK(server->open_connections() == 0);
  CHECK(counter->evicted.load() == 3);

  // New connections are kept.
  auto lease = pool.acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->id != held_id);
  lease->release();
  CHECK(pool.stats().idle == 1);
  CHECK(pool.stats().closed_evicted == 3);
}

TEST_CASE("a connection that was being opened during evict() is never handed out", "[evict]") {
  auto server = FakeServer::Create();
  FakePool pool = Build(*server, 2, nullptr);
  server->block_connects();
  std::atomic<int> got_id{0};
  std::thread waiter([&] {
    AcquireOptions options;
    options.timeout = absl::Seconds(20);
    auto lease = pool.acquire(options);
    if (lease.ok()) got_id.store(lease->native()->id);
  });
  const bool connecting = Await([&] { return server->connect_attempts() >= 1; });
  pool.evict();
  server->unblock_connects();
  waiter.join();
  REQUIRE(connecting);
  CHECK(got_id.load() == 2);  // the first connection began before evict(): closed unused
  CHECK(pool.stats().closed_evicted == 1);
}

TEST_CASE("evict(endpoint) retires only that endpoint's connections", "[evict]") {
  auto server = FakeServer::Create();
  ProbeResult replica;
  replica.role = Role::kReplica;
  server->set_probe(Endpoint{"b", 2}, replica);
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .endpoint("a", 1)
                  .endpoint("b", 2)
                  .failover(FailoverPolicy().probe_interval(absl::Milliseconds(10)))
                  .build();
  REQUIRE(pool.ok());
  AcquireOptions wait;
  wait.timeout = absl::Seconds(20);
  {
    wait.role = Role::kPrimary;
    auto on_a = pool->acquire(wait);
    REQUIRE(on_a.ok());
    CHECK(on_a->endpoint().port == 1);
    wait.role = Role::kReplica;
    auto on_b = pool->acquire(wait);
    REQUIRE(on_b.ok());
    CHECK(on_b->endpoint().port == 2);
  }
  REQUIRE(pool->evict(Endpoint{"b", 2}).ok());
  const PoolStats s = pool->stats();
  CHECK(s.closed_evicted == 1);
  REQUIRE(s.endpoints.size() == 2);
  CHECK(s.endpoints[0].idle == 1);
  CHECK(s.endpoints[1].idle == 0);

  const absl::Status unknown = pool->evict(Endpoint{"c", 3});
  CHECK(unknown.code() == absl::StatusCode::kNotFound);
  CHECK(unknown.message().find("c:3") != absl::string_view::npos);
}

TEST_CASE("evict() racing acquires and releases leaves only connections opened after it",
          "[evict]") {
  auto server = FakeServer::Create();
  FakePool pool = Build(*server, 4, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      while (!stop.load()) {
        auto lease = pool.acquire();
        if (!lease.ok() || !lease->native()->Query().ok()) failures.fetch_add(1);
      }
    });
  }
  bool reconnected = true;
  for (int i = 0; i < 50 && reconnected; ++i) {
    // Every connection open at the evict() is retired: new ones follow.
    const int connects = server->connects();
    pool.evict();
    reconnected = Await([&] { return server->connects() > connects; });
  }
  stop.store(true);
  for (std::thread& w : workers) w.join();
  CHECK(reconnected);
  CHECK(failures.load() == 0);
  REQUIRE(Await([&] { return pool.stats().connecting == 0; }));
  pool.evict();
  const PoolStats s = pool.stats();
  CHECK(s.total == 0);
  CHECK(s.closed_evicted > 0);
  CHECK(s.closed_evicted + static_cast<uint64_t>(s.total) == s.created);
}

// One name (a DNS record, a proxy) whose server was demoted while four
// pooled sessions stayed open, and which now leads to the new primary.
// write() is rejected as read-only on the stale connections.
struct DemotedBehindOneName {
  std::shared_ptr<FakeServer> server = FakeServer::Create();
  absl::StatusOr<FakePool> pool =
      FakePool::Builder()
          .dsn(server->dsn())
          .max_size(4)
          .failover(FailoverPolicy().max_attempts(3).backoff_initial(absl::Milliseconds(1)))
          .build();
  int stale_up_to = 0;
  int rejected = 0;
  int written = 0;

  DemotedBehindOneName() {
    REQUIRE(pool.ok());
    {
      std::vector<FakeLease> leases;
      for (int i = 0; i < 4; ++i) {
        auto lease = pool->acquire();
        REQUIRE(lease.ok());
        leases.push_back(*std::move(lease));
      }
    }
    REQUIRE(pool->stats().idle == 4);
    ProbeResult read_only;
    read_only.read_only = true;
    stale_up_to = server->demote_open_connections(Endpoint{"fake", 1}, read_only);
  }
  absl::Status write(FakeLease& lease) {
    if (lease.native()->id <= stale_up_to) {
      ++rejected;
      return absl::UnavailableError("25006: cannot execute INSERT in a read-only transaction");
    }
    ++written;
    return absl::OkStatus();
  }
};

TEST_CASE("a read-only rejection with one endpoint retires the connections to the demoted server",
          "[evict]") {
  DemotedBehindOneName t;
  auto write = [&](FakeLease& lease) { return t.write(lease); };
  CHECK(t.pool->with_retry(write).ok());
  CHECK(t.rejected == 1);  // the other three stale connections were retired, not tried
  const PoolStats s = t.pool->stats();
  CHECK(s.closed_evicted == 3);
  CHECK(s.closed_discarded == 1);
  CHECK(t.pool->with_retry(write).ok());
  CHECK(t.rejected == 1);
}

TEST_CASE(
    "a read-only rejection inside with_transaction retires the connections to the demoted server "
    "and runs fn again",
    "[evict][transaction]") {
  // The rejected statement rolled back, so fn may run again, and the role
  // is re-checked once the rollback has left the session idle.
  DemotedBehindOneName t;
  auto write = [&](FakeLease& lease) { return t.write(lease); };
  CHECK(t.pool->with_transaction(write).ok());
  CHECK(t.rejected == 1);  // the other three stale connections were retired, not tried
  CHECK(t.written == 1);
  CHECK(t.pool->stats().closed_evicted == 3);
  CHECK(t.pool->with_transaction(write).ok());
  CHECK(t.rejected == 1);
}

TEST_CASE(
    "a read-only rejection on a server that is still read-only for new connections "
    "retires nothing",
    "[evict]") {
  auto server = FakeServer::Create();
  ProbeResult replica;
  replica.role = Role::kReplica;
  server->set_probe(Endpoint{"fake", 1}, replica);
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(2).build();
  REQUIRE(pool.ok());
  {
    auto a = pool->acquire();
    auto b = pool->acquire();
    REQUIRE(a.ok());
    REQUIRE(b.ok());
  }
  auto write = [](FakeLease&) { return absl::UnavailableError("25006: read-only"); };
  CHECK_FALSE(pool->with_retry(write).ok());
  CHECK(pool->stats().closed_evicted == 0);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
