// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A threaded server loop: 32 worker threads take 2000 simulated requests off
// a queue and serve each on a connection leased from a pool of 4. Prints the
// throughput, the most server connections seen in pg_stat_activity and the
// pool's stats. Reads the server from DBPOOL_TEST_PG_* and exits non-zero on
// any error or if the server ever saw more than 4 connections.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "dbpool/postgres.h"

namespace {

constexpr int kWorkers = 32;
constexpr int kConnections = 4;
constexpr int kRequests = 2000;
constexpr char kAppName[] = "dbpool_server_loop";

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

// A closable FIFO of request ids: Pop() blocks until a request arrives or the
// queue is closed and drained.
class RequestQueue {
 public:
  void Push(int id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(id);
    }
    cv_.notify_one();
  }
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }
  std::optional<int> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    const int id = items_.front();
    items_.pop_front();
    return id;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> items_;
  bool closed_ = false;
};

// One simulated request: a parameterized query whose answer is checked.
absl::Status Serve(const dbpool::PgPool& pool, int id) {
  absl::StatusOr<dbpool::PgLease> lease = pool.acquire();
  if (!lease.ok()) return lease.status();
  const std::string arg = std::to_string(id);
  const char* params[] = {arg.c_str()};
  PGresult* r =
      PQexecParams(lease->native(), "SELECT $1::int * 2", 1, nullptr, params, nullptr, nullptr, 0);
  absl::Status s = dbpool::PgStatus(r, lease->native());
  if (s.ok() && std::atoi(PQgetvalue(r, 0, 0)) != id * 2) {
    s = absl::InternalError(absl::StrCat("request ", id, ": wrong answer"));
  }
  PQclear(r);
  return s;
}

int ServerConnections(const dbpool::PgPool& pool) {
  // Counted on a pooled connection of its own pool, which is one of the 4.
  absl::StatusOr<dbpool::PgLease> lease = pool.acquire();
  if (!lease.ok()) return -1;
  PGresult* r = PQexec(lease->native(),
                       "SELECT count(*) FROM pg_stat_activity "
                       "WHERE application_name = 'dbpool_server_loop'");
  const int n = PQresultStatus(r) == PGRES_TUPLES_OK ? std::atoi(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return n;
}

}  // namespace

int main() {
  absl::StatusOr<dbpool::PgPool> pool =
      dbpool::PgPool::Builder()
          .name("server_loop")
          .endpoint(EnvOr("DBPOOL_TEST_PG_HOST", "127.0.0.1"),
                    std::atoi(EnvOr("DBPOOL_TEST_PG_PORT", "5432").c_str()))
          .database(EnvOr("DBPOOL_TEST_PG_DB", "postgres"))
          .user(EnvOr("DBPOOL_TEST_PG_USER", "postgres"))
          .password(EnvOr("DBPOOL_TEST_PG_PASSWORD", ""))
          .option("application_name", kAppName)
          .max_size(kConnections)
          .acquire_timeout(absl::Seconds(30))
          .build();
  if (!pool.ok()) {
    std::fprintf(stderr, "build: %s\n", pool.status().ToString().c_str());
    return 1;
  }

  std::printf("server loop: %d workers, %d requests, pool max_size %d\n", kWorkers, kRequests,
              kConnections);
  RequestQueue queue;
  std::atomic<int> errors{0};
  std::atomic<int> served{0};
  std::atomic<int> most_total{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (std::optional<int> id = queue.Pop()) {
        absl::Status s = Serve(*pool, *id);
        if (!s.ok()) {
          if (errors++ < 5) std::fprintf(stderr, "request %d: %s\n", *id, s.ToString().c_str());
          continue;
        }
        ++served;
        const int total = pool->stats().total;
        int seen = most_total.load();
        while (total > seen && !most_total.compare_exchange_weak(seen, total)) {
        }
      }
    });
  }
  for (int id = 0; id < kRequests; ++id) queue.Push(id);
  queue.Close();
  for (std::thread& t : workers) t.join();
  const absl::Duration took = absl::Now() - start;

  const int server_connections = ServerConnections(*pool);
  const dbpool::PoolStats s = pool->stats();
  std::printf("  served %d requests in %s: %.0f requests/s, %d errors\n", served.load(),
              absl::FormatDuration(took).c_str(), served.load() / absl::ToDoubleSeconds(took),
              errors.load());
  std::printf("  pool connections at most: %d; opened in total: %llu; server sees now: %d\n",
              most_total.load(), static_cast<unsigned long long>(s.created), server_connections);
  std::printf("  pool stats: %s\n", dbpool::ToString(s).c_str());

  bool ok = errors == 0 && served == kRequests;
  if (most_total > kConnections || server_connections > kConnections || server_connections < 1) {
    std::fprintf(stderr, "error: more than %d server connections\n", kConnections);
    ok = false;
  }
  return ok ? 0 : 1;
}
