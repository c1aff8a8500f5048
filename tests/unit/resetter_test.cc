// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Returns that need a round trip (a rollback, a reset) are restored in
// parallel: one stalled server round trip delays no other return, and
// close() still waits for every restore under way.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <utility>
#include <vector>

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

// Releases the stalled calls of `op` on the given connections however the
// test ends; declared after the pool, so that it runs before the pool's
// close (which waits for the stalled calls).
struct Unstall {
  FakeServer& server;
  FakeOp op;
  std::vector<int> ids;
  ~Unstall() {
    for (int id : ids) server.stall(op, id, Stall::kNone);
  }
};

TEST_CASE("a return whose rollback stalls does not delay another return's rollback",
          "[hygiene][resetter][deadline]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .validation_timeout(absl::Seconds(20))
                  .build();
  REQUIRE(pool.ok());
  auto a = pool->acquire();
  auto b = pool->acquire();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const int stalled_id = a->native()->id;
  const int other_id = b->native()->id;
  // The first connection's rollback hangs, whatever its deadline, as on a
  // stalled server socket.
  server->stall(FakeOp::kRollback, stalled_id, Stall::kIgnoringDeadline);
  Unstall unstall{*server, FakeOp::kRollback, {stalled_id}};
  a->native()->in_transaction = true;
  b->native()->in_transaction = true;
  a->release();
  REQUIRE(Await([&] { return server->stalled_calls() == 1; }));
  b->release();

  // The second return is rolled back and handed out while the first is
  // still stalled; with one resetter it waited behind the first (and this
  // acquire timed out, both slots being restored).
  AcquireOptions quick;
  quick.timeout = absl::Seconds(2);
  auto lease = pool->acquire(quick);
  REQUIRE(lease.ok());
  CHECK(lease->native()->id == other_id);
  CHECK_FALSE(lease->native()->in_transaction);
  CHECK(lease->native()->rollbacks == 1);
  CHECK(server->stalled_calls() == 1);
  const PoolStats during = pool->stats();
  CHECK(during.maintenance == 1);  // the stalled one, and only it
  CHECK(during.in_use == 1);
  CHECK(during.rollbacks == 1);

  // Released, the first is rolled back and idle again; nothing stays in
  // maintenance.
  server->stall(FakeOp::kRollback, stalled_id, Stall::kNone);
  lease->release();
  REQUIRE(Await([&] { return pool->stats().idle == 2; }));
  const PoolStats after = pool->stats();
  CHECK(after.maintenance == 0);
  CHECK(after.rollbacks == 2);
  CHECK(after.closed_broken == 0);
  CHECK(server->open_connections() == 2);
}

TEST_CASE("close() waits for every reset under way and leaves no connection open",
          "[hygiene][resetter][close]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(3)
                  .reset_policy(ResetPolicy::Full())
                  .validation_timeout(absl::Seconds(20))
                  .build();
  REQUIRE(pool.ok());
  auto a = pool->acquire();
  auto b = pool->acquire();
  auto c = pool->acquire();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  const int ida = a->native()->id;
  const int idb = b->native()->id;
  server->stall(FakeOp::kFullReset, ida, Stall::kIgnoringDeadline);
  server->stall(FakeOp::kFullReset, idb, Stall::kIgnoringDeadline);
  Unstall unstall{*server, FakeOp::kFullReset, {ida, idb}};
  a->release();
  b->release();
  // Both resets hang at once: each return has a resetter of its own.
  REQUIRE(Await([&] { return server->stalled_calls() == 2; }));
  c->release();  // its reset runs beside them
  REQUIRE(Await([&] { return pool->stats().idle == 1; }));
  CHECK(pool->stats().maintenance == 2);

  std::atomic<bool> closed{false};
  std::thread closer([&] {
    pool->close();
    closed = true;
  });
  // Give a wrongly early return the chance to happen (time is the point).
  absl::SleepFor(absl::Milliseconds(100));
  CHECK_FALSE(closed.load());
  server->stall(FakeOp::kFullReset, ida, Stall::kNone);
  server->stall(FakeOp::kFullReset, idb, Stall::kNone);
  closer.join();
  CHECK(server->open_connections() == 0);
  const PoolStats s = pool->stats();
  CHECK(s.total == 0);
  CHECK(s.maintenance == 0);
}

}  // namespace
}  // namespace dbpool
