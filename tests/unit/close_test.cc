// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// close() closes: a release racing it leaves no connection open, a second
// close() returns once the first has finished, and close() (or dropping the
// last handle) from a listener on a pool thread does not try to join that
// thread; round trips of the pool's own that a stalled server holds
// (keepalive pings, resets, the probers' probes, the role check after a
// read-only rejection) and connects it keeps
// waiting (the openers', the probers') are interrupted rather than waited
// out.
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
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

TEST_CASE("a lease returned inside a transaction while close() runs has its connection closed",
          "[close][concurrency]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(2).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  lease->native()->in_transaction = true;  // its return needs a rollback

  // The release stops inside session_state(), after its closed check and
  // before it queues the rollback; close() runs meanwhile.
  absl::Notification entered, go;
  std::atomic<bool> armed{true};
  server->set_session_state_hook([&] {
    if (armed.exchange(false)) {
      entered.Notify();
      go.WaitForNotification();
    }
  });
  std::thread releaser([&] { lease->release(); });
  entered.WaitForNotification();
  pool->close();
  go.Notify();
  releaser.join();
  server->set_session_state_hook(nullptr);
  // Without a closed check under the lock, the slot sat in the reset queue
  // of an exited resetter: open (in its transaction) until the core died.
  CHECK(Await([&] { return server->open_connections() == 0 && pool->stats().total == 0; },
              absl::Seconds(5)));
}

TEST_CASE("under ResetPolicy::Full returns racing close() leave no connection open",
          "[close][concurrency]") {
  for (int round = 0; round < 200; ++round) {
    auto server = FakeServer::Create();
    auto pool = FakePool::Builder()
                    .dsn(server->dsn())
                    .max_size(4)
                    .reset_policy(ResetPolicy::Full())
                    .acquire_timeout(absl::Seconds(20))
                    .build();
    REQUIRE(pool.ok());
    std::atomic<int> cycles{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, p = *pool] {
        for (;;) {
          auto lease = p.acquire();
          if (!lease.ok()) return;  // closed
          ++cycles;
        }
      });
    }
    REQUIRE(Await([&] { return cycles.load() > 50; }));
    pool->close();
    for (std::thread& t : threads) t.join();
    INFO("round " << round);
    REQUIRE(Await([&] { return server->open_connections() == 0 && pool->stats().total == 0; },
                  absl::Seconds(5)));
  }
}

TEST_CASE("a second close() returns only once the first has closed everything",
          "[close][concurrency]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(2).build();
  REQUIRE(pool.ok());
  REQUIRE(pool->acquire().ok());  // one idle connection
  REQUIRE(server->open_connections() == 1);

  server->block_closes();  // the first close() hangs closing it
  std::thread first([&] { pool->close(); });
  REQUIRE(Await([&] { return server->closing_connections() == 1; }));
  std::atomic<bool> second_returned{false};
  std::atomic<int> open_when_second_returned{-1};
  std::thread second([&] {
    pool->close();
    open_when_second_returned = server->open_connections();
    second_returned = true;
  });
  // Give a wrongly early return the chance to happen (time is the point).
  absl::SleepFor(absl::Milliseconds(100));
  CHECK_FALSE(second_returned.load());
  server->unblock_closes();
  first.join();
  second.join();
  CHECK(open_when_second_returned.load() == 0);
}

TEST_CASE("close() from a listener on a pool thread closes the pool without a self-join",
          "[close][events]") {
  struct CloseOnConnect : PoolListener {
    std::atomic<const FakePool*> pool{nullptr};
    std::atomic<int> closed{0};
    void on_connect(const ConnectEvent&) override {
      if (const FakePool* p = pool.load()) {
        p->close();  // on an opener thread
        ++closed;
      }
    }
  };
  auto server = FakeServer::Create();
  auto listener = std::make_shared<CloseOnConnect>();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .acquire_timeout(absl::Seconds(20))
                  .listener(listener)
                  .build();
  REQUIRE(pool.ok());
  listener->pool = &*pool;
  auto lease = pool->acquire();
  CHECK(lease.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Await([&] { return listener->closed.load() == 1; }));
  CHECK(Await([&] { return server->open_connections() == 0; }));
  CHECK(pool->acquire().status().code() == absl::StatusCode::kFailedPrecondition);
  listener->pool = nullptr;
}

