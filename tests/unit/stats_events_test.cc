// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Stats and events that are right: leak reports name the lease that is
// held (never a previous one, never ":0"), hold times are measured finely,
// and a connection returned with an unread result is not called broken.
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using testing::Await;
using testing::FakeOp;
using testing::FakePool;
using testing::FakeServer;
using testing::Stall;

struct Recorder : PoolListener {
  absl::Mutex mu;
  std::vector<LeakEvent> leaks ABSL_GUARDED_BY(mu);
  std::vector<CloseCause> closes ABSL_GUARDED_BY(mu);
  std::atomic<int64_t> shortest_hold_ns{INT64_MAX};
  void on_leak(const LeakEvent& e) override {
    absl::MutexLock lock(&mu);
    leaks.push_back(e);
  }
  void on_close(const CloseEvent& e) override {
    absl::MutexLock lock(&mu);
    closes.push_back(e.cause);
  }
  void on_release(const ReleaseEvent& e) override {
    const int64_t ns = absl::ToInt64Nanoseconds(e.held);
    int64_t seen = shortest_hold_ns.load();
    while (ns < seen && !shortest_hold_ns.compare_exchange_weak(seen, ns)) {
    }
  }
  size_t leak_count() {
    absl::MutexLock lock(&mu);
    return leaks.size();
  }
};

TEST_CASE("a connection being validated for a new lease is not reported as the old lease's leak",
          "[events][leak]") {
  auto server = FakeServer::Create();
  auto recorder = std::make_shared<Recorder>();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .validation_window(absl::ZeroDuration())
                  .keepalive_interval(absl::ZeroDuration())
                  .acquire_timeout(absl::Seconds(20))
                  .leak_detection_threshold(absl::Milliseconds(10))
                  .listener(recorder)
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(pool->acquire().ok());           // a short lease, returned at once
  absl::SleepFor(absl::Milliseconds(30));  // its hand-out is now older than the threshold
  server->stall(FakeOp::kPing, Stall::kIgnoringDeadline);
  std::thread next([&] { (void)pool->acquire(); });
  REQUIRE(Await([&] { return server->stalled_calls() == 1; }));
  // The slot is kInUse while its ping hangs; housekeeping passes run every
  // threshold / 4. Time passing is the point here.
  absl::SleepFor(absl::Milliseconds(50));
  server->stall(FakeOp::kPing, Stall::kNone);
  next.join();
  CHECK(recorder->leak_count() == 0);
  CHECK(pool->stats().leaks == 0);
}

TEST_CASE("a short lease is not reported after housekeeping passes have run", "[events][leak]") {
  auto server = FakeServer::Create();
  auto recorder = std::make_shared<Recorder>();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .leak_detection_threshold(absl::Milliseconds(40))
                  .listener(recorder)
                  .build();
  REQUIRE(pool.ok());
  for (int i = 0; i < 5; ++i) REQUIRE(pool->acquire().ok());
  // Several passes (every threshold / 4 = 10ms) see the returned slot.
  absl::SleepFor(absl::Milliseconds(100));
  CHECK(recorder->leak_count() == 0);
  CHECK(pool->stats().leaks == 0);
}

TEST_CASE("a leak of a lease taken through AcquireOptions names its call site", "[events][leak]") {
  auto server = FakeServer::Create();
  auto recorder = std::make_shared<Recorder>();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .leak_detection_threshold(absl::Milliseconds(10))
                  .listener(recorder)
                  .build();
  REQUIRE(pool.ok());
  AcquireOptions options;
  options.timeout = absl::Seconds(20);
  const int line = __LINE__ + 1;
  auto held = pool->acquire(options);
  REQUIRE(held.ok());
  REQUIRE(Await([&] { return recorder->leak_count() >= 1; }));
  absl::MutexLock lock(&recorder->mu);
  CHECK(recorder->leaks[0].line == line);
  CHECK_THAT(std::string(recorder->leaks[0].file), Catch::EndsWith("stats_events_test.cc"));
}

TEST_CASE("hold times are measured with a clock finer than a millisecond", "[events][stats]") {
  auto server = FakeServer::Create();
  auto recorder = std::make_shared<Recorder>();
  auto pool = FakePool::Builder().dsn(server->dsn()).histograms(true).listener(recorder).build();
  REQUIRE(pool.ok());
  constexpr int kLeases = 200;
  for (int i = 0; i < kLeases; ++i) {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    const absl::Time until = absl::Now() + absl::Microseconds(200);
    while (absl::Now() < until) {  // held at least 200us
    }
  }
  const Histogram& h = pool->stats().hold_time;
  CHECK(h.count == kLeases);
  // A coarse clock (a tick of 1-10ms) records most such holds as 0.
  CHECK(h.buckets[0] == 0);  // up to 50us
  CHECK(h.buckets[1] == 0);  // up to 100us
  CHECK(recorder->shortest_hold_ns.load() >= 200000);
}

TEST_CASE("a connection returned with an unread result is closed as returned_busy, not broken",
          "[events][hygiene]") {
  auto server = FakeServer::Create();
  auto recorder = std::make_shared<Recorder>();
  auto pool = FakePool::Builder().dsn(server->dsn()).listener(recorder).build();
  REQUIRE(pool.ok());
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    lease->native()->busy = true;
  }
  const PoolStats s = pool->stats();
  CHECK(s.closed_busy == 1);
  CHECK(s.closed_broken == 0);
  absl::MutexLock lock(&recorder->mu);
  REQUIRE(recorder->closes.size() == 1);
  CHECK(recorder->closes[0] == CloseCause::kReturnedBusy);
  CHECK(std::string(CloseCauseName(recorder->closes[0])) == "returned_busy");
}

}  // namespace
}  // namespace dbpool
