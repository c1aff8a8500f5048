// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// async_query() over verified TLS (scripts/servers.sh with "tls"): results
// much larger than a TLS record (16 KB) and than the client library's first
// read buffer arrive whole.
#include <asio.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "dbpool/tls.h"
#include "loop_util.h"
#include "scratch_servers.h"
#include "test_servers.h"
#if defined(DBPOOL_TEST_WITH_POSTGRES)
#include "dbpool/asio_postgres.h"
#include "pg_harness.h"
#endif
#if defined(DBPOOL_TEST_WITH_MYSQL)
#include "dbpool/asio_mysql.h"
#include "my_harness.h"
#endif

namespace dbpool {
namespace testing {
namespace {

// The result sizes tried: one row of 1 MB, and 20,000 rows of 100 bytes.
constexpr int kBigValue = 1 << 20;
constexpr int kRows = 20000;

// H's server with TLS, started on first use and stopped at exit.
template <typename H>
const ScratchServers& TlsServers() {
  static const ScratchServers servers(absl::StrCat(H::kServerName, " tls"));
  return servers;
}

template <typename H>
typename H::PoolType BuildTlsPool(const std::string& tag) {
  TlsPolicy policy;
  policy.ca_file = TlsServers<H>().Get("DBPOOL_TEST_TLS_CA");
  typename H::PoolType::Builder b = H::BaseBuilder(tag);
  b.endpoint("localhost", TlsServers<H>().Port(H::kPortVariable))
      .require_tls(policy)
      .max_size(1)
      .connect_timeout(absl::Seconds(10));
  auto pool = b.build();
  REQUIRE(pool.ok());
  return *std::move(pool);
}

#if defined(DBPOOL_TEST_WITH_POSTGRES)
TEST_CASE("async_query over TLS reads results larger than a TLS record whole (PostgreSQL)",
          "[asio][postgres][tls]") {
  PgPool pool = BuildTlsPool<PgHarness>(UniqueTag("aq_tls"));
  auto lease = pool.acquire();
  REQUIRE(lease.ok());
  REQUIRE(PQsslInUse(lease->native()) == 1);
  int length = 0, rows = 0;
  const bool finished = RunOnLoop([&]() -> asio::awaitable<void> {
    absl::StatusOr<PgResultPtr> big = co_await async_query(
        *lease, absl::StrCat("SELECT repeat('x', ", kBigValue, ")"), asio::use_awaitable);
    if (big.ok()) length = PQgetlength(big->get(), 0, 0);
    absl::StatusOr<PgResultPtr> many = co_await async_query(
        *lease, absl::StrCat("SELECT repeat('y', 100) FROM generate_series(1, ", kRows, ")"),
        asio::use_awaitable);
    if (many.ok()) rows = PQntuples(many->get());
  });
  CHECK(finished);
  CHECK(length == kBigValue);
  CHECK(rows == kRows);
}
#endif

#if defined(DBPOOL_TEST_WITH_MYSQL)
TEST_CASE("async_query over TLS reads results larger than a TLS record whole (MySQL)",
          "[asio][mysql][tls]") {
  MySqlPool pool = BuildTlsPool<MyHarness>(UniqueTag("aq_tls"));
  auto lease = pool.acquire();
  REQUIRE(lease.ok());
  unsigned long length = 0;
  my_ulonglong rows = 0;
  const bool finished = RunOnLoop([&]() -> asio::awaitable<void> {
    absl::StatusOr<MySqlResultPtr> big = co_await async_query(
        *lease, absl::StrCat("SELECT REPEAT('x', ", kBigValue, ")"), asio::use_awaitable);
    if (big.ok() && *big != nullptr && mysql_fetch_row(big->get()) != nullptr) {
      length = mysql_fetch_lengths(big->get())[0];
    }
    absl::StatusOr<MySqlResultPtr> many = co_await async_query(
        *lease, absl::StrCat("SELECT REPEAT('y', 100) FROM seq_1_to_", kRows), asio::use_awaitable);
    if (many.ok() && *many != nullptr) rows = mysql_num_rows(many->get());
  });
  CHECK(finished);
  CHECK(length == static_cast<unsigned long>(kBigValue));
  CHECK(rows == static_cast<my_ulonglong>(kRows));
}
#endif

}  // namespace
}  // namespace testing
}  // namespace dbpool
