// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool::async_query() (dbpool/asio_mysql.h) against the test MariaDB
// server: results and errors, a loop that never blocks, cancellation through
// Asio's cancellation slots, a connection killed under a pending query, and
// an io_context destroyed with one pending.
#if defined(DBPOOL_TEST_WITH_MYSQL)

#include <dirent.h>
#include <fcntl.h>
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
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "await.h"
#include "dbpool/asio_mysql.h"
#include "dbpool/outcome.h"
#include "loop_util.h"
#include "my_harness.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

using Clock = std::chrono::steady_clock;
using MyResult = absl::StatusOr<MySqlResultPtr>;

// The value at (row, column) of a result set, "" otherwise.
std::string Value(const MyResult& r, unsigned row = 0, unsigned column = 0) {
  if (!r.ok() || *r == nullptr || mysql_num_rows(r->get()) <= row ||
      mysql_num_fields(r->get()) <= column) {
    return "";
  }
  mysql_data_seek(r->get(), row);
  MYSQL_ROW values = mysql_fetch_row(r->get());
  return values == nullptr || values[column] == nullptr ? "" : values[column];
}

// Whether the server still has a session with thread id `id`, asked on
// `admin` (another connection).
bool SessionExists(MYSQL* admin, unsigned long id) {
  return MyHarness::Query(admin, absl::StrCat("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                              "WHERE ID = ",
                                              id))
             .value_or("") == "1";
}

// Whether session `id` is running a statement (not sleeping between them).
bool SessionIsRunning(MYSQL* admin, unsigned long id) {
  return MyHarness::Query(admin, absl::StrCat("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                              "WHERE ID = ",
                                              id, " AND COMMAND = 'Query'"))
             .value_or("") == "1";
}

// Ends what a test left running on the server (a 30 s sleep).
void KillQuietly(MYSQL* admin, unsigned long id) {
  (void)MyHarness::Query(admin, absl::StrCat("KILL ", id));
}

