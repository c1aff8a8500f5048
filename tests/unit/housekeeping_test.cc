// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Housekeeping: PlanHousekeeping() as a pure function of time and idle
// slots, then idle_timeout, max_lifetime and keepalive end to end against
// the fake driver.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "core/housekeeping_plan.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using internal::HousekeepingPlan;
using internal::IdleInfo;
using internal::kMaxHousekeepingPause;
using internal::kMinHousekeepingPause;
using internal::PlanHousekeeping;
using testing::Await;
using testing::FakeLease;
using testing::FakePool;
using testing::FakeServer;

using Indexes = std::vector<size_t>;

// A fixed "now", far from any epoch edge.
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

// Options with every housekeeping knob off; each test turns on what it needs.
PoolOptions Quiet() {
  PoolOptions o;
  o.idle_timeout = absl::ZeroDuration();
  o.max_lifetime = absl::ZeroDuration();
  o.keepalive_interval = absl::ZeroDuration();
  o.min_idle = 0;
  return o;
}

// An idle connection last used and checked `ago` before kNow, never expiring.
IdleInfo UsedAgo(absl::Duration ago) {
  return IdleInfo{kNow - ago, kNow - ago, absl::InfiniteFuture()};
}

TEST_CASE("idle_timeout zero never closes an idle connection, however long unused",
          "[housekeeping][plan]") {
  PoolOptions o = Quiet();  // idle_timeout 0
  // Unused for a year: far past the 10min default, so a zero read as "the
  // default" (or as "at once") would close it.
  const std::vector<IdleInfo> idle = {UsedAgo(absl::Hours(24 * 365)), UsedAgo(absl::Seconds(1))};
  const HousekeepingPlan plan = PlanHousekeeping(idle, o, kNow);
  CHECK(plan.close_idle.empty());
  o.idle_timeout = absl::Minutes(10);  // the same set with the default closes both
  CHECK(PlanHousekeeping(idle, o, kNow).close_idle == Indexes{0});
}

TEST_CASE("a plan over no idle connections does nothing and sleeps the longest pause",
          "[housekeeping][plan]") {
  PoolOptions o;  // defaults: every knob on
  const HousekeepingPlan plan = PlanHousekeeping({}, o, kNow);
  CHECK(plan.close_expired.empty());
  CHECK(plan.close_idle.empty());
  CHECK(plan.keepalive.empty());
  CHECK(plan.next_run == kNow + kMaxHousekeepingPause);
}

TEST_CASE("expired idle connections are always closed, even below min_idle",
          "[housekeeping][plan]") {
  PoolOptions o = Quiet();
  o.max_lifetime = absl::Minutes(30);
  o.min_idle = 3;
  o.max_size = 3;
  std::vector<IdleInfo> idle = {UsedAgo(absl::Seconds(1)), UsedAgo(absl::Seconds(1)),
                                UsedAgo(absl::Seconds(1))};
  idle[0].expires = kNow - absl::Seconds(1);  // past
  idle[1].expires = kNow + absl::Minutes(1);  // future
  idle[2].expires = kNow;                     // exactly now counts as expired
  const HousekeepingPlan plan = PlanHousekeeping(idle, o, kNow);
  CHECK(plan.close_expired == Indexes{0, 2});
  CHECK(plan.close_idle.empty());
  CHECK(plan.keepalive.empty());
}

TEST_CASE("idle_timeout closes the oldest idle connections first but keeps min_idle",
          "[housekeeping][plan]") {
  PoolOptions o = Quiet();
  o.idle_timeout = absl::Minutes(10);
  o.min_idle = 2;
  // Oldest-returned first, as the core keeps them. Four are past the
  // timeout, one is not: with min_idle 2, three may close, oldest first.
  std::vector<IdleInfo> idle = {UsedAgo(absl::Minutes(40)), UsedAgo(absl::Minutes(30)),
                                UsedAgo(absl::Minutes(20)), UsedAgo(absl::Minutes(11)),
                                UsedAgo(absl::Minutes(1))};
  HousekeepingPlan plan = PlanHousekeeping(idle, o, kNow);
  CHECK(plan.close_idle == Indexes{0, 1, 2});
  CHECK(plan.close_expired.empty());

  SECTION("with min_idle as large as the idle set, nothing closes") {
    o.min_idle = 5;
    o.max_size = 5;
    plan = PlanHousekeeping(idle, o, kNow);
    CHECK(plan.close_idle.empty());
  }
  SECTION("with min_idle 0, every connection past the timeout closes") {
    o.min_idle = 0;
    plan = PlanHousekeeping(idle, o, kNow);
    CHECK(plan.close_idle == Indexes{0, 1, 2, 3});
  }
}

