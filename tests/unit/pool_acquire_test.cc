// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Pool::acquire() against the fake driver: reuse, the hard cap, FIFO
// waiters, deadlines, connect errors, close(), and lease/handle lifetimes.
//
// Catch2 assertions are not thread-safe: background threads only record
// what they saw, and the test thread checks it after join().
#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using testing::Await;
using testing::FakeLease;
using testing::FakePool;
using testing::FakeServer;

// Acquires `n` leases at once.
std::vector<FakeLease> LeaseAll(const FakePool& pool, int n) {
  std::vector<FakeLease> leases;
  for (int i = 0; i < n; ++i) {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    leases.push_back(*std::move(lease));
  }
  return leases;
}

// Runs a function when it goes out of scope.
class Finally {
 public:
  explicit Finally(std::function<void()> fn) : fn_(std::move(fn)) {}
  Finally(const Finally&) = delete;
  Finally& operator=(const Finally&) = delete;
  ~Finally() { fn_(); }

 private:
  std::function<void()> fn_;
};

// The pool's count of its connections against the server's: total counts
// connects in flight (not open at the server yet) and connections still
// closing (still open there). stats() computes total as the sum of the
// other gauges, so comparing those with each other would prove nothing.
bool GaugesMatchServer(const PoolStats& s, const FakeServer& server) {
  return s.total - s.connecting == server.open_connections() &&
         s.total == s.idle + s.in_use + s.connecting + s.maintenance;
}

// An acquire() run on its own thread; the result is read after join().
class BackgroundAcquire {
 public:
  BackgroundAcquire(const FakePool& pool, AcquireOptions options = {})
      : thread_([this, pool, options] {
          const absl::Time start = absl::Now();
          absl::StatusOr<FakeLease> lease = pool.acquire(options);
          elapsed_ = absl::Now() - start;
          result_ = std::move(lease);
        }) {}
  ~BackgroundAcquire() {
    if (thread_.joinable()) thread_.join();
  }

  // Waits for the acquire to return and gives its result.
  absl::StatusOr<FakeLease>& Join() {
    thread_.join();
    return result_;
  }
  absl::Duration elapsed() const { return elapsed_; }

 private:
  absl::StatusOr<FakeLease> result_ = absl::UnknownError("not run");
  absl::Duration elapsed_;
  std::thread thread_;
};

TEST_CASE("acquire and release reuse one connection", "[acquire]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(4).build();
  REQUIRE(pool.ok());
  const testing::FakeConn* first = nullptr;
  for (int i = 0; i < 10; ++i) {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    REQUIRE(lease->valid());
    if (first == nullptr) first = lease->native();
    CHECK(lease->native() == first);
    CHECK(lease->native()->Query().ok());
  }
  CHECK(server->connects() == 1);
  const PoolStats s = pool->stats();
  CHECK(s.acquired == 10);
  CHECK(s.created == 1);
  CHECK(s.total == 1);
  CHECK(s.idle == 1);
  CHECK(s.in_use == 0);
}