TEST_CASE(
    "MySQL: async_query returns rows, a null result and affected rows for an INSERT, maps SQL "
    "errors, and the lease serves again",
    "[asio][mysql]") {
  auto pool = MyHarness::Builder(UniqueTag("myq_basic")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  MYSQL* mysql = lease->native();
  const auto socket_file = FileOf(static_cast<int>(mysql_get_socket(mysql)));
  REQUIRE(socket_file.second != 0);
  const int descriptors_before = DescriptorsOf(socket_file);
  REQUIRE(
      MyHarness::Query(mysql, "CREATE TEMPORARY TABLE myq_t (id INT PRIMARY KEY, v TEXT)").ok());

  const bool finished = RunOnLoop([&]() -> asio::awaitable<void> {
    MyResult rows = co_await async_query(*lease, "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3",
                                         asio::use_awaitable);
    REQUIRE(rows.ok());
    REQUIRE(*rows != nullptr);
    CHECK(mysql_num_rows(rows->get()) == 3);
    CHECK(Value(rows, 2) == "3");

    MyResult insert = co_await async_query(*lease, "INSERT INTO myq_t VALUES (1, 'a'), (2, NULL)",
                                           asio::use_awaitable);
    REQUIRE(insert.ok());
    CHECK(*insert == nullptr);
    CHECK(mysql_affected_rows(lease->native()) == 2);

    MyResult read =
        co_await async_query(*lease, "SELECT v FROM myq_t WHERE id = 1", asio::use_awaitable);
    CHECK(Value(read) == "a");

    MyResult syntax = co_await async_query(*lease, "SELEC 1", asio::use_awaitable);
    CHECK(syntax.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(syntax.status().GetPayload(kMySqlErrnoPayload).value_or(absl::Cord()) == "1064");
    CHECK(OutcomeOf(syntax.status()) == Outcome::kNotApplied);
    MyResult missing =
        co_await async_query(*lease, "SELECT * FROM no_such_table_here", asio::use_awaitable);
    CHECK(missing.status().code() == absl::StatusCode::kNotFound);
    MyResult duplicate =
        co_await async_query(*lease, "INSERT INTO myq_t VALUES (1, 'b')", asio::use_awaitable);
    CHECK(duplicate.status().code() == absl::StatusCode::kAlreadyExists);
    CHECK(OutcomeOf(duplicate.status()) == Outcome::kNotApplied);

    // Several statements: all results read, the last kept; an error stops
    // at the failing one, and the earlier ones ran.
    MyResult last = co_await async_query(*lease, "SELECT 1; SELECT 2", asio::use_awaitable);
    CHECK(Value(last) == "2");
    MyResult last_insert = co_await async_query(
        *lease, "SELECT 1; INSERT INTO myq_t VALUES (3, 'c')", asio::use_awaitable);
    REQUIRE(last_insert.ok());
    CHECK(*last_insert == nullptr);
    CHECK(mysql_affected_rows(lease->native()) == 1);
    MyResult stopped = co_await async_query(
        *lease, "INSERT INTO myq_t VALUES (4, 'd'); SELEC 2; INSERT INTO myq_t VALUES (5, 'e')",
        asio::use_awaitable);
    CHECK(stopped.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(OutcomeOf(stopped.status()) == Outcome::kUnclassified);
    MyResult count =
        co_await async_query(*lease, "SELECT COUNT(*) FROM myq_t", asio::use_awaitable);
    CHECK(Value(count) == "4");  // 1, 2, 3 and 4; not 5

    MyResult again = co_await async_query(*lease, "SELECT 'again'", asio::use_awaitable);
    CHECK(Value(again) == "again");
  });
  REQUIRE(finished);
  // Every operation closed its own duplicate of the socket, and the
  // library's descriptor is still there.
  CHECK(DescriptorsOf(socket_file) == descriptors_before);
  // The handle is ready for blocking calls, its session idle.
  CHECK(mysql->status == MYSQL_STATUS_READY);
  CHECK(MyHarness::Query(mysql, "SELECT 7").value_or("") == "7");
  lease->release();
  CHECK(pool->stats().closed_busy == 0);
  CHECK(pool->stats().idle == 1);
}

TEST_CASE("MySQL: async_query completes through a callback, asio::use_future and deferred",
          "[asio][mysql]") {
  auto pool = MyHarness::Builder(UniqueTag("myq_tokens")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  asio::io_context io;

  // A callback, with the I/O executor given; never run inside the call.
  std::optional<MyResult> by_callback;
  async_query(io.get_executor(), *lease, "SELECT 'cb'",
              [&](MyResult r) { by_callback = std::move(r); });
  CHECK_FALSE(by_callback.has_value());
  io.run();
  REQUIRE(by_callback.has_value());
  CHECK(Value(*by_callback) == "cb");

  // asio::use_future, the loop on another thread.
  io.restart();
  auto guard = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  std::future<MyResult> future =
      async_query(io.get_executor(), *lease, "SELECT 'future'", asio::use_future);
  CHECK(future.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  MyResult from_future = future.get();
  guard.reset();
  loop.join();
  CHECK(Value(from_future) == "future");

  // deferred: nothing is sent until the operation is launched.
  io.restart();
  auto deferred =
      async_query(io.get_executor(), *lease, "SELECT 'deferred'", asio::experimental::deferred);
  std::optional<MyResult> by_deferred;
  std::move(deferred)([&](MyResult r) { by_deferred = std::move(r); });
  io.run();
  REQUIRE(by_deferred.has_value());
  CHECK(Value(*by_deferred) == "deferred");
}

TEST_CASE("MySQL: async_query refuses a second query on a busy lease and an empty lease",
          "[asio][mysql]") {
  auto pool = MyHarness::Builder(UniqueTag("myq_refuse")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  asio::io_context io;
  std::optional<MyResult> first, second, empty;
  async_query(io.get_executor(), *lease, "SELECT 'first', SLEEP(0.1)",
              [&](MyResult r) { first = std::move(r); });
  async_query(io.get_executor(), *lease, "SELECT 'second'",
              [&](MyResult r) { second = std::move(r); });
  MySqlLease none;
  async_query(io.get_executor(), none, "SELECT 1", [&](MyResult r) { empty = std::move(r); });
  // Refused at once, yet completed through the executor.
  CHECK_FALSE(second.has_value());
  CHECK_FALSE(empty.has_value());
  io.run();
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  REQUIRE(empty.has_value());
  CHECK(Value(*first) == "first");
  CHECK(second->status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(OutcomeOf(second->status()) == Outcome::kNotApplied);
  CHECK(empty->status().code() == absl::StatusCode::kFailedPrecondition);
  // The result does not need the connection.
  lease->release();
  CHECK(pool->stats().closed_busy == 0);
  CHECK(Value(*first) == "first");
}

TEST_CASE("MySQL: queries on eight leases run concurrently on one thread and never stall its loop",
          "[asio][mysql]") {
  auto pool = MyHarness::Builder(UniqueTag("myq_loop")).max_size(9).build();
  REQUIRE(pool.ok());
  // The blocking acquire, before the loop runs: this test is about queries.
  std::vector<MySqlLease> leases;
  for (int i = 0; i < 9; ++i) {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    leases.push_back(std::move(*lease));
  }
  constexpr int kQueries = 20;  // 5 ms each on the server, per lease
  asio::io_context io;
  std::atomic<int> running{9};
  std::atomic<int> failures{0};
  // Eight leases run 20 short sleeps one after another; a ninth one long
  // sleep, which a loop blocked in it would show as a late tick.
  for (int i = 0; i < 9; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          for (int q = 0; q < (i == 8 ? 1 : kQueries); ++q) {
            MyResult r = co_await async_query(leases[i],
                                              i == 8 ? "SELECT SLEEP(0.3)" : "SELECT SLEEP(0.005)",
                                              asio::use_awaitable);
            if (!r.ok() || Value(r) != "0") ++failures;
          }
          --running;
        },
        asio::detached);
  }
  // A 1 ms ticker on the same thread: how late is it ever?
  LoopTicker ticker;
  ticker.Start(io, [&] { return running.load() > 0; });
  const Clock::time_point start = Clock::now();
  io.run_for(std::chrono::seconds(60));
  const auto wall = Clock::now() - start;

  CHECK(running.load() == 0);
  CHECK(failures.load() == 0);
  CHECK(ticker.ticks > 50);
  INFO("worst tick lateness "
       << std::chrono::duration_cast<std::chrono::microseconds>(ticker.worst).count() << " us");
  CHECK(ticker.worst < std::chrono::milliseconds(50));
  // Concurrent: about max(20 x 5 ms, 300 ms); one after another it would be
  // 8 x 20 x 5 ms + 300 ms = 1100 ms.
  INFO("wall " << std::chrono::duration_cast<std::chrono::milliseconds>(wall).count() << " ms");
  CHECK(wall < std::chrono::milliseconds(800));
}

// Starts `SELECT SLEEP(30)` on `lease` with `slot` bound, emits `type` on
// `signal` after 100 ms, and returns the result and how long it took.
struct CancelOutcome {
  MyResult result;
  Clock::duration took{};
};

CancelOutcome CancelSleep(MySqlLease& lease, asio::cancellation_type type) {
  asio::io_context io;
  asio::cancellation_signal signal;
  std::optional<MyResult> result;
  const Clock::time_point start = Clock::now();
  async_query(
      io.get_executor(), lease, "SELECT SLEEP(30)",
      asio::bind_cancellation_slot(signal.slot(), [&](MyResult r) { result = std::move(r); }));
  asio::steady_timer timer(io, std::chrono::milliseconds(100));
  timer.async_wait([&](asio::error_code) { signal.emit(type); });
  io.run_for(std::chrono::seconds(60));
  return CancelOutcome{result.has_value() ? std::move(*result)
                                          : MyResult(absl::DeadlineExceededError("no completion")),
                       Clock::now() - start};
}

TEST_CASE(
    "MySQL: a query cancelled through its cancellation slot completes at once with kCancelled, "
    "outcome unknown, and its connection is closed on return",
    "[asio][mysql]") {
  auto pool = MyHarness::Builder(UniqueTag("myq_cancel")).max_size(2).build();
  REQUIRE(pool.ok());
  auto admin = pool->acquire();
  REQUIRE(admin.ok());
  int closed = 0;
  for (asio::cancellation_type type :
       {asio::cancellation_type::terminal, asio::cancellation_type::partial,
        asio::cancellation_type::total}) {
    INFO("cancellation type " << static_cast<int>(type));
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    const unsigned long id = mysql_thread_id(lease->native());
    CancelOutcome out = CancelSleep(*lease, type);
    CHECK(out.result.status().code() == absl::StatusCode::kCancelled);
    CHECK(IsOutcomeUnknown(out.result.status()));
    CHECK(out.took < std::chrono::seconds(10));
    // The connection is broken: closed when the lease returns.
    CHECK(lease->broken());
    lease->release();
    ++closed;
    CHECK(pool->stats().total == 1);  // the admin lease only
    CHECK(pool->stats().closed_busy == 0);
    // The pool's next acquire works.
    auto next = pool->acquire();
    REQUIRE(next.ok());
    CHECK(MyHarness::Query(next->native(), "SELECT 'next'").value_or("") == "next");
    next->release();
    KillQuietly(admin->native(), id);
  }
}

TEST_CASE(
    "MySQL: a query losing against a timer in an awaitable || is cancelled and its lease is "
    "broken",
    "[asio][mysql]") {
  using namespace asio::experimental::awaitable_operators;
  auto pool = MyHarness::Builder(UniqueTag("myq_race")).max_size(2).build();
  REQUIRE(pool.ok());
  auto admin = pool->acquire();
  REQUIRE(admin.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  const unsigned long id = mysql_thread_id(lease->native());
  const Clock::time_point start = Clock::now();
  const bool finished = RunOnLoop([&]() -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
    auto winner = co_await (async_query(*lease, "SELECT SLEEP(30)", asio::use_awaitable) ||
                            timer.async_wait(asio::use_awaitable));
    CHECK(winner.index() == 1);  // the timer
    // The connection is gone: the next query is refused without sending.
    MyResult r = co_await async_query(*lease, "SELECT 'next'", asio::use_awaitable);
    CHECK(r.status().code() == absl::StatusCode::kUnavailable);
    CHECK(OutcomeOf(r.status()) == Outcome::kNotApplied);
  });
  CHECK(finished);
  CHECK(Clock::now() - start < std::chrono::seconds(10));
  CHECK(lease->broken());
  KillQuietly(admin->native(), id);
}

TEST_CASE(
    "MySQL: a pending query whose connection is killed from another connection completes with "
    "kUnavailable and outcome unknown",
    "[asio][mysql]") {
  auto pool = MyHarness::Builder(UniqueTag("myq_kill")).max_size(2).build();
  REQUIRE(pool.ok());
  auto admin = pool->acquire();
  REQUIRE(admin.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  const unsigned long id = mysql_thread_id(lease->native());
  asio::io_context io;
  std::optional<MyResult> result;
  async_query(io.get_executor(), *lease, "SELECT SLEEP(30)",
              [&](MyResult r) { result = std::move(r); });
  io.poll();  // sent
  REQUIRE(Await([&] { return SessionIsRunning(admin->native(), id); }));
  REQUIRE(MyHarness::Query(admin->native(), absl::StrCat("KILL ", id)).ok());
  const Clock::time_point start = Clock::now();
  io.run_for(std::chrono::seconds(20));
  REQUIRE(result.has_value());
  INFO(result->status());
  CHECK(result->status().code() == absl::StatusCode::kUnavailable);
  // The server closes the connection without a reply: the statement's
  // outcome is unknown, as MySqlStatus() has it for error 2013.
  CHECK(result->status().GetPayload(kMySqlErrnoPayload).value_or(absl::Cord()) == "2013");
  CHECK(IsOutcomeUnknown(result->status()));
  CHECK(Clock::now() - start < std::chrono::seconds(10));
  CHECK(lease->broken());
  lease->release();
  CHECK(pool->stats().total == 1);
}

TEST_CASE(
    "MySQL: a pending query whose socket is shut down, as the pool's interrupt() does, completes "
    "with kUnavailable and outcome unknown",
    "[asio][mysql]") {
  auto pool = MyHarness::Builder(UniqueTag("myq_interrupt")).max_size(2).build();
  REQUIRE(pool.ok());
  auto admin = pool->acquire();
  REQUIRE(admin.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  const unsigned long id = mysql_thread_id(lease->native());
  asio::io_context io;
  std::optional<MyResult> result;
  async_query(io.get_executor(), *lease, "SELECT SLEEP(30)",
              [&](MyResult r) { result = std::move(r); });
  // MyConnection::interrupt() shuts down its own duplicate of the socket.
  const int interrupt_dup = ::dup(static_cast<int>(mysql_get_socket(lease->native())));
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
  CHECK(pool->stats().total == 1);
  KillQuietly(admin->native(), id);
}

TEST_CASE(
    "MySQL: a query outlasting the read_timeout option ends at that timeout with kUnavailable and "
    "outcome unknown",
    "[asio][mysql]") {
  auto pool =
      MyHarness::Builder(UniqueTag("myq_timeout")).option("read_timeout", "1").max_size(2).build();
  REQUIRE(pool.ok());
  auto admin = pool->acquire();
  REQUIRE(admin.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  const unsigned long id = mysql_thread_id(lease->native());
  const Clock::time_point start = Clock::now();
  std::optional<MyResult> result;
  const bool finished = RunOnLoop([&]() -> asio::awaitable<void> {
    result = co_await async_query(*lease, "SELECT SLEEP(5)", asio::use_awaitable);
  });
  const auto took = Clock::now() - start;
  REQUIRE(finished);
  REQUIRE(result.has_value());
  INFO(result->status());
  // The library's own timeout (MYSQL_WAIT_TIMEOUT) ran on the timer.
  CHECK(result->status().code() == absl::StatusCode::kUnavailable);
  CHECK(IsOutcomeUnknown(result->status()));
  CHECK(took >= std::chrono::milliseconds(900));
  CHECK(took < std::chrono::milliseconds(4000));
  CHECK(lease->broken());
  KillQuietly(admin->native(), id);
}

// A coroutine whose frame owns `lease` while it runs a long query.
asio::awaitable<void> SleepHolding(MySqlLease lease, std::atomic<bool>* completed) {
  MyResult r = co_await async_query(lease, "SELECT SLEEP(30)", asio::use_awaitable);
  *completed = true;
}

TEST_CASE(
    "MySQL: an io_context destroyed with a query pending closes the lease's connection as busy "
    "and leaks no descriptor",
    "[asio][mysql]") {
  auto pool = MyHarness::Builder(UniqueTag("myq_abandon")).max_size(2).build();
  REQUIRE(pool.ok());
  auto admin = pool->acquire();
  REQUIRE(admin.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  const unsigned long id = mysql_thread_id(lease->native());
  const auto socket_file = FileOf(static_cast<int>(mysql_get_socket(lease->native())));
  REQUIRE(socket_file.second != 0);
  std::atomic<bool> completed{false};
  {
    asio::io_context io;
    // The coroutine frame owns the lease.
    asio::co_spawn(io, SleepHolding(std::move(*lease), &completed), asio::detached);
    io.poll();  // the coroutine starts and sends the query
    REQUIRE(Await([&] { return SessionIsRunning(admin->native(), id); }));
    CHECK(pool->stats().in_use == 2);
  }  // destroyed with the operation pending
  CHECK_FALSE(completed.load());
  // The lease went back mid-command: closed, not reused.
  PoolStats stats = pool->stats();
  CHECK(stats.total == 1);  // the admin lease only
  CHECK(stats.closed_busy == 1);
  // Neither the library's descriptor nor the operation's duplicate is left.
  CHECK(DescriptorsOf(socket_file) == 0);
  // The server runs the statement on; a KILL ends it.
  KillQuietly(admin->native(), id);
  CHECK(Await([&] { return !SessionExists(admin->native(), id); }));
  // The pool serves again.
  auto next = pool->acquire();
  REQUIRE(next.ok());
  CHECK(MyHarness::Query(next->native(), "SELECT 1").value_or("") == "1");
}

TEST_CASE(
    "MySQL: async_query leaves the handle's non-blocking context set and its socket in the mode it "
    "found it",
    "[asio][mysql]") {
  auto pool = MyHarness::Builder(UniqueTag("myq_mode")).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  MYSQL* mysql = lease->native();
  const int fd = static_cast<int>(mysql_get_socket(mysql));
  const int flags_before = ::fcntl(fd, F_GETFL);
  REQUIRE(flags_before >= 0);
  // A pool built on the blocking path (DBPOOL_MYSQL_FORCE_BLOCKING) opens
  // its connections without the non-blocking context: the operation adds it.
  my_bool nonblocking = 0;
  REQUIRE(mysql_get_optionv(mysql, MYSQL_OPT_NONBLOCK, &nonblocking) == 0);
  INFO("non-blocking context before: " << static_cast<int>(nonblocking));
  const bool finished = RunOnLoop([&]() -> asio::awaitable<void> {
    MyResult r = co_await async_query(*lease, "SELECT 'mode', SLEEP(0.01)", asio::use_awaitable);
    CHECK(Value(r) == "mode");
  });
  CHECK(finished);
  nonblocking = 0;
  REQUIRE(mysql_get_optionv(mysql, MYSQL_OPT_NONBLOCK, &nonblocking) == 0);
  CHECK(nonblocking != 0);
  CHECK(::fcntl(fd, F_GETFL) == flags_before);
  // Blocking calls work on it afterwards.
  CHECK(MyHarness::Query(mysql, "SELECT 8").value_or("") == "8");
}

}  // namespace
}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TEST_WITH_MYSQL
