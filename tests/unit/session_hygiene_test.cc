// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Session hygiene: what a connection goes through when a lease returns it,
// through the pool and through RestoreSession() directly.
#include "core/session_hygiene.h"

#include <catch2/catch.hpp>
#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using internal::HygieneOutcome;
using internal::RestoreSession;
using testing::Await;
using testing::FakeConn;
using testing::FakePool;
using testing::FakeServer;
using testing::FakeSetup;

// A one-connection pool, so that the next acquire sees the same connection
// when it was returned to the idle set.
FakePool OneConnectionPool(const FakeServer& server, ResetPolicy policy = ResetPolicy()) {
  auto pool =
      FakePool::Builder().dsn(server.dsn()).max_size(1).reset_policy(std::move(policy)).build();
  REQUIRE(pool.ok());
  return *std::move(pool);
}

TEST_CASE("a lease returned inside BEGIN is rolled back and the next user gets an idle session",
          "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server);
  int id;
  {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    id = lease->native()->id;
    lease->native()->in_transaction = true;
  }
  // The rollback runs on the pool's resetter thread, off the caller's path.
  REQUIRE(Await([&] { return pool.stats().idle == 1; }));
  PoolStats s = pool.stats();
  CHECK(s.rollbacks == 1);
  CHECK(s.closed_broken == 0);
  CHECK(s.idle == 1);

  auto lease = pool.acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->id == id);  // reused, not replaced
  CHECK_FALSE(lease->native()->in_transaction);
  CHECK(lease->native()->rollbacks == 1);
  CHECK(server->connects() == 1);
}

TEST_CASE("an idle session is returned without a rollback", "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server);
  FakeConn* conn;
  {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    conn = lease->native();
  }
  // Idle at once, on the caller's thread: a detour through the resetter
  // (where RestoreSession is a no-op for an idle session) would show as
  // maintenance here.
  const PoolStats s = pool.stats();
  CHECK(s.idle == 1);
  CHECK(s.maintenance == 0);
  CHECK(s.rollbacks == 0);
  CHECK(conn->rollbacks == 0);
  CHECK(s.resets == 0);
}

TEST_CASE("a connection returned busy is closed, not reused", "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server);
  int id;
  {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    id = lease->native()->id;
    lease->native()->busy = true;
  }
  PoolStats s = pool.stats();
  CHECK(s.closed_busy == 1);  // the application's doing, not counted as broken
  CHECK(s.closed_broken == 0);
  CHECK(s.total == 0);
  CHECK(s.idle == 0);
  CHECK(server->open_connections() == 0);

  auto lease = pool.acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->id != id);
  CHECK_FALSE(lease->native()->busy);
  CHECK(server->connects() == 2);
}

TEST_CASE("a connection returned busy inside a transaction is closed without a rollback",
          "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server);
  {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    lease->native()->busy = true;
    lease->native()->in_transaction = true;
  }
  const PoolStats s = pool.stats();
  CHECK(s.closed_busy == 1);
  CHECK(s.rollbacks == 0);
  CHECK(server->open_connections() == 0);
}

TEST_CASE("ResetPolicy::Full runs the driver's full reset on every return", "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server, ResetPolicy::Full());
  FakeConn* conn = nullptr;
  for (int i = 1; i <= 3; ++i) {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    if (conn == nullptr) conn = lease->native();
    CHECK(lease->native() == conn);
    lease->native()->session_dirty = true;
    lease->release();
    REQUIRE(Await([&] { return pool.stats().idle == 1; }));
    CHECK(conn->full_resets == i);
    CHECK_FALSE(conn->session_dirty);
    CHECK(pool.stats().resets == static_cast<uint64_t>(i));
  }
  CHECK(server->connects() == 1);
}

TEST_CASE("ResetPolicy::Full rolls back an open transaction before the reset", "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server, ResetPolicy::Full());
  FakeConn* conn;
  {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    conn = lease->native();
    conn->in_transaction = true;
  }
  REQUIRE(Await([&] { return pool.stats().idle == 1; }));
  CHECK(conn->rollbacks == 1);
  CHECK(conn->full_resets == 1);
  CHECK_FALSE(conn->in_transaction);
  CHECK(pool.stats().rollbacks == 1);
  CHECK(pool.stats().resets == 1);
}

TEST_CASE("ResetPolicy::Sql runs its SQL on every return", "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server, ResetPolicy::Sql("RESET ALL"));
  for (int i = 1; i <= 3; ++i) {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
  }
  REQUIRE(Await([&] { return pool.stats().idle == 1; }));  // the last reset is done
  const PoolStats s = pool.stats();
  CHECK(s.resets == 3);
  CHECK(s.closed_broken == 0);
  CHECK(server->connects() == 1);
}