TEST_CASE("close() from on_failover on a prober closes the pool without a self-join",
          "[close][events]") {
  struct CloseOnFailover : PoolListener {
    std::atomic<const FakePool*> pool{nullptr};
    std::atomic<int> closed{0};
    void on_failover(const FailoverEvent&) override {
      // The first failover (none -> fake:1) may come before build() returns.
      if (Await([&] { return pool.load() != nullptr; })) {
        pool.load()->close();  // on a prober thread
        ++closed;
      }
    }
  };
  auto server = FakeServer::Create();
  auto listener = std::make_shared<CloseOnFailover>();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .endpoint("fake", 1)
                  .endpoint("fake", 2)
                  .failover(FailoverPolicy().probe_interval(absl::Milliseconds(10)))
                  .listener(listener)
                  .build();
  REQUIRE(pool.ok());
  listener->pool = &*pool;
  CHECK(Await([&] { return listener->closed.load() >= 1; }));
  CHECK(Await(
      [&] { return pool->acquire().status().code() == absl::StatusCode::kFailedPrecondition; }));
  listener->pool = nullptr;
}

TEST_CASE("dropping the last pool handle in a listener on a pool thread closes the pool",
          "[close][events]") {
  struct DropOnConnect : PoolListener {
    absl::Mutex mu;
    std::optional<FakePool> pool ABSL_GUARDED_BY(mu);
    void on_connect(const ConnectEvent&) override {
      std::optional<FakePool> last;
      {
        absl::MutexLock lock(&mu);
        last.swap(pool);
      }
      last.reset();  // the last handle, on an opener thread
    }
  };
  auto server = FakeServer::Create();
  auto listener = std::make_shared<DropOnConnect>();
  std::weak_ptr<DropOnConnect> watch = listener;
  server->block_connects();  // no connect ends before the handle is handed over
  {
    auto pool = FakePool::Builder().dsn(server->dsn()).min_idle(1).listener(listener).build();
    REQUIRE(pool.ok());
    absl::MutexLock lock(&listener->mu);
    listener->pool = *std::move(pool);
  }
  listener.reset();  // the pool (through its options) holds the only reference now
  server->unblock_connects();
  // min_idle opens a connection; its on_connect drops the last handle. The
  // pool is closed and destroyed (and with it the listener) off that thread.
  CHECK(Await([&] { return watch.expired(); }));
  CHECK(server->open_connections() == 0);
}

using testing::FakeOp;
using testing::Stall;

// close() on another thread; whether it returned within `within` (far
// below the stalled round trips' 60 s deadline).
bool ClosesWithin(FakePool& pool, absl::Duration within) {
  std::atomic<bool> closed{false};
  std::thread closer([&] {
    pool.close();
    closed = true;
  });
  const bool in_time = Await([&] { return closed.load(); }, within);
  closer.join();
  return in_time;
}

TEST_CASE("close() interrupts a keepalive ping stalled on the socket", "[close][housekeeping]") {
  auto server = FakeServer::Create();
  server->stall(FakeOp::kPing, Stall::kUntilDeadline);
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .min_idle(1)
                  .keepalive_interval(absl::Milliseconds(10))
                  .validation_timeout(absl::Seconds(60))
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return server->stalled_calls() == 1; }));  // the housekeeper's ping
  CHECK(ClosesWithin(*pool, absl::Seconds(10)));
  CHECK(server->open_connections() == 0);
  CHECK(pool->stats().validation_failures == 0);  // not the server's fault
}

TEST_CASE("close() interrupts a reset stalled on the socket", "[close][hygiene]") {
  auto server = FakeServer::Create();
  server->stall(FakeOp::kFullReset, Stall::kUntilDeadline);
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .reset_policy(ResetPolicy::Full())
                  .validation_timeout(absl::Seconds(60))
                  .build();
  REQUIRE(pool.ok());
  {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
  }  // its return queues a reset, which stalls
  REQUIRE(Await([&] { return server->stalled_calls() == 1; }));
  CHECK(ClosesWithin(*pool, absl::Seconds(10)));
  CHECK(server->open_connections() == 0);
}

