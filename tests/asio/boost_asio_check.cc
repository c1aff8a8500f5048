// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The event-loop adapters compiled against Boost.Asio instead of standalone
// Asio (DBPOOL_USE_BOOST_ASIO): built, never run, by the
// asio_boost_compile_check target when Boost 1.77 or later is installed.
#include <future>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dbpool/asio.h"
#include "dbpool/asio_postgres.h"
#include "dbpool/postgres.h"
#if DBPOOL_CHECK_MYSQL
#include "dbpool/asio_mysql.h"
#endif

namespace dbpool {
namespace boost_asio_check {

namespace net = ::boost::asio;

// A coroutine, as an event-loop server writes one.
net::awaitable<void> Coroutine(PgPool pool) {
  absl::StatusOr<PgLease> lease = co_await async_acquire(pool, net::use_awaitable);
  AcquireOptions options;
  options.role = Role::kReplica;
  absl::StatusOr<PgLease> replica = co_await async_acquire(pool, options, net::use_awaitable);
  (void)replica;
  if (!lease.ok()) co_return;
  std::string sql = "SELECT $1::int";
  std::vector<std::optional<std::string>> params = {std::string("1")};
  absl::StatusOr<PgResultPtr> result =
      co_await async_query(*lease, std::move(sql), std::move(params), net::use_awaitable);
  (void)result;
}

#if DBPOOL_CHECK_MYSQL
// A MySQL query on a lease, awaited.
net::awaitable<void> MySqlQuery(MySqlPool pool) {
  absl::StatusOr<MySqlLease> lease = co_await async_acquire(pool, net::use_awaitable);
  if (!lease.ok()) co_return;
  absl::StatusOr<MySqlResultPtr> result =
      co_await async_query(*lease, "SELECT 1", net::use_awaitable);
  (void)result;
}
#endif

// Callbacks with an executor and a cancellation slot, a future, a
// deferred operation.
void Tokens(PgPool pool, net::io_context& io, net::cancellation_signal& signal) {
  async_acquire(pool, net::bind_cancellation_slot(
                          signal.slot(), net::bind_executor(io, [](absl::StatusOr<PgLease>) {})));
  std::future<absl::StatusOr<PgLease>> future = async_acquire(pool, net::use_future);
  auto deferred = async_acquire(pool, net::deferred);
  std::move(deferred)([](absl::StatusOr<PgLease>) {});
  net::co_spawn(io, Coroutine(std::move(pool)), net::detached);
}

}  // namespace boost_asio_check
}  // namespace dbpool