TEST_CASE("a failing ResetPolicy::Sql closes the connection", "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server, ResetPolicy::Sql("FAIL"));
  int id;
  {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    id = lease->native()->id;
  }
  REQUIRE(
      Await([&] { return pool.stats().closed_broken == 1 && server->open_connections() == 0; }));
  PoolStats s = pool.stats();
  CHECK(s.closed_broken == 1);
  CHECK(s.resets == 0);
  CHECK(s.total == 0);
  CHECK(server->open_connections() == 0);
  auto lease = pool.acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->id != id);
}

TEST_CASE("ResetPolicy::None returns an idle connection as it is", "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server, ResetPolicy::None());
  FakeConn* conn;
  {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    conn = lease->native();
    conn->session_dirty = true;
  }
  CHECK(pool.stats().idle == 1);
  auto lease = pool.acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native() == conn);
  CHECK(conn->session_dirty);  // nothing reset it
  CHECK(conn->full_resets == 0);
  CHECK(pool.stats().resets == 0);
}

TEST_CASE("ResetPolicy::None closes a connection returned inside a transaction", "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server, ResetPolicy::None());
  {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    lease->native()->in_transaction = true;
  }
  const PoolStats s = pool.stats();
  CHECK(s.rollbacks == 0);
  CHECK(s.closed_broken == 1);
  CHECK(s.total == 0);
  CHECK(server->open_connections() == 0);
}

TEST_CASE("a failing rollback closes the connection", "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server);
  int id;
  {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    id = lease->native()->id;
    lease->native()->in_transaction = true;
    server->set_reset_fails(true);
  }
  REQUIRE(
      Await([&] { return pool.stats().closed_broken == 1 && server->open_connections() == 0; }));
  PoolStats s = pool.stats();
  CHECK(s.rollbacks == 0);
  CHECK(s.closed_broken == 1);
  CHECK(server->open_connections() == 0);

  server->set_reset_fails(false);
  auto lease = pool.acquire();
  REQUIRE(lease.ok());
  CHECK(lease->native()->id != id);
  CHECK_FALSE(lease->native()->in_transaction);
}

TEST_CASE("a failing full reset closes the connection", "[hygiene]") {
  auto server = FakeServer::Create();
  FakePool pool = OneConnectionPool(*server, ResetPolicy::Full());
  {
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    server->set_reset_fails(true);
  }
  REQUIRE(
      Await([&] { return pool.stats().closed_broken == 1 && server->open_connections() == 0; }));
  CHECK(pool.stats().closed_broken == 1);
  CHECK(pool.stats().resets == 0);
  CHECK(server->open_connections() == 0);
}

TEST_CASE("a connection past max_lifetime is closed on return, never while leased",
          "[hygiene][lifetime]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .max_size(2)
                  .max_lifetime(absl::Milliseconds(50))
                  .build();
  REQUIRE(pool.ok());
  auto a = pool->acquire();
  REQUIRE(a.ok());
  // Let `a` outlive its max_lifetime (a condition on the clock: the test is
  // about age).
  const absl::Time a_expired = absl::Now() + absl::Milliseconds(60);
  REQUIRE(Await([&] { return absl::Now() >= a_expired; }));
  {
    // A second connection, opened after `a` expired, returned to idle: once
    // the housekeeper closes it for its age, it has had its chance at `a`.
    auto b = pool->acquire();
    REQUIRE(b.ok());
    CHECK(b->native() != a->native());
  }
  // (The housekeeper counts a close before it closes: wait for both.)
  REQUIRE(
      Await([&] { return pool->stats().closed_lifetime == 1 && server->open_connections() == 1; }));
  // `a` is still open and usable.
  CHECK(a->native()->Query().ok());
  CHECK(pool->stats().in_use == 1);

  a->release();
  const PoolStats s = pool->stats();
  CHECK(s.closed_lifetime == 2);
  CHECK(s.closed_broken == 0);
  CHECK(s.total == 0);
  CHECK(s.idle == 0);
  CHECK(server->open_connections() == 0);
}

// ---- RestoreSession() against a fake connection --------------------------

struct DirectConnection {
  std::shared_ptr<FakeServer> server = FakeServer::Create();
  std::unique_ptr<DriverConnection> conn;
  FakeConn* fake = nullptr;

