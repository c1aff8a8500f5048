// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The application's code cannot break the pool: listener callbacks, log
// sinks and credentials providers that throw leak no slot, kill no pool
// thread and never reach std::terminate; a credentials provider that hangs
// holds neither a pool thread past connect_timeout nor close().
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
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

// Counts every event, then throws.
struct ThrowingListener : PoolListener {
  std::atomic<int> connects{0}, acquires{0}, releases{0}, closes{0}, failovers{0}, leaks{0};
  void on_connect(const ConnectEvent&) override {
    ++connects;
    throw std::runtime_error("listener: connect");
  }
  void on_acquire(const AcquireEvent&) override {
    ++acquires;
    throw std::runtime_error("listener: acquire");
  }
  void on_release(const ReleaseEvent&) override {
    ++releases;
    throw std::runtime_error("listener: release");
  }
  void on_close(const CloseEvent&) override {
    ++closes;
    throw std::runtime_error("listener: close");
  }
  void on_failover(const FailoverEvent&) override {
    ++failovers;
    throw 42;  // not even a std::exception
  }
  void on_leak(const LeakEvent&) override {
    ++leaks;
    throw std::runtime_error("listener: leak");
  }
};

TEST_CASE("a listener that throws from every callback leaks no slot and stops no pool thread",
          "[user_code]") {
  auto server = FakeServer::Create();
  auto listener = std::make_shared<ThrowingListener>();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .acquire_timeout(absl::Seconds(20))
                  .leak_detection_threshold(absl::Milliseconds(10))
                  .listener(listener)
                  .build();
  REQUIRE(pool.ok());
  for (int round = 0; round < 5; ++round) {
    auto a = pool->acquire();
    auto b = pool->acquire();
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    if (round == 2) b->discard();  // a close event on the caller's thread
  }
  PoolStats s = pool->stats();
  CHECK(s.in_use == 0);
  CHECK(s.total == server->open_connections());
  CHECK(listener->acquires == 10);
  CHECK(listener->releases == 9);  // a discard is no release
  CHECK(listener->closes == 1);

  // The housekeeper survives a throwing on_leak: after one, it reports the
  // next lease held too long. (Counted from what came before: on a slow
  // machine a lease of the rounds above may have been held past 10 ms too.)
  for (int held_round = 0; held_round < 2; ++held_round) {
    const int leaks_before = listener->leaks.load();
    auto held = pool->acquire();
    REQUIRE(held.ok());
    REQUIRE(Await([&] { return listener->leaks.load() > leaks_before; }));
  }
  // The openers survive a throwing on_connect: a discarded connection is
  // replaced.
  const int connects_before = listener->connects;
  {
    auto a = pool->acquire();
    auto b = pool->acquire();
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    a->discard();
    b->discard();
  }
  auto a = pool->acquire();
  auto b = pool->acquire();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(listener->connects >= connects_before + 2);
  CHECK(pool->stats().in_use == 2);
}

TEST_CASE("a throwing on_failover does not stop the prober", "[user_code]") {
  auto server = FakeServer::Create();
  ProbeResult replica;  // one primary, one replica: two writable ones would be a split brain
  replica.role = Role::kReplica;
  server->set_probe(Endpoint{"fake", 2}, replica);
  auto listener = std::make_shared<ThrowingListener>();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .endpoint("fake", 1)
                  .endpoint("fake", 2)
                  .failover(FailoverPolicy().probe_interval(absl::Milliseconds(10)))
                  .listener(listener)
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return listener->failovers.load() >= 1; }));
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
}

TEST_CASE("a log sink that throws loses its lines, and the listener behind it still runs",
          "[user_code]") {
  auto server = FakeServer::Create();
  auto counter = std::make_shared<ThrowingListener>();
  std::atomic<int> lines{0};
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .listener(counter)
                  .log_sink(
                      [&lines](LogLevel, absl::string_view) {
                        ++lines;
                        throw std::runtime_error("sink");
                      },
                      LogLevel::kDebug)
                  .build();
  REQUIRE(pool.ok());
  for (int i = 0; i < 3; ++i) {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
  }
  CHECK(counter->acquires == 3);
  CHECK(counter->releases == 3);
  CHECK(lines >= 6);
  CHECK(pool->stats().in_use == 0);
  CHECK(pool->stats().idle == 1);
}

