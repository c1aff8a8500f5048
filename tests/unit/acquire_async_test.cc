// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Pool::acquire_async(): an acquire that never blocks its caller. It joins
// the blocking acquires' FIFO queue and deadlines, completes exactly once,
// can be cancelled while it waits, and survives a throwing callback.
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "fake_driver.h"
#include "probe_results.h"

namespace dbpool {
namespace testing {
namespace {

using Lease = FakePool::LeaseType;

// What one acquire_async() call was completed with, and where. Safe to
// read from the test thread while a pool thread completes it.
struct Outcome {
  absl::Mutex mu;
  int calls ABSL_GUARDED_BY(mu) = 0;
  std::optional<absl::StatusOr<Lease>> result ABSL_GUARDED_BY(mu);
  std::thread::id thread ABSL_GUARDED_BY(mu);

  // The callback for acquire_async(): keeps the lease (if any).
  auto Callback() {
    return [this](absl::StatusOr<Lease> got) {
      absl::MutexLock lock(&mu);
      ++calls;
      thread = std::this_thread::get_id();
      result.emplace(std::move(got));
    };
  }
  int Calls() {
    absl::MutexLock lock(&mu);
    return calls;
  }
  bool Done() { return Calls() > 0; }
  absl::StatusCode Code() {
    absl::MutexLock lock(&mu);
    return result.has_value() ? result->status().code() : absl::StatusCode::kUnknown;
  }
  std::thread::id Thread() {
    absl::MutexLock lock(&mu);
    return thread;
  }
  // Gives the lease back to the pool (or drops the error).
  void Drop() {
    absl::MutexLock lock(&mu);
    result.reset();
  }
};

FakePool OneConnection(const FakeServer& server) {
  auto pool = FakePool::Builder().dsn(server.dsn()).max_size(1).build();
  REQUIRE(pool.ok());
  return *std::move(pool);
}

// One connection, opened and idle, pinged before every hand-out.
FakePool PingingEveryHandout(const FakeServer& server) {
  auto pool = FakePool::Builder()
                  .dsn(server.dsn())
                  .max_size(1)
                  .validation_window(absl::ZeroDuration())
                  .build();
  REQUIRE(pool.ok());
  { REQUIRE(pool->acquire().ok()); }
  return *std::move(pool);
}

// Two endpoints that both answer as replicas (no primary yet), each probed
// once.
FakePool TwoReplicas(FakeServer& server, const Endpoint& a, const Endpoint& b) {
  server.set_probe(a, Replica());
  server.set_probe(b, Replica());
  FakePool::Builder builder;
  builder.dsn(server.dsn()).endpoint(a.host, a.port).endpoint(b.host, b.port).max_size(2);
  builder.failover(FailoverPolicy()
                       .probe_interval(absl::Milliseconds(10))
                       .probe_timeout(absl::Milliseconds(500))
                       .failure_threshold(2)
                       .recovery_threshold(1));
  auto pool = builder.build();
  REQUIRE(pool.ok());
  REQUIRE(Await([&] { return server.good_probes(a) > 0 && server.good_probes(b) > 0; }));
  return *std::move(pool);
}

TEST_CASE("acquire_async hands an idle connection over on the calling thread", "[async]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnection(*server);
  { REQUIRE(pool.acquire().ok()); }  // one connection opened and idle
  Outcome out;
  PendingAcquire pending = pool.acquire_async(out.Callback());
  REQUIRE(out.Calls() == 1);  // before acquire_async returned
  CHECK(out.Thread() == std::this_thread::get_id());
  CHECK(out.Code() == absl::StatusCode::kOk);
  CHECK_FALSE(pending.cancel());  // nothing left to cancel
  CHECK(pool.stats().in_use == 1);
  out.Drop();
  CHECK(pool.stats().in_use == 0);
  CHECK(pool.stats().idle == 1);
}

TEST_CASE(
    "acquire_async waits without a thread and gets the next released connection on the releasing "
    "thread",
    "[async]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnection(*server);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  Outcome out;
  pool.acquire_async(out.Callback());
  CHECK_FALSE(out.Done());
  CHECK(pool.stats().waiting == 1);
  held->release();
  // Completed by the release itself, on the releasing thread: no hop to a
  // pool thread.
  REQUIRE(out.Calls() == 1);
  CHECK(out.Code() == absl::StatusCode::kOk);
  CHECK(out.Thread() == std::this_thread::get_id());
  CHECK(pool.stats().waiting == 0);
  CHECK(pool.stats().in_use == 1);
  CHECK(server->open_connections() == 1);
}

TEST_CASE("a callback that releases its lease hands the connection on through a pool thread",
          "[async]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnection(*server);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  Outcome second;
  std::atomic<int> first_calls{0};
  std::atomic<bool> first_ok{false};
  std::atomic<std::thread::id> first_thread;
  pool.acquire_async([&](absl::StatusOr<Lease> got) {
    first_thread.store(std::this_thread::get_id());
    first_ok.store(got.ok());
    first_calls.fetch_add(1);
    // Dropping `got` here releases the connection to the next waiter,
    // whose callback must not run nested inside this one.
  });
  pool.acquire_async(second.Callback());
  held->release();
  REQUIRE(first_calls.load() == 1);
  CHECK(first_ok.load());
  CHECK(first_thread.load() == std::this_thread::get_id());
  REQUIRE(Await([&] { return second.Done(); }));
  CHECK(second.Code() == absl::StatusCode::kOk);
  CHECK(second.Thread() != std::this_thread::get_id());  // the async thread
}

TEST_CASE("async and blocking acquires are served in one FIFO order", "[async][fifo]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnection(*server);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  std::atomic<int> next{0};
  std::atomic<int> first_blocking{-1}, async_turn{-1}, second_blocking{-1};
  auto blocking = [&](std::atomic<int>* turn) {
    auto lease = pool.acquire();
    if (!lease.ok()) return;
    turn->store(next.fetch_add(1));
  };
  std::thread t1(blocking, &first_blocking);
  REQUIRE(Await([&] { return pool.stats().waiting == 1; }));
  Outcome out;
  pool.acquire_async([&](absl::StatusOr<Lease> got) {
    if (got.ok()) async_turn.store(next.fetch_add(1));
    out.Callback()(std::move(got));
    out.Drop();  // returns it at once, to the next in line
  });
  REQUIRE(pool.stats().waiting == 2);
  std::thread t2(blocking, &second_blocking);
  REQUIRE(Await([&] { return pool.stats().waiting == 3; }));
  held->release();
  t1.join();
  t2.join();
  REQUIRE(Await([&] { return out.Done(); }));
  CHECK(first_blocking.load() == 0);
  CHECK(async_turn.load() == 1);
  CHECK(second_blocking.load() == 2);
}

TEST_CASE("acquire_async times out at its deadline with the blocking acquire's error",
          "[async][deadline]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnection(*server);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  Outcome out;
  AcquireOptions options;
  options.timeout = absl::Milliseconds(100);
  const absl::Time start = absl::Now();
  pool.acquire_async(out.Callback(), options);
  REQUIRE(Await([&] { return out.Done(); }));
  const absl::Duration took = absl::Now() - start;
  CHECK(out.Code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(took >= absl::Milliseconds(100));
  CHECK(took < absl::Seconds(5));  // not held up by anything but its deadline
  const PoolStats stats = pool.stats();
  CHECK(stats.waiting == 0);
  CHECK(stats.timeouts == 1);
  held->release();
  CHECK(out.Calls() == 1);  // the release completes nothing more
}

TEST_CASE("a cancelled acquire_async completes with kCancelled and takes no connection",
          "[async][cancel]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnection(*server);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  Outcome cancelled, later;
  PendingAcquire pending = pool.acquire_async(cancelled.Callback());
  pool.acquire_async(later.Callback());
  REQUIRE(pool.stats().waiting == 2);
  REQUIRE(pending.cancel());
  REQUIRE(cancelled.Calls() == 1);  // on this thread, before cancel() returned
  CHECK(cancelled.Thread() == std::this_thread::get_id());
  CHECK(cancelled.Code() == absl::StatusCode::kCancelled);
  CHECK(pool.stats().waiting == 1);
  CHECK_FALSE(pending.cancel());  // once only
  held->release();
  // The connection goes to the acquire queued after the cancelled one.
  REQUIRE(Await([&] { return later.Done(); }));
  CHECK(later.Code() == absl::StatusCode::kOk);
  CHECK(cancelled.Calls() == 1);
  CHECK(pool.stats().in_use == 1);
}

TEST_CASE("cancel after the connection was handed over changes nothing", "[async][cancel]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnection(*server);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  Outcome out;
  PendingAcquire pending = pool.acquire_async(out.Callback());
  held->release();
  REQUIRE(Await([&] { return out.Done(); }));
  CHECK_FALSE(pending.cancel());
  CHECK(out.Calls() == 1);
  CHECK(out.Code() == absl::StatusCode::kOk);
  CHECK(pool.stats().in_use == 1);
}

TEST_CASE("close() completes every pending acquire_async once with kFailedPrecondition",
          "[async][close]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnection(*server);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  std::vector<std::unique_ptr<Outcome>> outs;
  for (int i = 0; i < 3; ++i) {
    outs.push_back(std::make_unique<Outcome>());
    pool.acquire_async(outs.back()->Callback());
  }
  pool.close();  // returns once the async thread has completed them
  for (auto& out : outs) {
    CHECK(out->Calls() == 1);
    CHECK(out->Code() == absl::StatusCode::kFailedPrecondition);
  }
  Outcome after;
  pool.acquire_async(after.Callback());
  CHECK(after.Calls() == 1);
  CHECK(after.Code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("acquire_async does not block its caller on a validation ping", "[async][deadline]") {
  auto server = FakeServer::Create();
  FakePool pool = PingingEveryHandout(*server);
  server->stall(FakeOp::kPing, Stall::kIgnoringDeadline);
  Outcome out;
  pool.acquire_async(out.Callback());
  // Returned while the ping hangs on the async thread.
  REQUIRE(Await([&] { return server->stalled_calls() == 1; }));
  CHECK_FALSE(out.Done());
  server->stall(FakeOp::kPing, Stall::kNone);
  REQUIRE(Await([&] { return out.Done(); }));
  CHECK(out.Code() == absl::StatusCode::kOk);
  CHECK(out.Thread() != std::this_thread::get_id());
}

TEST_CASE("a connection that fails its check is replaced for the same async acquire",
          "[async][validation]") {
  auto server = FakeServer::Create();
  FakePool pool = PingingEveryHandout(*server);
  server->kill_all();  // the idle connection's ping fails
  Outcome out;
  pool.acquire_async(out.Callback());
  REQUIRE(Await([&] { return out.Done(); }));
  CHECK(out.Code() == absl::StatusCode::kOk);
  CHECK(server->connects() == 2);
  CHECK(pool.stats().validation_failures == 1);
  CHECK(out.Calls() == 1);
}

TEST_CASE("a throwing acquire_async callback neither kills the pool thread nor leaks the lease",
          "[async][user_code]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnection(*server);
  auto held = pool.acquire();
  REQUIRE(held.ok());
  std::atomic<int> threw{0};
  pool.acquire_async([&](absl::StatusOr<Lease> got) {
    threw.fetch_add(1);
    if (got.ok()) throw std::runtime_error("from the callback");
  });
  held->release();
  REQUIRE(Await([&] { return threw.load() == 1; }));
  // The lease unwound and came back; the async thread still serves.
  REQUIRE(Await([&] { return pool.stats().in_use == 0; }));
  auto again = pool.acquire();
  REQUIRE(again.ok());
  Outcome out;
  pool.acquire_async(out.Callback());
  again->release();
  REQUIRE(Await([&] { return out.Done(); }));
  CHECK(out.Code() == absl::StatusCode::kOk);
}

TEST_CASE("many async acquires share few connections and all complete", "[async]") {
  auto server = FakeServer::Create();
  auto built = FakePool::Builder().dsn(server->dsn()).max_size(4).build();
  REQUIRE(built.ok());
  FakePool pool = *std::move(built);
  constexpr int kAcquires = 500;
  std::atomic<int> ok{0}, failed{0};
  // Each callback holds its lease only for its own run: the next release
  // serves the next waiter.
  for (int i = 0; i < kAcquires; ++i) {
    pool.acquire_async([&](absl::StatusOr<Lease> got) { (got.ok() ? ok : failed).fetch_add(1); });
  }
  REQUIRE(Await([&] { return ok.load() + failed.load() == kAcquires; }));
  CHECK(ok.load() == kAcquires);
  CHECK(server->max_open_connections() <= 4);
  const PoolStats stats = pool.stats();
  CHECK(stats.waiting == 0);
  CHECK(stats.in_use == 0);
}

TEST_CASE("a failover pool's async acquire waits for a primary and is routed to it",
          "[async][cluster]") {
  auto server = FakeServer::Create();
  const Endpoint a{"a", 1}, b{"b", 2};
  FakePool pool = TwoReplicas(*server, a, b);
  Outcome out;
  PendingAcquire pending = pool.acquire_async(out.Callback());  // no primary: parked
  CHECK_FALSE(out.Done());
  server->set_probe(b, Primary());
  REQUIRE(Await([&] { return out.Done(); }));
  REQUIRE(out.Code() == absl::StatusCode::kOk);
  {
    absl::MutexLock lock(&out.mu);
    CHECK((*out.result)->endpoint().port == b.port);
  }
  CHECK_FALSE(pending.cancel());
}

TEST_CASE("a parked async acquire can be cancelled and times out at its deadline",
          "[async][cluster][cancel]") {
  auto server = FakeServer::Create();
  const Endpoint a{"a", 1}, b{"b", 2};
  FakePool pool = TwoReplicas(*server, a, b);
  Outcome cancelled, timed_out;
  PendingAcquire pending = pool.acquire_async(cancelled.Callback());
  AcquireOptions options;
  options.timeout = absl::Milliseconds(100);
  pool.acquire_async(timed_out.Callback(), options);
  REQUIRE(pending.cancel());
  CHECK(cancelled.Calls() == 1);
  CHECK(cancelled.Code() == absl::StatusCode::kCancelled);
  REQUIRE(Await([&] { return timed_out.Done(); }));
  CHECK(timed_out.Code() == absl::StatusCode::kUnavailable);  // no primary endpoint within 100ms
  CHECK(cancelled.Calls() == 1);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
