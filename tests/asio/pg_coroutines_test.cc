// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The shape of an event-loop server against the real PostgreSQL
// server: 2,000 coroutines on one io_context thread, each awaiting a lease
// (dbpool/asio.h) and a query that sleeps 5 ms on the server
// (dbpool/asio_postgres.h), over a pool of max_size(8).
#if defined(DBPOOL_TEST_WITH_POSTGRES)
#include <asio.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dbpool/asio.h"
#include "dbpool/asio_postgres.h"
#include "loop_util.h"
#include "pg_harness.h"

namespace dbpool {
namespace testing {
namespace {

using std::chrono::milliseconds;

TEST_CASE("2000 coroutines with a 5 ms server query each share 8 connections on one thread",
          "[asio][postgres]") {
  const std::string tag = "dbpool_coroutines";
  auto built = PgHarness::Builder(tag).max_size(8).acquire_timeout(absl::Seconds(120)).build();
  REQUIRE(built.ok());
  PgPool pool = *std::move(built);

  // Samples the server's connections of this pool from another thread.
  std::atomic<bool> sampling{true};
  std::atomic<int> most_seen{0}, samples{0};
  std::thread sampler([&] {
    PgHarness::Admin admin;
    while (sampling.load()) {
      absl::StatusOr<int> n = admin.CountConnections(tag);
      if (n.ok()) {
        if (*n > most_seen.load()) most_seen.store(*n);
        samples.fetch_add(1);
      }
      absl::SleepFor(absl::Milliseconds(5));  // a sampling period, not synchronisation
    }
  });

  asio::io_context io;
  constexpr int kCoroutines = 2000;
  int ok = 0, finished = 0;
  absl::Status first_error;
  // A 1 ms ticker on the same thread: how late it ever ran is the loop's
  // longest stall.
  LoopTicker ticker;
  ticker.Start(io, [&] { return finished < kCoroutines; });
  ticker.measuring = false;  // from the last coroutine's start on
  int started = 0;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kCoroutines; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          if (++started == kCoroutines) ticker.measuring = true;
          absl::StatusOr<PgLease> lease = co_await async_acquire(pool, asio::use_awaitable);
          absl::Status status = lease.status();
          if (lease.ok()) {
            absl::StatusOr<PgResultPtr> result =
                co_await async_query(*lease, "SELECT pg_sleep(0.005)", asio::use_awaitable);
            status = result.status();
          }
          if (status.ok()) {
            ++ok;
          } else if (first_error.ok()) {
            first_error = status;
          }
          ++finished;
        },
        asio::detached);
  }
  io.run();
  const absl::Duration wall = absl::Now() - start;
  sampling.store(false);
  sampler.join();

  INFO("first error: " << first_error << "; wall " << absl::FormatDuration(wall)
                       << "; worst tick lateness "
                       << std::chrono::duration_cast<milliseconds>(ticker.worst).count() << " ms");
  CHECK(ok == kCoroutines);
  CHECK(samples.load() > 0);
  CHECK(most_seen.load() <= 8);
  // 2000 queries of 5 ms over 8 connections take 1.25 s at the least; the
  // round trips and the loop's own work add to that, generously bounded.
  CHECK(wall >= absl::Milliseconds(1250));
  // One at a time (a loop that blocked in each) they would take 10 s.
  CHECK(wall < absl::Seconds(5));
  CHECK(ticker.worst < milliseconds(50));
  const PoolStats stats = pool.stats();
  CHECK(stats.in_use == 0);
  CHECK(stats.waiting == 0);
  CHECK(stats.total <= 8);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TEST_WITH_POSTGRES
