// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A step of the wall clock (NTP, an administrator) moves no deadline and no
// schedule of the pool's: the core's acquire deadline, the failover layer's
// acquire deadline across re-routes, and the probers' schedule.
//
// How the clock is stepped: this binary defines clock_gettime() itself. An
// executable's definition wins over libc's for every library loaded into
// it, Abseil's included, so absl::Now() reads CLOCK_REALTIME through it.
// Readings of CLOCK_REALTIME are shifted by an offset that a test sets;
// every other clock passes straight through to the kernel. The kernel's own
// realtime clock does not move, so a sleep that Abseil's CondVar takes until
// a wall-clock instant ends at the kernel's idea of that instant (after a
// step back: at once). The pool's waits re-read the monotonic clock and
// sleep again, so they spin while a step is in force; what these tests
// judge is that the pool decides nothing on the wall clock.
//
// Only steps back are simulated: a step forward would make those sleeps
// last as long as the step, which says nothing about the pool.
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "fake_driver.h"
#include "probe_results.h"

namespace {

std::atomic<int64_t> g_realtime_offset_nanos{0};

int64_t KernelRealtimeNanos() {
  timespec ts;
  syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

extern "C" int clock_gettime(clockid_t id, struct timespec* ts) {
  if (syscall(SYS_clock_gettime, id, ts) != 0) return -1;
  if (id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE) return 0;
  const int64_t offset = g_realtime_offset_nanos.load(std::memory_order_relaxed);
  if (offset == 0) return 0;
  const int64_t nanos = static_cast<int64_t>(ts->tv_sec) * 1000000000 + ts->tv_nsec + offset;
  ts->tv_sec = static_cast<time_t>(nanos / 1000000000);
  ts->tv_nsec = static_cast<long>(nanos % 1000000000);  // NOLINT(google-runtime-int): timespec
  return 0;
}

namespace dbpool {
namespace {

using testing::Await;
using testing::FakePool;
using testing::FakeServer;
using testing::Primary;
using testing::Replica;

const Endpoint kA{"a", 1};
const Endpoint kB{"b", 2};

// Steps the process's wall clock back by `by` for its lifetime, and waits
// until absl::Now() shows it (Abseil may interpolate between readings).
class WallClockStepBack {
 public:
  explicit WallClockStepBack(absl::Duration by) : by_(by) {
    g_realtime_offset_nanos.store(-absl::ToInt64Nanoseconds(by));
    const absl::Time stepped = absl::FromUnixNanos(KernelRealtimeNanos()) - by / 2;
    seen_ = Await([&] { return absl::Now() < stepped; });
  }
  // Ends the step, and waits until absl::Now() shows that too, so that the
  // next test starts from a clock that agrees with the kernel's.
  ~WallClockStepBack() {
    g_realtime_offset_nanos.store(0);
    const absl::Time unstepped = absl::FromUnixNanos(KernelRealtimeNanos()) - by_ / 2;
    Await([&] { return absl::Now() > unstepped; });
  }
  WallClockStepBack(const WallClockStepBack&) = delete;
  WallClockStepBack& operator=(const WallClockStepBack&) = delete;

  bool seen() const { return seen_; }

 private:
  const absl::Duration by_;
  bool seen_ = false;
};

// An acquire on a thread of its own, so that the test can step the clock
// while it waits.
class BackgroundAcquire {
 public:
  explicit BackgroundAcquire(const FakePool& pool)
      : thread_([this, &pool] {
          status_ = pool.acquire().status();
          done_.store(true);
        }) {}
  ~BackgroundAcquire() { thread_.join(); }
  BackgroundAcquire(const BackgroundAcquire&) = delete;
  BackgroundAcquire& operator=(const BackgroundAcquire&) = delete;

  bool done() const { return done_.load(); }
  // Once done().
  const absl::Status& status() const { return status_; }

 private:
  std::atomic<bool> done_{false};
  absl::Status status_;
  std::thread thread_;
};

TEST_CASE("the wall clock stepped back moves no acquire deadline", "[clock]") {
  auto server = FakeServer::Create();
  server->block_connects();  // nothing to hand out: the acquire waits out its deadline
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .acquire_timeout(absl::Seconds(1))
                  .connect_timeout(absl::Seconds(60))
                  .build();
  REQUIRE(pool.ok());
  {
    BackgroundAcquire acquire(*pool);
    REQUIRE(Await([&] { return pool->stats().waiting == 1; }));
    WallClockStepBack step(absl::Hours(1));
    REQUIRE(step.seen());
    // On the wall clock the deadline would be an hour and a second away.
    CHECK(Await([&] { return acquire.done(); }, absl::Seconds(10)));
    if (acquire.done()) CHECK(absl::IsDeadlineExceeded(acquire.status()));
    pool->close();  // a failed check still ends the acquire, which is then joined
  }
  server->unblock_connects();
}

// A pool over endpoint A, a primary, and B, a replica, probed every 50 ms,
// whose acquires wait at most a second.
absl::StatusOr<FakePool> PrimaryAndReplica(FakeServer& server) {
  server.set_probe(kA, Primary(1));
  server.set_probe(kB, Replica(1));
  return FakePool::Builder()
      .dsn(server.dsn())
      .endpoint(kA.host, kA.port)
      .endpoint(kB.host, kB.port)
      .max_size(1)
      .acquire_timeout(absl::Seconds(1))
      .failover(FailoverPolicy()
                    .probe_interval(absl::Milliseconds(50))
                    .backoff_initial(absl::Milliseconds(1))
                    .backoff_max(absl::Milliseconds(10)))
      .build();
}

TEST_CASE("the wall clock stepped back moves no failover acquire deadline", "[clock][cluster]") {
  auto server = FakeServer::Create();
  auto pool = PrimaryAndReplica(*server);
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return pool->stats().endpoints.at(0).role == "primary"; }));
  // The probers keep their connections; the pool's own connects now fail,
  // so the acquire ends in kUnavailable, which the failover layer answers
  // by routing again unless the acquire's deadline has passed.
  server->set_connect_error(absl::UnavailableError("fake: connection refused"));
  {
    BackgroundAcquire acquire(*pool);
    REQUIRE(Await([&] { return pool->stats().waiting == 1; }));
    WallClockStepBack step(absl::Hours(1));
    REQUIRE(step.seen());
    CHECK(Await([&] { return acquire.done(); }, absl::Seconds(10)));
    if (acquire.done()) CHECK(absl::IsUnavailable(acquire.status()));
    pool->close();
  }
}

TEST_CASE("the wall clock stepped back does not stop the probers", "[clock][cluster]") {
  auto server = FakeServer::Create();
  auto pool = PrimaryAndReplica(*server);
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return server->good_probes(kA) >= 2; }));
  WallClockStepBack step(absl::Hours(1));
  REQUIRE(step.seen());
  // On the wall clock the next probe would be an hour away.
  const int before = server->good_probes(kA);
  CHECK(Await([&] { return server->good_probes(kA) >= before + 3; }, absl::Seconds(10)));
}

}  // namespace
}  // namespace dbpool