TEST_CASE("expired connections do not count toward the min_idle that idle_timeout keeps",
          "[housekeeping][plan]") {
  PoolOptions o = Quiet();
  o.idle_timeout = absl::Minutes(10);
  o.max_lifetime = absl::Minutes(30);
  o.min_idle = 2;
  std::vector<IdleInfo> idle = {UsedAgo(absl::Minutes(20)), UsedAgo(absl::Minutes(20)),
                                UsedAgo(absl::Minutes(20))};
  idle[0].expires = kNow - absl::Seconds(1);
  const HousekeepingPlan plan = PlanHousekeeping(idle, o, kNow);
  CHECK(plan.close_expired == Indexes{0});
  // Two survivors, min_idle 2: neither may close for idleness.
  CHECK(plan.close_idle.empty());
}

TEST_CASE("a connection unchecked for keepalive_interval is due a ping", "[housekeeping][plan]") {
  PoolOptions o = Quiet();
  o.keepalive_interval = absl::Minutes(2);
  std::vector<IdleInfo> idle = {UsedAgo(absl::Minutes(5)), UsedAgo(absl::Seconds(10)),
                                UsedAgo(absl::Minutes(2))};
  // Used long ago but checked recently: not due.
  idle[1].last_used = kNow - absl::Hours(1);
  const HousekeepingPlan plan = PlanHousekeeping(idle, o, kNow);
  CHECK(plan.keepalive == Indexes{0, 2});
  CHECK(plan.close_idle.empty());
  CHECK(plan.close_expired.empty());
  // Connection 1 is due in 110s: the next pass is the longest pause away.
  CHECK(plan.next_run == kNow + kMaxHousekeepingPause);
}

TEST_CASE("a connection closed for idleness is not also pinged", "[housekeeping][plan]") {
  PoolOptions o = Quiet();
  o.idle_timeout = absl::Minutes(10);
  o.keepalive_interval = absl::Minutes(2);
  const std::vector<IdleInfo> idle = {UsedAgo(absl::Minutes(20)), UsedAgo(absl::Minutes(3))};
  const HousekeepingPlan plan = PlanHousekeeping(idle, o, kNow);
  CHECK(plan.close_idle == Indexes{0});
  CHECK(plan.keepalive == Indexes{1});
}

TEST_CASE("zero idle_timeout, max_lifetime and keepalive_interval disable housekeeping",
          "[housekeeping][plan]") {
  const PoolOptions o = Quiet();
  // Ancient connections, no expiry: nothing to do.
  const std::vector<IdleInfo> idle = {UsedAgo(absl::Hours(24 * 365)), UsedAgo(absl::Hours(1))};
  const HousekeepingPlan plan = PlanHousekeeping(idle, o, kNow);
  CHECK(plan.close_expired.empty());
  CHECK(plan.close_idle.empty());
  CHECK(plan.keepalive.empty());
  CHECK(plan.next_run == kNow + kMaxHousekeepingPause);
}

TEST_CASE("the next housekeeping run is the earliest due time, between now+5ms and now+1s",
          "[housekeeping][plan]") {
  PoolOptions o = Quiet();
  o.idle_timeout = absl::Minutes(10);
  o.keepalive_interval = absl::Minutes(2);
  o.max_lifetime = absl::Minutes(30);

  SECTION("an expiry sooner than the longest pause") {
    std::vector<IdleInfo> idle = {UsedAgo(absl::Seconds(1)), UsedAgo(absl::Seconds(1))};
    idle[0].expires = kNow + absl::Milliseconds(700);
    idle[1].expires = kNow + absl::Milliseconds(300);
    CHECK(PlanHousekeeping(idle, o, kNow).next_run == kNow + absl::Milliseconds(300));
  }
  SECTION("an idle deadline sooner than the longest pause") {
    const std::vector<IdleInfo> idle = {UsedAgo(absl::Minutes(10) - absl::Milliseconds(250))};
    CHECK(PlanHousekeeping(idle, o, kNow).next_run == kNow + absl::Milliseconds(250));
  }
  SECTION("a keepalive due sooner than the longest pause") {
    std::vector<IdleInfo> idle = {UsedAgo(absl::Seconds(1))};
    idle[0].last_checked = kNow - absl::Minutes(2) + absl::Milliseconds(40);
    CHECK(PlanHousekeeping(idle, o, kNow).next_run == kNow + absl::Milliseconds(40));
  }
  SECTION("a due time closer than the shortest pause is raised to it") {
    std::vector<IdleInfo> idle = {UsedAgo(absl::Seconds(1))};
    idle[0].expires = kNow + absl::Milliseconds(1);
    CHECK(PlanHousekeeping(idle, o, kNow).next_run == kNow + kMinHousekeepingPause);
  }
  SECTION("nothing due within a second sleeps the longest pause") {
    const std::vector<IdleInfo> idle = {UsedAgo(absl::Seconds(1))};
    CHECK(PlanHousekeeping(idle, o, kNow).next_run == kNow + kMaxHousekeepingPause);
  }
  SECTION("work due now still waits the shortest pause before the next run") {
    const std::vector<IdleInfo> idle = {UsedAgo(absl::Minutes(3))};  // keepalive due
    const HousekeepingPlan plan = PlanHousekeeping(idle, o, kNow);
    CHECK(plan.keepalive == Indexes{0});
    CHECK(plan.next_run >= kNow + kMinHousekeepingPause);
    CHECK(plan.next_run <= kNow + kMaxHousekeepingPause);
  }
}