  DirectConnection() {
    absl::StatusOr<DriverSetup> setup = FakeSetup(*server);
    REQUIRE(setup.ok());
    REQUIRE(setup->endpoints.size() == 1);
    auto opened = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(10));
    REQUIRE(opened.ok());
    conn = *std::move(opened);
    fake = static_cast<FakeConn*>(conn->native_handle());
  }
};

absl::Duration Soon() { return absl::Seconds(10); }

TEST_CASE("RestoreSession leaves an idle session alone under RollbackOnly", "[hygiene][restore]") {
  DirectConnection c;
  const HygieneOutcome out = RestoreSession(*c.conn, ResetPolicy::RollbackOnly(), Soon());
  CHECK(out.status.ok());
  CHECK_FALSE(out.rolled_back);
  CHECK_FALSE(out.reset);
  CHECK(c.fake->rollbacks == 0);
  CHECK(c.fake->pings == 0);  // no round trip at all
}

TEST_CASE("RestoreSession rolls back an open transaction", "[hygiene][restore]") {
  DirectConnection c;
  c.fake->in_transaction = true;
  const HygieneOutcome out = RestoreSession(*c.conn, ResetPolicy::RollbackOnly(), Soon());
  CHECK(out.status.ok());
  CHECK(out.rolled_back);
  CHECK_FALSE(out.reset);
  CHECK_FALSE(c.fake->in_transaction);
  CHECK(c.conn->session_state() == SessionState::kIdle);
}

TEST_CASE("RestoreSession fails on a busy connection without touching it", "[hygiene][restore]") {
  DirectConnection c;
  c.fake->busy = true;
  c.fake->in_transaction = true;
  const HygieneOutcome out = RestoreSession(*c.conn, ResetPolicy::Full(), Soon());
  CHECK_FALSE(out.status.ok());
  CHECK_FALSE(out.rolled_back);
  CHECK_FALSE(out.reset);
  CHECK(c.fake->rollbacks == 0);
  CHECK(c.fake->full_resets == 0);
}

TEST_CASE("RestoreSession fails on a broken connection", "[hygiene][restore]") {
  DirectConnection c;
  c.conn->interrupt();
  const HygieneOutcome out = RestoreSession(*c.conn, ResetPolicy::RollbackOnly(), Soon());
  CHECK(out.status.code() == absl::StatusCode::kUnavailable);
  CHECK_FALSE(out.rolled_back);
}

TEST_CASE("RestoreSession under None fails inside a transaction and passes when idle",
          "[hygiene][restore]") {
  DirectConnection c;
  CHECK(RestoreSession(*c.conn, ResetPolicy::None(), Soon()).status.ok());
  c.fake->in_transaction = true;
  const HygieneOutcome out = RestoreSession(*c.conn, ResetPolicy::None(), Soon());
  CHECK_FALSE(out.status.ok());
  CHECK_FALSE(out.rolled_back);
  CHECK(c.fake->rollbacks == 0);
  CHECK(c.fake->in_transaction);
}

TEST_CASE("RestoreSession under Full rolls back, then resets", "[hygiene][restore]") {
  DirectConnection c;
  c.fake->in_transaction = true;
  c.fake->session_dirty = true;
  const HygieneOutcome out = RestoreSession(*c.conn, ResetPolicy::Full(), Soon());
  CHECK(out.status.ok());
  CHECK(out.rolled_back);
  CHECK(out.reset);
  CHECK(c.fake->full_resets == 1);
  CHECK_FALSE(c.fake->session_dirty);
}

TEST_CASE("RestoreSession under Sql runs the statement and reports its failure",
          "[hygiene][restore]") {
  DirectConnection c;
  HygieneOutcome out = RestoreSession(*c.conn, ResetPolicy::Sql("RESET ALL"), Soon());
  CHECK(out.status.ok());
  CHECK(out.reset);

  out = RestoreSession(*c.conn, ResetPolicy::Sql("FAIL"), Soon());
  CHECK_FALSE(out.status.ok());
  CHECK_FALSE(out.reset);
}

TEST_CASE("RestoreSession reports a failed rollback and does not reset after it",
          "[hygiene][restore]") {
  DirectConnection c;
  c.fake->in_transaction = true;
  c.server->set_reset_fails(true);
  const HygieneOutcome out = RestoreSession(*c.conn, ResetPolicy::Full(), Soon());
  CHECK_FALSE(out.status.ok());
  CHECK_FALSE(out.rolled_back);
  CHECK_FALSE(out.reset);
  CHECK(c.fake->in_transaction);
  CHECK(c.fake->full_resets == 0);
}

}  // namespace
}  // namespace dbpool
