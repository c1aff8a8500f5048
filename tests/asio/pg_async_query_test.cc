// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool::async_query() (dbpool/asio_postgres.h) against the test server:
// results and errors, a loop that never blocks, cancellation through Asio's
// cancellation slots, a connection lost under a pending query, and an
// io_context destroyed with one pending.
#if defined(DBPOOL_TEST_WITH_POSTGRES)
#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/deferred.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "await.h"
#include "dbpool/asio_postgres.h"
#include "dbpool/failover_policy.h"
#include "dbpool/outcome.h"
#include "fault_proxy.h"
#include "loop_util.h"
#include "pg_harness.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

using Clock = std::chrono::steady_clock;
using QueryResult = absl::StatusOr<PgResultPtr>;

// The value at (row, column) of an OK result, "" otherwise.
std::string Value(const QueryResult& r, int row = 0, int column = 0) {
  if (!r.ok() || *r == nullptr || PQntuples(r->get()) <= row || PQnfields(r->get()) <= column) {
    return "";
  }
  return PQgetvalue(r->get(), row, column);
}

TEST_CASE(
    "async_query returns rows, takes NULL parameters, maps SQL errors, and the lease "
    "serves again",
    "[asio][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("aq_basic")).max_size(2).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  const auto socket_file = FileOf(PQsocket(lease->native()));
  const int descriptors_before = DescriptorsOf(socket_file);

  const bool finished = RunOnLoop([&]() -> asio::awaitable<void> {
    QueryResult rows =
        co_await async_query(*lease, "SELECT g FROM generate_series(1, 3) g", asio::use_awaitable);
    REQUIRE(rows.ok());
    CHECK(PQntuples(rows->get()) == 3);
    CHECK(Value(rows, 2) == "3");
    // While an operation runs the connection is non-blocking; not after.
    CHECK(PQisnonblocking(lease->native()) == 0);

    // (A named vector: GCC 12 cannot keep a braced list across co_await.)
    std::vector<std::optional<std::string>> values{std::nullopt, std::string("41")};
    QueryResult params = co_await async_query(*lease, "SELECT $1::text IS NULL, $2::int + 1",
                                              std::move(values), asio::use_awaitable);
    REQUIRE(params.ok());
    CHECK(Value(params, 0, 0) == "t");
    CHECK(Value(params, 0, 1) == "42");

    QueryResult syntax = co_await async_query(*lease, "SELEC 1", asio::use_awaitable);
    CHECK(syntax.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(syntax.status().GetPayload(kSqlStatePayload).value_or(absl::Cord()) == "42601");
    CHECK(OutcomeOf(syntax.status()) == Outcome::kNotApplied);
    QueryResult missing =
        co_await async_query(*lease, "SELECT * FROM no_such_table_here", asio::use_awaitable);
    CHECK(missing.status().code() == absl::StatusCode::kNotFound);

    // Several statements: the last result; an error stops at the first.
    QueryResult last = co_await async_query(*lease, "SELECT 1; SELECT 2", asio::use_awaitable);
    CHECK(Value(last) == "2");
    QueryResult first_error =
        co_await async_query(*lease, "SELECT 1; SELECT 1/0; SELECT 3", asio::use_awaitable);
    CHECK(first_error.status().code() == absl::StatusCode::kInvalidArgument);  // 22012

    QueryResult again = co_await async_query(*lease, "SELECT 'again'", asio::use_awaitable);
    CHECK(Value(again) == "again");
  });
  REQUIRE(finished);
  // Every operation closed its own duplicate of the socket, and libpq's
  // descriptor is still there.
  CHECK(DescriptorsOf(socket_file) == descriptors_before);
  // The connection is idle and blocking: blocking libpq calls work on it.
  CHECK(PgHarness::Query(lease->native(), "SELECT 7").value_or("") == "7");
  CHECK(PQtransactionStatus(lease->native()) == PQTRANS_IDLE);
}

TEST_CASE("async_query completes through a callback, asio::use_future and deferred",
          "[asio][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("aq_tokens")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  asio::io_context io;

  // A callback bound to the io_context's executor.
  std::string from_callback;
  async_query(*lease, "SELECT 'callback'",
              asio::bind_executor(io, [&](QueryResult r) { from_callback = Value(r); }));
  // Never inside the initiating call.
  CHECK(from_callback.empty());
  io.run();
  CHECK(from_callback == "callback");

  // A plain callback with the I/O executor passed in.
  std::string from_executor_form;
  async_query(io.get_executor(), *lease, "SELECT $1::text", {std::string("executor")},
              [&](QueryResult r) { from_executor_form = Value(r); });
  io.restart();
  io.run();
  CHECK(from_executor_form == "executor");

  // A future, the loop on another thread.
  io.restart();
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  std::future<QueryResult> future =
      async_query(io.get_executor(), *lease, "SELECT 'future'", asio::use_future);
  CHECK(Value(future.get()) == "future");

  // Deferred: nothing is sent until the deferred operation is started.
  auto deferred =
      async_query(io.get_executor(), *lease, "SELECT 'deferred'", asio::experimental::deferred);
  std::future<QueryResult> started = std::move(deferred)(asio::use_future);
  CHECK(Value(started.get()) == "deferred");
  work.reset();
  loop.join();
}

TEST_CASE(
    "async_query refuses a second query on a busy lease and COPY, and a result outlives "
    "its lease",
    "[asio][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("aq_refuse")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  asio::io_context io;
  std::optional<QueryResult> first, second;
  async_query(io.get_executor(), *lease, "SELECT 'first' FROM pg_sleep(0.1)",
              [&](QueryResult r) { first = std::move(r); });
  async_query(io.get_executor(), *lease, "SELECT 'second'",
              [&](QueryResult r) { second = std::move(r); });
  io.run();
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(Value(*first) == "first");
  CHECK(second->status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(OutcomeOf(second->status()) == Outcome::kNotApplied);

  std::optional<QueryResult> copy;
  async_query(io.get_executor(), *lease, "COPY (SELECT 1) TO STDOUT",
              [&](QueryResult r) { copy = std::move(r); });
  io.restart();
  io.run();
  REQUIRE(copy.has_value());
  CHECK(copy->status().code() == absl::StatusCode::kUnimplemented);
  // Left in COPY: closed on return, not handed out again.
  lease->release();
  CHECK(pool->stats().closed_busy == 1);
  CHECK(pool->stats().total == 0);
  // The result does not need the connection.
  CHECK(Value(*first) == "first");

  PgLease empty;
  std::optional<QueryResult> on_empty;
  async_query(io.get_executor(), empty, "SELECT 1",
              [&](QueryResult r) { on_empty = std::move(r); });
  CHECK_FALSE(on_empty.has_value());  // not inside the initiating call
  io.restart();
  io.run();
  REQUIRE(on_empty.has_value());
  CHECK(on_empty->status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("queries on eight leases run concurrently on one thread and never stall its loop",
          "[asio][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("aq_loop")).max_size(8).build();
  REQUIRE(pool.ok());
  // The blocking acquire, before the loop runs: this test is about queries.
  std::vector<PgLease> leases;
  for (int i = 0; i < 8; ++i) {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    leases.push_back(std::move(*lease));
  }
  constexpr int kQueries = 25;  // 10 ms each on the server, per lease
  asio::io_context io;
  std::atomic<int> running{8};
  std::atomic<int> failures{0};
  // A 1 ms ticker on the same thread: how late is it ever?
  LoopTicker ticker;
  ticker.Start(io, [&] { return running.load() > 0; });
  // Seven leases run 25 short sleeps one after another; the eighth five
  // short ones, then a long one (the ticker runs by then), which a loop
  // blocked in it would show as a late tick.
  for (int i = 0; i < 8; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          const int queries = i == 7 ? 6 : kQueries;
          for (int q = 0; q < queries; ++q) {
            const bool long_one = i == 7 && q == queries - 1;
            QueryResult r = co_await async_query(
                leases[i], long_one ? "SELECT pg_sleep(1)" : "SELECT pg_sleep(0.01)",
                asio::use_awaitable);
            if (!r.ok()) ++failures;
          }
          --running;
        },
        asio::detached);
  }
  const Clock::time_point start = Clock::now();
  io.run_for(std::chrono::seconds(60));
  const auto wall = Clock::now() - start;

  CHECK(running.load() == 0);
  CHECK(failures.load() == 0);
  CHECK(ticker.ticks > 50);
  INFO("worst tick lateness "
       << std::chrono::duration_cast<std::chrono::microseconds>(ticker.worst).count() << " us");
  // A loop blocked in a query would be late by most of the 1 s one; the
  // bound leaves room for a loaded machine descheduling the thread (66 ms
  // seen with two cores and a load of 10).
  CHECK(ticker.worst < std::chrono::milliseconds(200));
  // Concurrent: about max(25 x 10 ms, 5 x 10 ms + 1 s); one after another
  // it would be 7 x 25 x 10 ms + 5 x 10 ms + 1 s = 2800 ms.
  INFO("wall " << std::chrono::duration_cast<std::chrono::milliseconds>(wall).count() << " ms");
  CHECK(wall < std::chrono::milliseconds(2000));
}

// Starts `SELECT pg_sleep(30)` on `lease` with `slot` bound, emits `type` on
// `signal` after 100 ms, and returns the result and how long it took.
struct CancelOutcome {
  QueryResult result;
  Clock::duration took{};
};

CancelOutcome CancelSleep(PgLease& lease, asio::cancellation_type type) {
  asio::io_context io;
  asio::cancellation_signal signal;
  std::optional<QueryResult> result;
  const Clock::time_point start = Clock::now();
  async_query(
      io.get_executor(), lease, "SELECT pg_sleep(30)",
      asio::bind_cancellation_slot(signal.slot(), [&](QueryResult r) { result = std::move(r); }));
  asio::steady_timer timer(io, std::chrono::milliseconds(100));
  timer.async_wait([&](asio::error_code) { signal.emit(type); });
  io.run_for(std::chrono::seconds(60));
  CancelOutcome out{result.has_value() ? std::move(*result)
                                       : QueryResult(absl::DeadlineExceededError("no completion")),
                    Clock::now() - start};
  return out;
}

TEST_CASE(
    "a query cancelled through its cancellation slot stops on the server, completes with "
    "kCancelled and leaves the lease usable",
    "[asio][postgres]") {
  const std::string tag = UniqueTag("aq_cancel");
  auto pool = PgHarness::Builder(tag).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  PgHarness::Admin admin;
  for (asio::cancellation_type type :
       {asio::cancellation_type::terminal, asio::cancellation_type::partial,
        asio::cancellation_type::total}) {
    INFO("cancellation type " << static_cast<int>(type));
    CancelOutcome out = CancelSleep(*lease, type);
    CHECK(out.result.status().code() == absl::StatusCode::kCancelled);
    CHECK(out.took < std::chrono::seconds(10));
    // The server is not running the statement any more: the connection is
    // idle, and the lease answers at once.
    CHECK(PQtransactionStatus(lease->native()) == PQTRANS_IDLE);
    auto active = admin.Execute(absl::StrCat(
        "DO $$ BEGIN IF (SELECT count(*) FROM pg_stat_activity WHERE application_name = '", tag,
        "' AND state = 'active') > 0 THEN RAISE 'still active'; END IF; END $$"));
    CHECK(active.ok());
    const bool finished = RunOnLoop([&]() -> asio::awaitable<void> {
      QueryResult r = co_await async_query(*lease, "SELECT 1", asio::use_awaitable);
      CHECK(Value(r) == "1");
    });
    CHECK(finished);
  }
  // The lease goes back as an idle connection: not closed as busy.
  lease->release();
  CHECK(pool->stats().closed_busy == 0);
  CHECK(pool->stats().idle == 1);
}

TEST_CASE("a cancellation while the query is still being written cancels it once it is sent",
          "[asio][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("aq_cancel_send")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  // 32 MiB of comment: more than the socket takes at once.
  std::string sql = "SELECT pg_sleep(30) /* ";
  sql.append(32 << 20, 'x');
  sql.append(" */");
  asio::io_context io;
  asio::cancellation_signal signal;
  std::optional<QueryResult> result;
  const Clock::time_point start = Clock::now();
  async_query(
      io.get_executor(), *lease, std::move(sql),
      asio::bind_cancellation_slot(signal.slot(), [&](QueryResult r) { result = std::move(r); }));
  signal.emit(asio::cancellation_type::terminal);  // the operation waits to write more
  io.run_for(std::chrono::seconds(60));
  REQUIRE(result.has_value());
  CHECK(result->status().code() == absl::StatusCode::kCancelled);
  CHECK(Clock::now() - start < std::chrono::seconds(10));
  CHECK(PgHarness::Query(lease->native(), "SELECT 1").value_or("") == "1");
}

TEST_CASE("a cancellation that comes after the reply arrived completes with the result",
          "[asio][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("aq_late_cancel")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  asio::io_context io;
  asio::cancellation_signal signal;
  std::optional<QueryResult> result;
  async_query(
      io.get_executor(), *lease, "SELECT 'done'",
      asio::bind_cancellation_slot(signal.slot(), [&](QueryResult r) { result = std::move(r); }));
  // The reply is in the socket, not yet read by the operation.
  REQUIRE(Await([&] {
    pollfd p{};
    p.fd = PQsocket(lease->native());
    p.events = POLLIN;
    return ::poll(&p, 1, 0) > 0;
  }));
  signal.emit(asio::cancellation_type::terminal);
  io.run();
  REQUIRE(result.has_value());
  CHECK(Value(*result) == "done");
  CHECK(PQtransactionStatus(lease->native()) == PQTRANS_IDLE);
}

TEST_CASE("a query losing against a timer in an awaitable || is cancelled on the server",
          "[asio][postgres]") {
  using namespace asio::experimental::awaitable_operators;
  auto pool = PgHarness::Builder(UniqueTag("aq_race")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  const Clock::time_point start = Clock::now();
  const bool finished = RunOnLoop([&]() -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
    auto winner = co_await (async_query(*lease, "SELECT pg_sleep(30)", asio::use_awaitable) ||
                            timer.async_wait(asio::use_awaitable));
    CHECK(winner.index() == 1);  // the timer
    QueryResult r = co_await async_query(*lease, "SELECT 'next'", asio::use_awaitable);
    CHECK(Value(r) == "next");
  });
  CHECK(finished);
  CHECK(Clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("a pending query whose backend is terminated completes with kUnavailable",
          "[asio][postgres]") {
  const std::string tag = UniqueTag("aq_kill");
  auto pool = PgHarness::Builder(tag).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  PgHarness::Admin admin;
  asio::io_context io;
  std::optional<QueryResult> result;
  async_query(io.get_executor(), *lease, "SELECT pg_sleep(30)",
              [&](QueryResult r) { result = std::move(r); });
  io.poll();  // sent
  REQUIRE(Await([&] {
    return admin.CountConnections(tag).value_or(0) == 1 &&
           admin
               .Execute(absl::StrCat("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_stat_activity "
                                     "WHERE application_name = '",
                                     tag,
                                     "' AND state = 'active') THEN RAISE 'idle'; END IF; "
                                     "END $$"))
               .ok();
  }));
  REQUIRE(admin.KillConnections(tag).value_or(0) == 1);
  io.run_for(std::chrono::seconds(20));
  REQUIRE(result.has_value());
  CHECK(result->status().code() == absl::StatusCode::kUnavailable);
  CHECK(lease->broken());
  lease->release();
  CHECK(pool->stats().total == 0);
}

TEST_CASE(
    "a pending query whose socket is shut down, as the pool's interrupt() does, completes "
    "with kUnavailable and outcome unknown",
    "[asio][postgres]") {
  auto pool = PgHarness::Builder(UniqueTag("aq_interrupt")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  asio::io_context io;
  std::optional<QueryResult> result;
  async_query(io.get_executor(), *lease, "SELECT pg_sleep(30)",
              [&](QueryResult r) { result = std::move(r); });
  // PgConnection::interrupt() shuts down its own duplicate of the socket:
  // shutdown() acts on the socket, whichever descriptor names it.
  const int interrupt_dup = ::dup(PQsocket(lease->native()));
  REQUIRE(interrupt_dup >= 0);
  asio::steady_timer timer(io, std::chrono::milliseconds(100));
  timer.async_wait([&](asio::error_code) { ::shutdown(interrupt_dup, SHUT_RDWR); });
  const Clock::time_point start = Clock::now();
  io.run_for(std::chrono::seconds(20));
  ::close(interrupt_dup);
  REQUIRE(result.has_value());
  CHECK(result->status().code() == absl::StatusCode::kUnavailable);
  CHECK(IsOutcomeUnknown(result->status()));
  CHECK(Clock::now() - start < std::chrono::seconds(10));
  CHECK(lease->broken());
  lease->release();
  CHECK(pool->stats().total == 0);
}

TEST_CASE(
    "a pending query on a connection the pool interrupts, its endpoint declared down, "
    "completes with kUnavailable and outcome unknown",
    "[asio][postgres][failover]") {
  // Endpoint 0 reaches the server through a proxy that will blackhole it;
  // endpoint 1 never answers, so that the pool watches its endpoints.
  auto proxy = FaultProxy::Start(PgHarness::Host(), PgHarness::Port());
  REQUIRE(proxy.ok());
  auto pool = PgHarness::BaseBuilder(UniqueTag("aq_down"))
                  .endpoint("127.0.0.1", (*proxy)->port())
                  .endpoint("127.0.0.1", ClosedPort())
                  .max_size(1)
                  .failover(FailoverPolicy()
                                .probe_interval(absl::Milliseconds(20))
                                .probe_timeout(absl::Milliseconds(200))
                                .failure_threshold(1))
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(Await([&] {
    const PoolStats s = pool->stats();
    return s.endpoints.size() == 2 && s.endpoints[0].up && s.endpoints[0].role == "primary";
  }));
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  asio::io_context io;
  std::optional<QueryResult> result;
  async_query(io.get_executor(), *lease, "SELECT pg_sleep(30)",
              [&](QueryResult r) { result = std::move(r); });
  io.poll();  // sent
  // The probes time out; the endpoint is declared down and its leased
  // connections interrupted.
  REQUIRE((*proxy)->set_mode(FaultProxy::Mode::kStall).ok());
  const Clock::time_point start = Clock::now();
  io.run_for(std::chrono::seconds(20));
  REQUIRE(result.has_value());
  CHECK(result->status().code() == absl::StatusCode::kUnavailable);
  CHECK(IsOutcomeUnknown(result->status()));
  CHECK(Clock::now() - start < std::chrono::seconds(10));
  CHECK_FALSE(pool->stats().endpoints[0].up);
  CHECK(lease->broken());
  lease->release();
  CHECK(pool->stats().total == 0);
}

// A coroutine whose frame owns `lease` while it runs a long query.
asio::awaitable<void> SleepHolding(PgLease lease, std::atomic<bool>* completed) {
  QueryResult r = co_await async_query(lease, "SELECT pg_sleep(30)", asio::use_awaitable);
  *completed = true;
}

TEST_CASE(
    "an io_context destroyed with a query pending closes the lease's connection and leaks "
    "no descriptor",
    "[asio][postgres]") {
  const std::string tag = UniqueTag("aq_abandon");
  auto pool = PgHarness::Builder(tag).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  const auto socket_file = FileOf(PQsocket(lease->native()));
  REQUIRE(socket_file.second != 0);
  // The server notices a vanished client mid-statement only when asked to
  // look (PostgreSQL 14 and later).
  REQUIRE(PgHarness::Query(lease->native(), "SET client_connection_check_interval = '50ms'").ok());
  PgHarness::Admin admin;
  std::atomic<bool> completed{false};
  {
    asio::io_context io;
    // The coroutine frame owns the lease.
    asio::co_spawn(io, SleepHolding(std::move(*lease), &completed), asio::detached);
    io.poll();  // the coroutine starts and sends the query
    REQUIRE(Await([&] { return admin.CountConnections(tag).value_or(0) == 1; }));
    CHECK(pool->stats().in_use == 1);
  }  // destroyed with the operation pending
  CHECK_FALSE(completed.load());
  // The lease went back with a command in flight: closed, not reused.
  PoolStats stats = pool->stats();
  CHECK(stats.total == 0);
  CHECK(stats.closed_busy == 1);
  // Neither libpq's descriptor nor the operation's duplicate is left open.
  CHECK(DescriptorsOf(socket_file) == 0);
  // The server sees the connection go.
  const bool server_saw_close =
      Await([&] { return admin.CountConnections(tag).value_or(-1) == 0; });
  INFO("server connections with the tag: " << admin.CountConnections(tag).value_or(-1));
  CHECK(server_saw_close);
  // The pool serves again.
  auto next = pool->acquire();
  REQUIRE(next.ok());
  CHECK(PgHarness::Query(next->native(), "SELECT 1").value_or("") == "1");
}

}  // namespace
}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TEST_WITH_POSTGRES