TEST_CASE("the housekeeping pause bounds are 5ms and 1s", "[housekeeping][plan]") {
  CHECK(kMinHousekeepingPause == absl::Milliseconds(5));
  CHECK(kMaxHousekeepingPause == absl::Seconds(1));
}

// ---- End to end, against the fake driver ---------------------------------

// Leases `n` connections at once and returns them all, so that `n` sit idle.
void MakeIdle(const FakePool& pool, int n) {
  std::vector<FakeLease> leases;
  for (int i = 0; i < n; ++i) {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    leases.push_back(*std::move(lease));
  }
}

TEST_CASE("idle_timeout closes idle connections above min_idle", "[housekeeping]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(4)
                  .min_idle(1)
                  .idle_timeout(absl::Milliseconds(50))
                  .build();
  REQUIRE(pool.ok());
  MakeIdle(*pool, 4);
  CHECK(server->connects() == 4);

  // (The housekeeper counts a close before it closes: wait for both.)
  REQUIRE(Await([&] { return pool->stats().closed_idle == 3 && server->open_connections() == 1; }));
  const PoolStats s = pool->stats();
  CHECK(s.idle == 1);
  CHECK(s.total == 1);
  // The survivor is usable.
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->Query().ok());
}

TEST_CASE("with idle_timeout disabled, idle connections stay open", "[housekeeping]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(3)
                  .idle_timeout(absl::ZeroDuration())
                  .max_lifetime(absl::Milliseconds(100))
                  .build();
  REQUIRE(pool.ok());
  MakeIdle(*pool, 3);
  // max_lifetime closes them, which proves housekeeping ran; idle_timeout
  // must not have claimed any first.
  REQUIRE(Await([&] { return pool->stats().closed_lifetime == 3; }));
  CHECK(pool->stats().closed_idle == 0);
}

TEST_CASE("max_lifetime closes idle connections and min_idle replaces them", "[housekeeping]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(4)
                  .min_idle(2)
                  .max_lifetime(absl::Milliseconds(50))
                  .build();
  REQUIRE(pool.ok());
  // Several generations go by: each pair is closed when it expires and
  // replaced by a new pair.
  REQUIRE(Await([&] {
    const PoolStats s = pool->stats();
    return s.closed_lifetime >= 4 && s.idle == 2;
  }));
  CHECK(server->connects() >= 6);
  CHECK(server->max_open_connections() <= 4);
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->Query().ok());
}

TEST_CASE("keepalive pings idle connections in the background", "[housekeeping]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .keepalive_interval(absl::Milliseconds(20))
                  .validation_window(absl::Hours(1))
                  .build();
  REQUIRE(pool.ok());
  testing::FakeConn* conn = nullptr;
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    conn = lease->native();
    CHECK(conn->pings == 0);
  }
  // The connection stays idle (validation is off for an hour); only the
  // housekeeper pings it.
  REQUIRE(Await([&] { return pool->stats().keepalives >= 3; }));
  CHECK(conn->pings >= 3);
  const PoolStats s = pool->stats();
  CHECK(s.total == 1);
  CHECK(server->open_connections() == 1);  // the pool's count is the server's
  CHECK(server->connects() == 1);
  CHECK(s.validation_failures == 0);
}