TEST_CASE("stats gauges add up and match the connections open at the server", "[acquire][stats]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(4).build();
  REQUIRE(pool.ok());
  {
    PoolStats s = pool->stats();
    CHECK(s.total == 0);
    CHECK(s.max_size == 4);
    CHECK(GaugesMatchServer(s, *server));
  }
  std::vector<FakeLease> leases = LeaseAll(*pool, 3);
  leases.pop_back();  // one back to idle
  PoolStats s = pool->stats();
  CHECK(s.total == 3);
  CHECK(s.idle == 1);
  CHECK(s.in_use == 2);
  CHECK(s.connecting == 0);
  CHECK(s.maintenance == 0);
  CHECK(s.waiting == 0);
  CHECK(GaugesMatchServer(s, *server));
  CHECK(s.acquired == 3);
  CHECK(s.created == 3);

  SECTION("a connect in flight shows as connecting, its caller as waiting") {
    std::vector<FakeLease> more = LeaseAll(*pool, 1);  // takes the idle one
    server->block_connects();
    BackgroundAcquire waiter(*pool);
    REQUIRE(Await([&] { return pool->stats().connecting == 1; }));
    s = pool->stats();
    CHECK(s.waiting == 1);
    CHECK(s.total == 4);
    CHECK(s.in_use == 3);
    CHECK(GaugesMatchServer(s, *server));
    server->unblock_connects();
    auto& lease = waiter.Join();
    REQUIRE(lease.ok());
    s = pool->stats();
    CHECK(s.in_use == 4);
    CHECK(s.connecting == 0);
    CHECK(s.waiting == 0);
    CHECK(GaugesMatchServer(s, *server));
  }
  SECTION("the one-line summary holds the gauges") {
    const std::string line = ToString(s);
    CHECK(absl::StrContains(line, "total=3"));
    CHECK(absl::StrContains(line, "idle=1"));
    CHECK(absl::StrContains(line, "in_use=2"));
    CHECK(absl::StrContains(line, "waiting=0"));
    CHECK(absl::StrContains(line, "max_size=4"));
  }
}

TEST_CASE("a connection still closing counts against max_size until it is closed",
          "[acquire][concurrency]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .acquire_timeout(absl::Milliseconds(200))
                  .build();
  REQUIRE(pool.ok());
  auto a = pool->acquire();
  auto b = pool->acquire();
  REQUIRE(a.ok());
  REQUIRE(b.ok());

  // Closing a's connection blocks, as on a stalled socket.
  server->block_closes();
  std::thread discarder([&] { a->discard(); });
  REQUIRE(Await([&] { return server->closing_connections() == 1; }));
  CHECK(pool->stats().total == 2);
  CHECK(pool->stats().maintenance == 1);
  // No third connection while the old one is still open.
  auto c = pool->acquire();
  CHECK(c.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(server->max_open_connections() == 2);

  // Once it is closed, its slot serves a new connection.
  server->unblock_closes();
  discarder.join();
  AcquireOptions patient;
  patient.timeout = absl::Seconds(20);
  auto d = pool->acquire(patient);
  REQUIRE(d.ok());
  CHECK(server->max_open_connections() == 2);
  CHECK(server->open_connections() == 2);
}

TEST_CASE("the pool never opens more than max_size connections under contention",
          "[acquire][concurrency]") {
  constexpr int kMaxSize = 4;
  constexpr int kThreads = 16;
  constexpr int kCycles = 500;
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(kMaxSize)
                  .acquire_timeout(absl::Seconds(60))
                  .build();
  REQUIRE(pool.ok());

  std::atomic<int> holding{0};
  std::atomic<int> most_holding{0};
  std::atomic<int> failures{0};
  std::atomic<int> shared_connection{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCycles; ++i) {
        auto lease = pool->acquire();
        if (!lease.ok()) {
          ++failures;
          continue;
        }
        const int now = ++holding;
        int seen = most_holding.load();
        while (now > seen && !most_holding.compare_exchange_weak(seen, now)) {
        }
        // Exclusive use: nobody else may be inside this connection.
        if (lease->native()->busy.exchange(true)) ++shared_connection;
        if (!lease->native()->Query().ok()) ++failures;
        lease->native()->busy = false;
        --holding;
      }
    });
  }
  for (std::thread& t : threads) t.join();

  CHECK(failures == 0);
  CHECK(shared_connection == 0);
  CHECK(most_holding <= kMaxSize);
  CHECK(server->max_open_connections() <= kMaxSize);
  const PoolStats s = pool->stats();
  CHECK(s.acquired == static_cast<uint64_t>(kThreads * kCycles));
  CHECK(s.in_use == 0);
  CHECK(s.waiting == 0);
  CHECK(s.total <= kMaxSize);
  CHECK(s.total == s.idle);
  CHECK(s.timeouts == 0);
  CHECK(s.closed_broken == 0);
}

