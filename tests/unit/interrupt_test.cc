// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A leased connection that the failover layer shuts down
// (PoolCore::InterruptLeased(), when its endpoint is declared down) is never
// handed out again, even when the shutdown lands after its return found the
// session usable: the return then puts it back idle, and the next hand-out
// must close it instead of trusting a recent check. The core is driven
// directly: the window inside a release cannot be hit on purpose through
// the failover layer.
#include <atomic>
#include <catch2/catch.hpp>

#include "absl/time/time.h"
#include "core/pool_core.h"
#include "fake_driver.h"

namespace dbpool {
namespace internal {
namespace {

using testing::FakeConn;
using testing::FakeServer;
using testing::FakeSetup;

TEST_CASE("a connection interrupted after its return's state check is not handed out again",
          "[failover][interrupt]") {
  auto server = FakeServer::Create();
  absl::StatusOr<DriverSetup> setup = FakeSetup(*server);
  REQUIRE(setup.ok());
  PoolOptions options;
  options.max_size = 1;
  options.validation_window = absl::Hours(1);  // no ping would catch it
  PoolCore core(options, setup->driver, setup->endpoints.front());
  core.Start();
  AcquireOptions request;
  request.timeout = absl::Seconds(20);
  absl::StatusOr<Slot*> held = core.Acquire(request);
  REQUIRE(held.ok());
  const int first_id = static_cast<FakeConn*>((*held)->conn->native_handle())->id;

  // The release has read the session state (idle) when the endpoint is
  // declared down and the lease's connection is shut down.
  std::atomic<bool> armed{true};
  server->set_session_state_hook([&] {
    if (armed.exchange(false)) core.InterruptLeased();
  });
  core.Release(*held);
  server->set_session_state_hook(nullptr);
  REQUIRE_FALSE(armed.load());

  absl::StatusOr<Slot*> next = core.Acquire(request);
  REQUIRE(next.ok());
  CHECK(static_cast<FakeConn*>((*next)->conn->native_handle())->id != first_id);
  CHECK(core.Stats().closed_broken == 1);
  core.Release(*next);
  core.Close();
}

}  // namespace
}  // namespace internal
}  // namespace dbpool