TEST_CASE("keepalive pings of min_idle connections open no extra connections", "[housekeeping]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(4)
                  .min_idle(2)
                  .keepalive_interval(absl::Milliseconds(10))
                  .build();
  REQUIRE(pool.ok());
  // While a connection is being pinged it is not idle, but it is not gone
  // either: the openers must not replace it.
  REQUIRE(Await([&] { return pool->stats().keepalives >= 20; }));
  const PoolStats s = pool->stats();
  CHECK(s.created == 2);
  CHECK(server->connects() == 2);
  CHECK(s.total == 2);
}

TEST_CASE("a keepalive ping does not postpone idle_timeout", "[housekeeping]") {
  // A ping is not a use: pinged every 50ms (once the housekeeper, which
  // looks at least every second, has seen it), a connection unused for
  // idle_timeout (1.5s) still closes as idle.
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .idle_timeout(absl::Milliseconds(1500))
                  .keepalive_interval(absl::Milliseconds(50))
                  .validation_window(absl::Hours(1))
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(pool->acquire().ok());
  REQUIRE(Await([&] { return pool->stats().closed_idle == 1; }));
  CHECK(pool->stats().keepalives >= 2);
  CHECK(Await([&] { return server->open_connections() == 0; }));
}

TEST_CASE("a thread keeps getting the connection it used last while another is only pinged",
          "[housekeeping]") {
  // Each thread tries the connection it used last first (the claim hint),
  // so the other ages and idle_timeout can close it; a keepalive ping on
  // the other does not make it the one handed out.
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .keepalive_interval(absl::Milliseconds(100))
                  .validation_window(absl::Hours(1))
                  .build();
  REQUIRE(pool.ok());
  testing::FakeConn* cold;
  {
    std::vector<FakeLease> two;
    for (int i = 0; i < 2; ++i) {
      auto lease = pool->acquire();
      REQUIRE(lease.ok());
      two.push_back(*std::move(lease));
    }
    cold = two[0].native();
    two[0].release();  // the older
    two[1].release();  // the most recent: "hot"
  }
  // Use the pool one lease at a time (the hot connection, returned every
  // millisecond, is never due a ping) until the cold one has been pinged
  // a few times, or handed out.
  int cold_handouts = 0;
  REQUIRE(Await([&] {
    auto lease = pool->acquire();
    if (lease.ok() && lease->native() == cold) ++cold_handouts;
    return cold_handouts > 0 || cold->pings >= 3;
  }));
  CHECK(cold_handouts == 0);
  CHECK(cold->pings >= 3);
}

TEST_CASE("keepalive finds and closes a killed idle connection without any acquire",
          "[housekeeping]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .keepalive_interval(absl::Milliseconds(20))
                  .build();
  REQUIRE(pool.ok());
  MakeIdle(*pool, 2);
  REQUIRE(server->open_connections() == 2);
  const uint64_t acquired = pool->stats().acquired;

  server->kill_all();
  REQUIRE(Await([&] { return server->open_connections() == 0; }));
  const PoolStats s = pool->stats();
  CHECK(s.closed_broken == 2);
  CHECK(s.validation_failures == 2);
  CHECK(s.total == 0);
  CHECK(s.acquired == acquired);
}

TEST_CASE("keepalive keeps min_idle: a killed idle connection is replaced", "[housekeeping]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .min_idle(1)
                  .keepalive_interval(absl::Milliseconds(20))
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return pool->stats().idle == 1; }));
  server->kill_all();
  REQUIRE(Await([&] {
    const PoolStats s = pool->stats();
    // The dead connection is closed just after it is counted: await both.
    return s.closed_broken == 1 && s.idle == 1 && s.created == 2 && server->open_connections() == 1;
  }));
  CHECK(server->open_connections() == 1);
  CHECK(pool->stats().total == 1);
}

}  // namespace
}  // namespace dbpool