TEST_CASE("an acquire beyond max_size waits and waiters are served FIFO as leases return",
          "[acquire][fifo]") {
  constexpr int kWaiters = 6;
  auto server = FakeServer::Create();
  auto pool =
      FakePool::Builder().dsn(server->dsn()).max_size(1).acquire_timeout(absl::Seconds(60)).build();
  REQUIRE(pool.ok());
  auto holder = pool->acquire();
  REQUIRE(holder.ok());

  absl::Mutex mu;
  std::vector<int> served;  // guarded by mu
  std::vector<std::thread> waiters;
  // Should a REQUIRE below fail, free the waiters before unwinding.
  Finally join_all([&] {
    if (holder->valid()) holder->release();
    for (std::thread& t : waiters) {
      if (t.joinable()) t.join();
    }
  });
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&, i] {
      auto lease = pool->acquire();
      absl::MutexLock lock(&mu);
      served.push_back(lease.ok() ? i : -1 - i);
      // The lease returns here, to the next waiter in line.
    });
    // Start the next one only once this one is queued.
    REQUIRE(Await([&] { return pool->stats().waiting == i + 1; }));
  }
  {
    absl::MutexLock lock(&mu);
    CHECK(served.empty());  // nobody is served while the holder holds
  }
  holder->release();
  for (std::thread& t : waiters) t.join();

  absl::MutexLock lock(&mu);
  CHECK(served == std::vector<int>{0, 1, 2, 3, 4, 5});
  CHECK(server->connects() == 1);
  const PoolStats s = pool->stats();
  CHECK(s.waiting == 0);
  CHECK(s.acquired == kWaiters + 1);
  CHECK(s.idle == 1);
}