TEST_CASE("a credentials provider that throws fails the connect with kInternal, never its text",
          "[user_code][credentials]") {
  auto server = FakeServer::Create();
  std::atomic<bool> throws{true};
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(1)
                  .acquire_timeout(absl::Milliseconds(300))
                  .credentials([&throws](const Endpoint&) -> absl::StatusOr<Credentials> {
                    if (throws) throw std::runtime_error("token s3cr3t-t0ken expired");
                    return Credentials{"app", "pw"};
                  })
                  .build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE_FALSE(lease.ok());
  CHECK(lease.status().code() == absl::StatusCode::kUnavailable);
  const PoolStats s = pool->stats();
  CHECK(absl::StrContains(s.last_connect_error, "credentials provider: threw an exception"));
  CHECK_FALSE(absl::StrContains(s.last_connect_error, "s3cr3t"));
  CHECK_FALSE(absl::StrContains(lease.status().message(), "s3cr3t"));
  CHECK(s.total == 0);
  CHECK(s.connect_failures >= 1);

  // The opener thread lived on: once the provider answers, the pool serves.
  throws = false;
  AcquireOptions patient;
  patient.timeout = absl::Seconds(20);
  auto later = pool->acquire(patient);
  REQUIRE(later.ok());
}

// A provider that blocks until released; shared with the calls it outlives.
struct HangingProvider {
  absl::Notification release;
  std::atomic<int> calls{0};
  std::atomic<int> returned{0};
};

CredentialsProvider Hangs(std::shared_ptr<HangingProvider> state) {
  return [state](const Endpoint&) -> absl::StatusOr<Credentials> {
    if (++state->calls == 1) state->release.WaitForNotification();
    ++state->returned;
    return Credentials{"app", "pw"};
  };
}

// A pool of one connection whose connects ask `state`'s provider.
absl::StatusOr<FakePool> HangingPool(const FakeServer& server,
                                     std::shared_ptr<HangingProvider> state,
                                     absl::Duration acquire_timeout) {
  return FakePool::Builder()
      .dsn(server.dsn())
      .max_size(1)
      .connect_timeout(absl::Milliseconds(200))
      .acquire_timeout(acquire_timeout)
      .credentials(Hangs(std::move(state)))
      .build();
}

TEST_CASE("a credentials provider that hangs fails connects at connect_timeout and is called once",
          "[user_code][credentials]") {
  auto server = FakeServer::Create();
  auto state = std::make_shared<HangingProvider>();
  auto pool = HangingPool(*server, state, absl::Seconds(1));
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE_FALSE(lease.ok());
  CHECK(lease.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(lease.status().message(), "credentials provider: "));

  // Reconnects go on (the opener is not held), and none calls the provider
  // again while the first call hangs.
  REQUIRE(Await([&] { return pool->stats().connect_failures >= 3; }));
  CHECK(state->calls == 1);
  CHECK(absl::StrContains(pool->stats().last_connect_error,
                          "credentials provider: an earlier call has not returned"));

  // Once it returns, the next connect calls it again, and the pool serves.
  state->release.Notify();
  AcquireOptions patient;
  patient.timeout = absl::Seconds(20);
  REQUIRE(pool->acquire(patient).ok());
  CHECK(state->calls == 2);
}

TEST_CASE("close() does not wait for a credentials provider that hangs",
          "[user_code][credentials]") {
  auto server = FakeServer::Create();
  auto state = std::make_shared<HangingProvider>();
  {
    auto pool = HangingPool(*server, state, absl::Milliseconds(50));
    REQUIRE(pool.ok());
    CHECK_FALSE(pool->acquire().ok());  // starts a connect, which calls the provider
    REQUIRE(Await([&] { return state->calls == 1; }));
    pool->close();  // with the provider still in its call: returns
    CHECK(state->returned == 0);
  }
  // The call, released, returns on its own thread; nothing is left waiting.
  state->release.Notify();
  CHECK(Await([&] { return state->returned == 1; }));
}

}  // namespace
}  // namespace dbpool
