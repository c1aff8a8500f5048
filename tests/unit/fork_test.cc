// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// fork(): a child that inherits a pool gets kFailedPrecondition from it,
// and neither using nor dropping it there touches the parent's
// connections or waits for threads the child does not have.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using testing::FakePool;
using testing::FakeServer;

TEST_CASE("a fork() child gets kFailedPrecondition from an inherited pool", "[fork]") {
  auto server = FakeServer::Create();
  auto built = FakePool::Builder().dsn(server->dsn()).max_size(2).build();
  REQUIRE(built.ok());
  std::optional<FakePool> pool(*std::move(built));
  auto idle = pool->acquire();
  auto held = pool->acquire();
  REQUIRE(idle.ok());
  REQUIRE(held.ok());
  idle->release();  // one idle connection, one leased
  REQUIRE(pool->stats().idle == 1);

  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    alarm(10);  // a hang (joining the parent's threads) becomes a failure
    int code = 0;
    auto lease = pool->acquire();
    if (lease.ok()) code |= 1;  // the parent's idle connection, shared
    if (lease.status().code() != absl::StatusCode::kFailedPrecondition) code |= 2;
    if (!absl::StrContains(lease.status().message(), "fork()")) code |= 4;
    held->release();  // leaves the parent's session alone
    pool->close();    // not this process's to close
    pool.reset();     // the last handle: no close, no join
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  // The parent's pool is untouched.
  held->release();
  auto again = pool->acquire();
  REQUIRE(again.ok());
  CHECK(pool->stats().total == 2);
}

}  // namespace
}  // namespace dbpool