TEST_CASE("a timed-out waiter leaves the queue and the next one is served", "[acquire][fifo]") {
  auto server = FakeServer::Create();
  auto pool =
      FakePool::Builder().dsn(server->dsn()).max_size(1).acquire_timeout(absl::Seconds(60)).build();
  REQUIRE(pool.ok());
  auto holder = pool->acquire();
  REQUIRE(holder.ok());

  AcquireOptions short_wait;
  short_wait.timeout = absl::Milliseconds(50);
  BackgroundAcquire impatient(*pool, short_wait);
  REQUIRE(Await([&] { return pool->stats().waiting == 1; }));
  BackgroundAcquire patient(*pool);
  REQUIRE(Await([&] { return pool->stats().waiting == 2; }));

  CHECK(impatient.Join().status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(pool->stats().waiting == 1);
  holder->release();
  CHECK(patient.Join().ok());
  CHECK(pool->stats().timeouts == 1);
}

TEST_CASE("an acquire on an exhausted pool fails after acquire_timeout with the pool's state",
          "[acquire][timeout]") {
  const absl::Duration timeout = absl::Milliseconds(200);
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .name("orders")
                  .max_size(1)
                  .acquire_timeout(timeout)
                  .build();
  REQUIRE(pool.ok());
  auto holder = pool->acquire();
  REQUIRE(holder.ok());

  const absl::Time start = absl::Now();
  auto second = pool->acquire();
  const absl::Duration elapsed = absl::Now() - start;

  REQUIRE_FALSE(second.ok());
  const absl::Status& status = second.status();
  INFO(status.ToString());
  CHECK(status.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(elapsed >= timeout);
  CHECK(elapsed < timeout + absl::Seconds(2));
  CHECK(absl::StrContains(status.message(), "orders"));
  CHECK(absl::StrContains(status.message(), "total=1"));
  CHECK(absl::StrContains(status.message(), "in_use=1"));
  CHECK(absl::StrContains(status.message(), "waiting="));
  const PoolStats s = pool->stats();
  CHECK(s.timeouts == 1);
  CHECK(s.waiting == 0);
  CHECK(s.in_use == 1);
}

TEST_CASE("AcquireOptions.timeout overrides the pool's acquire_timeout", "[acquire][timeout]") {
  auto server = FakeServer::Create();
  auto pool =
      FakePool::Builder().dsn(server->dsn()).max_size(1).acquire_timeout(absl::Seconds(60)).build();
  REQUIRE(pool.ok());
  auto holder = pool->acquire();
  REQUIRE(holder.ok());

  AcquireOptions options;
  options.timeout = absl::Milliseconds(100);
  const absl::Time start = absl::Now();
  auto second = pool->acquire(options);
  const absl::Duration elapsed = absl::Now() - start;
  CHECK(second.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(elapsed >= absl::Milliseconds(100));
  CHECK(elapsed < absl::Seconds(10));
}

TEST_CASE("an acquire with timeout 0 fails at once when every connection is leased",
          "[acquire][timeout]") {
  auto server = FakeServer::Create();
  auto pool =
      FakePool::Builder().dsn(server->dsn()).max_size(2).acquire_timeout(absl::Seconds(60)).build();
  REQUIRE(pool.ok());
  std::vector<FakeLease> leases = LeaseAll(*pool, 2);

  AcquireOptions now_or_never;
  now_or_never.timeout = absl::ZeroDuration();
  const absl::Time start = absl::Now();
  auto lease = pool->acquire(now_or_never);
  const absl::Duration elapsed = absl::Now() - start;
  CHECK(lease.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(elapsed < absl::Seconds(2));
  CHECK(pool->stats().waiting == 0);

  SECTION("but takes an idle connection") {
    leases.pop_back();
    auto idle = pool->acquire(now_or_never);
    CHECK(idle.ok());
  }
}

TEST_CASE("when connects fail with kUnavailable, acquire returns kUnavailable naming the error",
          "[acquire][connect]") {
  auto server = FakeServer::Create();
  server->set_connect_error(absl::UnavailableError("fake: connection refused"));
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .acquire_timeout(absl::Milliseconds(300))
                  .build();
  REQUIRE(pool.ok());

  const absl::Time start = absl::Now();
  auto lease = pool->acquire();
  const absl::Duration elapsed = absl::Now() - start;
  REQUIRE_FALSE(lease.ok());
  INFO(lease.status().ToString());
  CHECK(lease.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(lease.status().message(), "fake: connection refused"));
  CHECK(elapsed < absl::Seconds(5));
  const PoolStats s = pool->stats();
  CHECK(s.connect_failures >= 1);
  CHECK(absl::StrContains(s.last_connect_error, "fake: connection refused"));
  CHECK(s.total == 0);
}

TEST_CASE("a credential error fails acquires fast and reconnects back off", "[acquire][connect]") {
  auto server = FakeServer::Create();
  server->set_connect_error(absl::UnauthenticatedError("fake: password authentication failed"));
  auto pool =
      FakePool::Builder().dsn(server->dsn()).max_size(4).acquire_timeout(absl::Seconds(30)).build();
  REQUIRE(pool.ok());

  const absl::Time start = absl::Now();
  for (int i = 0; i < 20; ++i) {
    auto lease = pool->acquire();
    REQUIRE_FALSE(lease.ok());
    CHECK(lease.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(absl::StrContains(lease.status().message(), "password authentication failed"));
  }
  const absl::Duration elapsed = absl::Now() - start;
  CHECK(elapsed < absl::Seconds(5));  // the acquire_timeout is 30s
  const int attempts = server->connect_attempts();
  CHECK(attempts >= 1);
  CHECK(attempts <= 5);  // backoff: no reconnect storm
  CHECK(pool->stats().connect_failures == static_cast<uint64_t>(attempts));

  SECTION("and the pool recovers once the credentials work") {
    server->set_connect_error(absl::OkStatus());
    REQUIRE(Await([&] { return pool->acquire().ok(); }));
    const PoolStats s = pool->stats();
    CHECK(s.created == 1);
    CHECK(s.last_connect_error.empty());
  }
}

TEST_CASE("kPermissionDenied and kNotFound connect errors also fail fast", "[acquire][connect]") {
  const absl::Status error = GENERATE(absl::PermissionDeniedError("fake: no access to db"),
                                      absl::NotFoundError("fake: no such database"));
  auto server = FakeServer::Create();
  server->set_connect_error(error);
  auto pool =
      FakePool::Builder().dsn(server->dsn()).max_size(2).acquire_timeout(absl::Seconds(30)).build();
  REQUIRE(pool.ok());
  const absl::Time start = absl::Now();
  auto lease = pool->acquire();
  CHECK(lease.status().code() == error.code());
  CHECK(absl::Now() - start < absl::Seconds(5));
}

TEST_CASE("close() fails waiting acquires and every later acquire with kFailedPrecondition",
          "[acquire][close]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .name("reports")
                  .max_size(2)
                  .acquire_timeout(absl::Seconds(60))
                  .build();
  REQUIRE(pool.ok());
  std::vector<FakeLease> leases = LeaseAll(*pool, 2);
  leases.pop_back();  // one idle, one leased
  std::vector<FakeLease> again = LeaseAll(*pool, 1);
  REQUIRE(pool->stats().in_use == 2);

  BackgroundAcquire waiter(*pool);
  REQUIRE(Await([&] { return pool->stats().waiting == 1; }));
  pool->close();
  auto& waited = waiter.Join();
  CHECK(waited.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(waited.status().message(), "reports"));
  CHECK(waiter.elapsed() < absl::Seconds(30));

  auto later = pool->acquire();
  CHECK(later.status().code() == absl::StatusCode::kFailedPrecondition);

  // Leases still out stay usable, and close their connection on return.
  REQUIRE(server->open_connections() == 2);
  CHECK(leases[0].native()->Query().ok());
  leases.clear();
  again.clear();
  CHECK(server->open_connections() == 0);
  const PoolStats s = pool->stats();
  CHECK(s.total == 0);
  CHECK(s.in_use == 0);
  CHECK(s.idle == 0);

  pool->close();  // idempotent
  CHECK(pool->acquire().status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("close() closes idle connections at once", "[acquire][close]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(3).build();
  REQUIRE(pool.ok());
  LeaseAll(*pool, 3);
  REQUIRE(server->open_connections() == 3);
  pool->close();
  CHECK(server->open_connections() == 0);
  CHECK(pool->stats().total == 0);
}

TEST_CASE("a lease that outlives its pool releases safely and closes its connection",
          "[acquire][lifetime]") {
  auto server = FakeServer::Create();
  FakeLease lease;
  {
    auto pool = FakePool::Builder().dsn(server->dsn()).max_size(2).build();
    REQUIRE(pool.ok());
    std::vector<FakeLease> two = LeaseAll(*pool, 2);
    lease = std::move(two[0]);
    two.clear();  // the other one goes back idle
    REQUIRE(server->open_connections() == 2);
  }
  // The last pool handle is gone: idle connections closed, the lease's not.
  CHECK(server->open_connections() == 1);
  REQUIRE(lease.valid());
  CHECK(lease.native()->Query().ok());
  lease.release();
  CHECK_FALSE(lease.valid());
  CHECK(server->open_connections() == 0);
  lease.release();  // again: nothing happens
}

TEST_CASE("a lease that outlives its pool can also be discarded", "[acquire][lifetime]") {
  auto server = FakeServer::Create();
  FakeLease lease;
  {
    auto pool = FakePool::Builder().dsn(server->dsn()).max_size(1).build();
    REQUIRE(pool.ok());
    auto acquired = pool->acquire();
    REQUIRE(acquired.ok());
    lease = *std::move(acquired);
  }
  lease.discard();
  CHECK(server->open_connections() == 0);
}

TEST_CASE("pool copies share one pool", "[acquire]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(1).build();
  REQUIRE(pool.ok());
  auto copy = std::make_unique<FakePool>(*pool);

  auto lease = copy->acquire();
  REQUIRE(lease.ok());
  CHECK(pool->stats().in_use == 1);
  CHECK(pool->stats().acquired == 1);
  AcquireOptions now_or_never;
  now_or_never.timeout = absl::ZeroDuration();
  CHECK(pool->acquire(now_or_never).status().code() == absl::StatusCode::kDeadlineExceeded);

  // Dropping one handle does not close the pool.
  copy.reset();
  lease->release();
  auto again = pool->acquire();
  REQUIRE(again.ok());
  again->release();
  CHECK(server->connects() == 1);

  // Closing through any handle closes it for all.
  FakePool other = *pool;
  other.close();
  CHECK(pool->acquire().status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("discard() closes the connection and the next acquire opens a new one",
          "[acquire][discard]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  const int id = lease->native()->id;
  lease->discard();
  CHECK_FALSE(lease->valid());
  CHECK(lease->native() == nullptr);
  CHECK(server->open_connections() == 0);
  PoolStats s = pool->stats();
  CHECK(s.closed_discarded == 1);
  CHECK(s.total == 0);
  CHECK(s.in_use == 0);
  lease->discard();  // again: nothing happens
  CHECK(pool->stats().closed_discarded == 1);

  auto next = pool->acquire();
  REQUIRE(next.ok());
  CHECK(next->native()->id != id);
  CHECK(server->connects() == 2);
}

TEST_CASE("min_idle connections open in the background after build", "[acquire][min_idle]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(5).min_idle(3).build();
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return pool->stats().idle == 3; }));
  const PoolStats s = pool->stats();
  CHECK(s.total == 3);
  CHECK(s.acquired == 0);
  CHECK(s.created == 3);
  CHECK(server->connects() == 3);
}

TEST_CASE("min_idle is restored after acquires take idle connections", "[acquire][min_idle]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(5).min_idle(2).build();
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return pool->stats().idle == 2; }));
  std::vector<FakeLease> leases = LeaseAll(*pool, 2);
  REQUIRE(Await([&] {
    const PoolStats s = pool->stats();
    return s.idle == 2 && s.in_use == 2;
  }));
  CHECK(server->connects() == 4);
}

TEST_CASE("a blocked connect fails at connect_timeout and the acquire still returns an error",
          "[acquire][connect]") {
  auto server = FakeServer::Create();
  server->block_connects();
  FailoverPolicy fast;
  fast.backoff_initial(absl::Milliseconds(10)).backoff_max(absl::Milliseconds(50));
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .connect_timeout(absl::Milliseconds(100))
                  .acquire_timeout(absl::Seconds(1))
                  .failover(fast)
                  .build();
  REQUIRE(pool.ok());

  const absl::Time start = absl::Now();
  BackgroundAcquire acquire(*pool);
  REQUIRE(Await([&] { return pool->stats().connect_failures >= 1; }));
  const absl::Duration first_failure = absl::Now() - start;
  CHECK(first_failure >= absl::Milliseconds(90));
  CHECK(first_failure < absl::Seconds(2));
  CHECK(absl::StrContains(pool->stats().last_connect_error, "timed out"));

  auto& lease = acquire.Join();
  REQUIRE_FALSE(lease.ok());
  INFO(lease.status().ToString());
  CHECK(lease.status().code() == absl::StatusCode::kUnavailable);
  CHECK(acquire.elapsed() >= absl::Seconds(1));
  CHECK(acquire.elapsed() < absl::Seconds(3));
  // Each attempt was given up at connect_timeout, not at the acquire's
  // deadline: several ended within the acquire's one second (each takes
  // 100 ms plus a backoff of at most 50 ms).
  CHECK(pool->stats().connect_failures >= 3);
  server->unblock_connects();
}

TEST_CASE("an acquire waiting on a blocked connect is served once connects unblock",
          "[acquire][connect]") {
  auto server = FakeServer::Create();
  server->block_connects();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .connect_timeout(absl::Seconds(30))
                  .acquire_timeout(absl::Seconds(60))
                  .build();
  REQUIRE(pool.ok());
  BackgroundAcquire acquire(*pool);
  REQUIRE(Await([&] { return pool->stats().connecting == 1 && pool->stats().waiting == 1; }));
  server->unblock_connects();
  auto& lease = acquire.Join();
  REQUIRE(lease.ok());
  CHECK(lease->native()->Query().ok());
  CHECK(pool->stats().connect_failures == 0);
}

}  // namespace
}  // namespace dbpool