TEST_CASE("close() abandons a connect that a silent server holds", "[close][connect]") {
  auto server = FakeServer::Create();
  server->block_connects();  // as a server that accepted TCP and fell silent
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .min_idle(1)
                  .connect_timeout(absl::Seconds(60))
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return server->connect_attempts() == 1; }));  // the opener's
  CHECK(ClosesWithin(*pool, absl::Seconds(10)));
  CHECK(server->open_connections() == 0);
  CHECK(pool->stats().connect_failures == 0);  // given up by the pool, not refused
  CHECK(server->connect_attempts() == 1);      // and not tried again
}

TEST_CASE("close() abandons the probers' connects", "[close][connect][cluster]") {
  auto server = FakeServer::Create();
  server->block_connects();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .endpoint("a", 1)
                  .endpoint("b", 2)
                  .max_size(1)
                  .connect_timeout(absl::Seconds(60))
                  .failover(FailoverPolicy().probe_timeout(absl::Seconds(60)))
                  .build();
  REQUIRE(pool.ok());
  // Each endpoint's prober is connecting.
  REQUIRE(Await([&] { return server->connect_attempts() == 2; }));
  CHECK(ClosesWithin(*pool, absl::Seconds(10)));
  CHECK(server->open_connections() == 0);
}

TEST_CASE("close() interrupts the probers' probes that a stalled server holds",
          "[close][cluster]") {
  auto server = FakeServer::Create();
  const Endpoint a{"a", 1};
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .endpoint(a.host, a.port)
                  .endpoint("b", 2)
                  .max_size(1)
                  .failover(FailoverPolicy()
                                .probe_interval(absl::Milliseconds(10))
                                .probe_timeout(absl::Seconds(60)))
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return server->good_probes(a) >= 1; }));  // its prober is connected
  server->block_probes(a);
  REQUIRE(Await([&] { return server->blocked_probes(a) == 1; }));
  CHECK(ClosesWithin(*pool, absl::Seconds(10)));
  CHECK(server->open_connections() == 0);
  server->unblock_probes(a);
}

// After a read-only rejection, the lease's thread checks whether the
// server was demoted under the pool (Cluster::RecheckRole): it probes the
// lease's own connection, then a new one. Either probe may meet a stalled
// server; close() must end it rather than leave the thread (and the new
// connection) waiting out probe_timeout.
TEST_CASE("close() interrupts the role check that follows a read-only rejection",
          "[close][evict]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .failover(FailoverPolicy().max_attempts(1).probe_timeout(absl::Seconds(60)))
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(pool->acquire().ok());  // connection 1, idle again
  ProbeResult read_only;
  read_only.read_only = true;
  REQUIRE(server->demote_open_connections(Endpoint{"fake", 1}, read_only) == 1);
  int stalled_conn = 0;
  SECTION("the probe on the lease's connection") { stalled_conn = 1; }
  SECTION("the probe on a new connection") { stalled_conn = 2; }
  server->stall(FakeOp::kProbe, stalled_conn, Stall::kUntilDeadline);

  std::atomic<bool> returned{false};
  std::thread writer([&] {
    (void)pool->with_retry([](FakeLease&) {
      return absl::UnavailableError("25006: cannot execute INSERT in a read-only transaction");
    });
    returned = true;
  });
  REQUIRE(Await([&] { return server->stalled_calls() == 1; }));
  CHECK(ClosesWithin(*pool, absl::Seconds(10)));
  CHECK(Await([&] { return returned.load(); }, absl::Seconds(10)));
  server->stall(FakeOp::kProbe, stalled_conn, Stall::kNone);  // frees it if close() did not
  writer.join();
  CHECK(Await([&] { return server->open_connections() == 0; }));
}

}  // namespace
}  // namespace dbpool
