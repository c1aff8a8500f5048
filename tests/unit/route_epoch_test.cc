// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Route epochs (PoolCore::kNotRouted): an acquire that the failover layer
// routed to an endpoint before the endpoint's waiters were failed (it went
// down, or lost the role) must not queue there afterwards, where nothing
// would wake it before its deadline: it fails at once and is routed again.
// The core's half, driven directly: the window between a route and the
// queue cannot be hit on purpose from outside.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "await.h"
#include "core/pool_core.h"
#include "fake_driver.h"

namespace dbpool {
namespace internal {
namespace {

using testing::Await;
using testing::FakeServer;
using testing::FakeSetup;

TEST_CASE("an acquire routed before its endpoint's waiters were failed does not queue there",
          "[failover][route]") {
  auto server = FakeServer::Create();
  absl::StatusOr<DriverSetup> setup = FakeSetup(*server);
  REQUIRE(setup.ok());
  PoolOptions options;
  options.max_size = 1;
  PoolCore core(options, setup->driver, setup->endpoints.front());
  core.Start();
  AcquireOptions request;
  request.timeout = absl::Seconds(20);
  absl::StatusOr<Slot*> held = core.Acquire(request);
  REQUIRE(held.ok());  // the only connection: any other acquire must queue

  core.FailWaiters(absl::UnavailableError("endpoint down"), /*epoch=*/1);
  const absl::StatusOr<Slot*> stale = core.Acquire(request, /*routed_at=*/0);
  CHECK(stale.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(stale.status().message(), "routed again"));
  std::atomic<bool> called{false};
  absl::Status async_status;
  const auto waiter = core.AcquireAsync(
      request,
      [&](absl::StatusOr<Slot*> got) {
        async_status = got.status();
        called = true;
      },
      /*routed_at=*/0);
  CHECK(waiter == nullptr);  // failed at once, on this thread
  CHECK(called);
  CHECK(async_status.code() == absl::StatusCode::kUnavailable);
  CHECK(core.Stats().waiting == 0);

  // Routed at the current epoch (or not routed at all): it queues and is
  // served as usual.
  for (uint64_t routed_at : {uint64_t{1}, PoolCore::kNotRouted}) {
    absl::StatusOr<Slot*> got = absl::UnknownError("not yet");
    std::thread acquirer([&] { got = core.Acquire(request, routed_at); });
    REQUIRE(Await([&] { return core.Stats().waiting == 1; }));
    core.Release(*held);
    acquirer.join();
    REQUIRE(got.ok());
    held = got;
  }
  core.Release(*held);
  core.Close();
}

}  // namespace
}  // namespace internal
}  // namespace dbpool
