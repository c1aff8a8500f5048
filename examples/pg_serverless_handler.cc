// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A serverless-style handler: Handle() builds one process-wide PgPool on its
// first call (a function-local static, initialized once even when the first
// calls race) and reuses it on every later invocation, so only the first
// invocation pays for connecting. Reads the server from DBPOOL_TEST_PG_* and
// exits non-zero on any error or if the pool opened more than one connection.
#include <libpq-fe.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "dbpool/postgres.h"

namespace {

constexpr int kInvocations = 100;

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

// The pool outlives every invocation. A failed build is kept too: a handler
// whose configuration is wrong keeps failing the same way instead of
// retrying the build on every call.
const absl::StatusOr<dbpool::PgPool>& GlobalPool() {
  static const absl::StatusOr<dbpool::PgPool>* const pool = [] {
    return new absl::StatusOr<dbpool::PgPool>(
        dbpool::PgPool::Builder()
            .name("serverless")
            .endpoint(EnvOr("DBPOOL_TEST_PG_HOST", "127.0.0.1"),
                      std::atoi(EnvOr("DBPOOL_TEST_PG_PORT", "5432").c_str()))
            .database(EnvOr("DBPOOL_TEST_PG_DB", "postgres"))
            .user(EnvOr("DBPOOL_TEST_PG_USER", "postgres"))
            .password(EnvOr("DBPOOL_TEST_PG_PASSWORD", ""))
            // One invocation at a time per instance: a small cap keeps many
            // instances from exhausting the server's max_connections.
            .max_size(2)
            .acquire_timeout(absl::Seconds(5))
            .build());
  }();
  return *pool;
}

// The handler: one request in, one response out.
absl::StatusOr<std::string> Handle(const std::string& request) {
  const absl::StatusOr<dbpool::PgPool>& pool = GlobalPool();
  if (!pool.ok()) return pool.status();
  std::string response;
  absl::Status s = pool->with_retry([&](dbpool::PgLease& lease) -> absl::Status {
    const char* params[] = {request.c_str()};
    PGresult* r = PQexecParams(lease.native(), "SELECT upper($1::text)", 1, nullptr, params,
                               nullptr, nullptr, 0);
    absl::Status st = dbpool::PgStatus(r, lease.native());
    if (st.ok()) response = PQgetvalue(r, 0, 0);
    PQclear(r);
    return st;
  });
  if (!s.ok()) return s;
  return response;
}

}  // namespace

int main() {
  std::vector<absl::Duration> took;
  for (int i = 0; i < kInvocations; ++i) {
    const std::string request = absl::StrCat("request-", i);
    const absl::Time start = absl::Now();
    absl::StatusOr<std::string> response = Handle(request);
    took.push_back(absl::Now() - start);
    if (!response.ok()) {
      std::fprintf(stderr, "invocation %d: %s\n", i, response.status().ToString().c_str());
      return 1;
    }
    if (*response != absl::StrCat("REQUEST-", i)) {
      std::fprintf(stderr, "invocation %d: unexpected response %s\n", i, response->c_str());
      return 1;
    }
  }

  std::vector<absl::Duration> warm(took.begin() + 1, took.end());
  std::sort(warm.begin(), warm.end());
  const dbpool::PoolStats s = GlobalPool()->stats();
  std::printf("serverless handler: %d invocations on one lazily built pool\n", kInvocations);
  std::printf("  first invocation (builds the pool and connects): %s\n",
              absl::FormatDuration(took[0]).c_str());
  std::printf("  later invocations: median %s, max %s\n",
              absl::FormatDuration(warm[warm.size() / 2]).c_str(),
              absl::FormatDuration(warm.back()).c_str());
  std::printf("  connections opened: %llu for %llu acquires\n",
              static_cast<unsigned long long>(s.created),
              static_cast<unsigned long long>(s.acquired));
  std::printf("  pool stats: %s\n", dbpool::ToString(s).c_str());
  if (s.created != 1) {
    std::fprintf(stderr, "error: expected one connection, the pool opened %llu\n",
                 static_cast<unsigned long long>(s.created));
    return 1;
  }
  return 0;
}