namespace dbpool {
namespace {

TEST_CASE("the housekeeper does not close a connection used after it made its plan",
          "[housekeeping][concurrency]") {
  // The housekeeper plans from a snapshot, then reports leaks with its lock
  // released, then claims what the plan named. A connection used in that
  // gap is no longer idle past idle_timeout and must be put back.
  struct FreshenOnLeak : PoolListener {
    std::atomic<bool> armed{false};
    absl::Notification entered, freshened;
    void on_leak(const LeakEvent&) override {
      if (armed.exchange(false)) {
        entered.Notify();
        freshened.WaitForNotification();
      }
    }
  };
  auto server = testing::FakeServer::Create();
  auto listener = std::make_shared<FreshenOnLeak>();
  auto pool = testing::FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(3)
                  .idle_timeout(absl::Milliseconds(300))
                  .keepalive_interval(absl::Milliseconds(50))
                  .validation_window(absl::Hours(1))
                  .leak_detection_threshold(absl::Milliseconds(200))
                  .listener(listener)
                  .build();
  REQUIRE(pool.ok());
  auto k = pool->acquire();
  auto i = pool->acquire();
  auto leaked = pool->acquire();  // reported at the pass that acts on the stale plan
  REQUIRE(k.ok());
  REQUIRE(i.ok());
  REQUIRE(leaked.ok());
  // The housekeeper hangs in k's keepalive ping, so that no pass runs while
  // k and i go past idle_timeout and `leaked` past its threshold.
  const int k_id = k->native()->id;
  server->stall(testing::FakeOp::kPing, k_id, testing::Stall::kIgnoringDeadline);
  k->release();
  i->release();
  REQUIRE(testing::Await([&] { return server->stalled_calls() == 1; }));
  absl::SleepFor(absl::Milliseconds(400));  // time passing is the point
  listener->armed = true;
  server->stall(testing::FakeOp::kPing, k_id, testing::Stall::kNone);
  // The next pass plans to close both as idle, then reports the leak; in
  // that gap one of them is used.
  listener->entered.WaitForNotification();
  {
    auto used = pool->acquire();
    REQUIRE(used.ok());
  }
  listener->freshened.Notify();
  REQUIRE(testing::Await([&] { return pool->stats().closed_idle >= 1; }));
  absl::SleepFor(absl::Milliseconds(50));  // a wrong second close would come at once
  CHECK(pool->stats().closed_idle == 1);
  CHECK(testing::Await([&] { return server->open_connections() == 2; }));
}

}  // namespace
}  // namespace dbpool

namespace dbpool {
namespace {

TEST_CASE("a stalled keepalive ping holds only its own connection", "[housekeeping][deadline]") {
  auto server = testing::FakeServer::Create();
  auto pool = testing::FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .keepalive_interval(absl::Milliseconds(20))
                  .validation_window(absl::Hours(1))
                  .validation_timeout(absl::Seconds(20))
                  .build();
  REQUIRE(pool.ok());
  int stalled_id;
  {
    auto a = pool->acquire();
    auto b = pool->acquire();
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    stalled_id = a->native()->id;
    server->stall(testing::FakeOp::kPing, stalled_id, testing::Stall::kIgnoringDeadline);
  }
  // Released however the test ends: the pool's close waits for the ping.
  struct Unstall {
    testing::FakeServer& server;
    int id;
    ~Unstall() { server.stall(testing::FakeOp::kPing, id, testing::Stall::kNone); }
  } unstall{*server, stalled_id};
  REQUIRE(testing::Await([&] { return server->stalled_calls() == 1; }));
  // The other connection answers its pings (or waits its turn) idle: an
  // acquire gets it at once, though the housekeeper is stuck on the first.
  AcquireOptions quick;
  quick.timeout = absl::Milliseconds(500);
  auto lease = pool->acquire(quick);
  REQUIRE(lease.ok());
  CHECK(lease->native()->id != stalled_id);
}

TEST_CASE("the housekeeper lets go of the lock between passes and never runs them back to back",
          "[housekeeping]") {
  // A 10 ms leak_detection_threshold asks for a pass every 2.5 ms, less
  // than the coarse clock's tick (4 ms here): a pass whose deadline was
  // already past when it was computed ran the next one at once, without
  // unlocking, and then the next, so that callers and openers waited on the
  // lock for as long as the clock lagged, or (under a sanitizer) forever.
  auto server = testing::FakeServer::Create();
  auto pool = testing::FakePool::Builder()
                  .dsn(server->dsn())
                  .keepalive_interval(absl::ZeroDuration())
                  .leak_detection_threshold(absl::Milliseconds(10))
                  .build();
  REQUIRE(pool.ok());
  const auto start = std::chrono::steady_clock::now();
  const uint64_t before = pool->stats().housekeeping_passes;
  REQUIRE(testing::Await([&] { return pool->stats().housekeeping_passes >= before + 40; }));
  const uint64_t passes = pool->stats().housekeeping_passes - before;
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count();
  // Each pass with nothing to do waits at least a millisecond: never more
  // passes than milliseconds (plus the one under way).
  CHECK(passes <= static_cast<uint64_t>(elapsed_ms) + 1);
  auto lease = pool->acquire();
  CHECK(lease.ok());
}

}  // namespace
}  // namespace dbpool
