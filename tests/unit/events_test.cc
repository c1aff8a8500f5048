// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PoolListener receives what happens to connections, outside the pool's
// locks.
#include "dbpool/events.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "await.h"
#include "fake_driver.h"

namespace dbpool {
namespace testing {
namespace {

class Recorder : public PoolListener {
 public:
  void on_connect(const ConnectEvent& e) override {
    absl::MutexLock lock(&mu_);
    connects.push_back(e);
  }
  void on_acquire(const AcquireEvent& e) override {
    absl::MutexLock lock(&mu_);
    acquires.push_back(e);
  }
  void on_release(const ReleaseEvent& e) override {
    absl::MutexLock lock(&mu_);
    releases.push_back(e);
  }
  void on_close(const CloseEvent& e) override {
    absl::MutexLock lock(&mu_);
    closes.push_back(e);
  }
  size_t close_count() {
    absl::MutexLock lock(&mu_);
    return closes.size();
  }

  absl::Mutex mu_;
  std::vector<ConnectEvent> connects;
  std::vector<AcquireEvent> acquires;
  std::vector<ReleaseEvent> releases;
  std::vector<CloseEvent> closes;
};

TEST_CASE("a listener sees connect, acquire with wait, release with hold, and discard",
          "[events]") {
  auto server = FakeServer::Create();
  auto recorder = std::make_shared<Recorder>();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(1).listener(recorder).build();
  REQUIRE(pool.ok());
  {
    auto lease = pool->acquire();  // waits for the first connect
    REQUIRE(lease.ok());
    absl::SleepFor(absl::Milliseconds(20));  // a hold time to measure, not synchronization
  }
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    lease->discard();
  }
  REQUIRE(Await([&] { return recorder->close_count() == 1; }));
  absl::MutexLock lock(&recorder->mu_);
  REQUIRE(recorder->connects.size() == 1);
  CHECK(recorder->connects[0].status.ok());
  CHECK(recorder->connects[0].endpoint == "fake:1");
  REQUIRE(recorder->acquires.size() == 2);
  CHECK(recorder->acquires[0].waited > absl::ZeroDuration());  // it waited for the connect
  REQUIRE(recorder->releases.size() == 1);                     // discard is a close, not a release
  CHECK(recorder->releases[0].held >= absl::Milliseconds(15));
  CHECK(recorder->closes[0].cause == CloseCause::kDiscarded);
  CHECK(std::string(CloseCauseName(recorder->closes[0].cause)) == "discarded");
}

TEST_CASE("a listener sees failed connects with their status", "[events]") {
  auto server = FakeServer::Create();
  server->set_connect_error(absl::UnauthenticatedError("fake: bad password"));
  auto recorder = std::make_shared<Recorder>();
  auto pool = FakePool::Builder().dsn(server->dsn()).listener(recorder).build();
  REQUIRE(pool.ok());
  CHECK(pool->acquire().status().code() == absl::StatusCode::kUnauthenticated);
  absl::MutexLock lock(&recorder->mu_);
  REQUIRE_FALSE(recorder->connects.empty());
  CHECK(recorder->connects[0].status.code() == absl::StatusCode::kUnauthenticated);
}

TEST_CASE("a listener may call back into the pool", "[events]") {
  // Events are never sent under the pool's lock: stats() from a listener
  // must not deadlock.
  struct Reentrant : PoolListener {
    FakePool* pool = nullptr;
    std::atomic<int> calls{0};
    void on_release(const ReleaseEvent&) override {
      if (pool != nullptr) (void)pool->stats();
      ++calls;
    }
    void on_close(const CloseEvent&) override {
      if (pool != nullptr) (void)pool->stats();
      ++calls;
    }
  };
  auto server = FakeServer::Create();
  auto listener = std::make_shared<Reentrant>();
  auto pool = FakePool::Builder().dsn(server->dsn()).listener(listener).build();
  REQUIRE(pool.ok());
  listener->pool = &*pool;
  for (int i = 0; i < 3; ++i) {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    if (i == 2) lease->discard();
  }
  CHECK(Await([&] { return listener->calls.load() == 3; }));
  listener->pool = nullptr;
}

}  // namespace
}  // namespace testing
}  // namespace dbpool

namespace dbpool {
namespace testing {
namespace {

TEST_CASE("a lease held past leak_detection_threshold is reported once, with its call site",
          "[events][leak]") {
  struct LeakRecorder : PoolListener {
    absl::Mutex mu;
    std::vector<LeakEvent> leaks ABSL_GUARDED_BY(mu);
    void on_leak(const LeakEvent& e) override {
      absl::MutexLock lock(&mu);
      leaks.push_back(e);
    }
    size_t count() {
      absl::MutexLock lock(&mu);
      return leaks.size();
    }
  };
  auto server = FakeServer::Create();
  auto recorder = std::make_shared<LeakRecorder>();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .leak_detection_threshold(absl::Milliseconds(50))
                  .listener(recorder)
                  .build();
  REQUIRE(pool.ok());
  const int line = __LINE__ + 1;
  auto held = pool->acquire();
  REQUIRE(held.ok());
  REQUIRE(Await([&] { return recorder->count() >= 1; }));
  // Held on for several more housekeeping passes (every threshold / 4):
  // still one report. Time passing is the point here, not synchronization.
  absl::SleepFor(absl::Milliseconds(100));
  CHECK(recorder->count() == 1);
  CHECK(pool->stats().leaks == 1);
  {
    absl::MutexLock lock(&recorder->mu);
    CHECK(recorder->leaks[0].line == line);
    CHECK_THAT(std::string(recorder->leaks[0].file), Catch::EndsWith("events_test.cc"));
    CHECK(recorder->leaks[0].held >= absl::Milliseconds(50));
  }
  held->release();
  // That a short lease is never reported, after housekeeping passes have
  // run: stats_events_test.cc.
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
