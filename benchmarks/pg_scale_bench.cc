// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Scale on PostgreSQL: many threads (default 1000) over few connections
// (default 10) running SELECT 1 through one PgPool. Reports throughput, the
// acquire wait (p50, p99, max), how evenly the threads were served, acquire
// timeouts at a generous deadline, and the most server connections seen in
// pg_stat_activity (polled by application_name during the run). First, with
// no other threads running, the memory a pool costs: the growth of this
// process's resident set (/proc/self/statm) for a pool with no connections,
// and per idle pooled connection, next to a bare libpq connection.
//
// Reads the server from DBPOOL_TEST_PG_*. Flags: --smoke, --threads=N,
// --connections=N, --seconds=S, --tsv=PATH, --markdown=PATH.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench_util.h"
#include "dbpool/postgres.h"

namespace {

using dbpool_bench::NowNs;
using dbpool_bench::Server;

constexpr char kAppName[] = "dbpool_bench_scale";
constexpr absl::Duration kAcquireDeadline = absl::Seconds(60);

PGconn* Connect(const Server& s, const char* app) {
  const std::string port = std::to_string(s.port);
  const char* keys[] = {"host", "port", "dbname", "user", "password", "application_name", nullptr};
  const char* values[] = {s.host.c_str(),     port.c_str(), s.db.c_str(), s.user.c_str(),
                          s.password.c_str(), app,          nullptr};
  return PQconnectdbParams(keys, values, 0);
}

absl::StatusOr<dbpool::PgPool> BuildPool(const Server& s, int max_size, int min_idle) {
  return dbpool::PgPool::Builder()
      .endpoint(s.host, s.port)
      .database(s.db)
      .user(s.user)
      .password(s.password)
      .option("application_name", kAppName)
      .name("scale")
      .max_size(max_size)
      .min_idle(min_idle)
      .acquire_timeout(kAcquireDeadline)
      .build();
}

int CountServerConnections(PGconn* admin) {
  PGresult* r = PQexec(admin,
                       "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                       "'dbpool_bench_scale'");
  const int n = PQresultStatus(r) == PGRES_TUPLES_OK ? std::atoi(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return n;
}

// Growth of the resident set (rss) and of the malloc heap (heap), in KiB.
struct Memory {
  int64_t per_pool_kib = 0;
  double per_pooled_connection_kib = 0;
  double per_libpq_connection_kib = 0;
  int64_t per_pool_heap_kib = 0;
  double per_pooled_connection_heap_kib = 0;
  double per_libpq_connection_heap_kib = 0;
};

// Resident-set growth, measured before any worker thread exists.
absl::StatusOr<Memory> MeasureMemory(const Server& server, int connections) {
  // Load and initialize libpq's dependencies (TLS, Kerberos, ...) first so
  // that their one-time cost is not charged to the first pool.
  PGconn* warm = Connect(server, "dbpool_bench_scale_warmup");
  if (absl::Status s = dbpool::PgStatus(warm); !s.ok()) return s;
  PQfinish(warm);

  Memory m;
  const int64_t base = dbpool_bench::RssKiB();
  const int64_t heap_base = dbpool_bench::HeapKiB();
  absl::StatusOr<dbpool::PgPool> empty = BuildPool(server, connections, 0);
  if (!empty.ok()) return empty.status();
  absl::SleepFor(absl::Milliseconds(50));  // let its background thread start
  const int64_t with_empty = dbpool_bench::RssKiB();
  const int64_t heap_with_empty = dbpool_bench::HeapKiB();
  m.per_pool_kib = with_empty - base;
  m.per_pool_heap_kib = heap_with_empty - heap_base;

  absl::StatusOr<dbpool::PgPool> full = BuildPool(server, connections, connections);
  if (!full.ok()) return full.status();
  if (absl::Status s = dbpool_bench::WaitForIdle(*full, connections); !s.ok()) return s;
  absl::SleepFor(absl::Milliseconds(50));
  const int64_t with_full = dbpool_bench::RssKiB();
  const int64_t heap_with_full = dbpool_bench::HeapKiB();
  m.per_pooled_connection_kib =
      static_cast<double>(with_full - with_empty - m.per_pool_kib) / connections;
  m.per_pooled_connection_heap_kib =
      static_cast<double>(heap_with_full - heap_with_empty - m.per_pool_heap_kib) / connections;

  std::vector<PGconn*> raw;
  for (int i = 0; i < connections; ++i) {
    raw.push_back(Connect(server, "dbpool_bench_scale_raw"));
    if (absl::Status s = dbpool::PgStatus(raw.back()); !s.ok()) return s;
  }
  const int64_t with_raw = dbpool_bench::RssKiB();
  m.per_libpq_connection_kib = static_cast<double>(with_raw - with_full) / connections;
  m.per_libpq_connection_heap_kib =
      static_cast<double>(dbpool_bench::HeapKiB() - heap_with_full) / connections;
  for (PGconn* c : raw) PQfinish(c);
  empty->close();
  full->close();
  return m;
}

struct ScaleResult {
  double ops_per_s = 0;
  double wait_p50_ms = 0;
  double wait_p99_ms = 0;
  double wait_max_ms = 0;
  uint64_t per_thread_min = 0;
  uint64_t per_thread_median = 0;
  uint64_t per_thread_max = 0;
  uint64_t requests = 0;
  uint64_t timeouts = 0;
  uint64_t errors = 0;
  std::string first_error;
  int server_max = 0;
  int samples = 0;
  uint64_t created = 0;
};

absl::StatusOr<ScaleResult> RunScale(const Server& server, int threads, int connections,
                                     absl::Duration duration) {
  absl::StatusOr<dbpool::PgPool> pool = BuildPool(server, connections, connections);
  if (!pool.ok()) return pool.status();
  if (absl::Status s = dbpool_bench::WaitForIdle(*pool, connections); !s.ok()) return s;
  PGconn* admin = Connect(server, "dbpool_bench_scale_monitor");
  if (absl::Status s = dbpool::PgStatus(admin); !s.ok()) return s;

  struct Worker {
    std::vector<int64_t> waits_ns;
    uint64_t timeouts = 0;
    uint64_t errors = 0;
    std::string first_error;
  };
  std::vector<Worker> workers(static_cast<size_t>(threads));
  std::mutex mu;
  std::condition_variable cv;
  bool go = false;
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::vector<std::thread> pool_threads;
  pool_threads.reserve(workers.size());
  for (Worker& w : workers) {
    pool_threads.emplace_back([&, w = &w] {
      w->waits_ns.reserve(256);
      ++ready;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return go; });
      }
      while (!stop.load(std::memory_order_relaxed)) {
        const int64_t t0 = NowNs();
        absl::StatusOr<dbpool::PgLease> lease = pool->acquire();
        const int64_t waited = NowNs() - t0;
        if (!lease.ok()) {
          if (lease.status().code() == absl::StatusCode::kDeadlineExceeded) ++w->timeouts;
          if (w->errors++ == 0) w->first_error = lease.status().ToString();
          continue;
        }
        w->waits_ns.push_back(waited);
        PGresult* r = PQexec(lease->native(), "SELECT 1");
        absl::Status s = dbpool::PgStatus(r, lease->native());
        PQclear(r);
        if (!s.ok() && w->errors++ == 0) w->first_error = s.ToString();
      }
    });
  }
  while (ready.load() < threads) absl::SleepFor(absl::Milliseconds(1));

  ScaleResult out;
  const int64_t start = NowNs();
  {
    std::lock_guard<std::mutex> lock(mu);
    go = true;
  }
  cv.notify_all();
  const int64_t end = start + absl::ToInt64Nanoseconds(duration);
  while (NowNs() < end) {
    const int n = CountServerConnections(admin);
    if (n >= 0) {
      out.server_max = std::max(out.server_max, n);
      ++out.samples;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  stop = true;
  for (std::thread& t : pool_threads) t.join();
  const double elapsed_s = static_cast<double>(NowNs() - start) / 1e9;
  out.server_max = std::max(out.server_max, CountServerConnections(admin));
  PQfinish(admin);
  out.created = pool->stats().created;
  pool->close();

  std::vector<int64_t> all;
  std::vector<int64_t> per_thread;
  for (Worker& w : workers) {
    per_thread.push_back(static_cast<int64_t>(w.waits_ns.size()));
    all.insert(all.end(), w.waits_ns.begin(), w.waits_ns.end());
    out.timeouts += w.timeouts;
    if (w.errors > 0 && out.errors == 0) out.first_error = w.first_error;
    out.errors += w.errors;
  }
  out.requests = all.size();
  out.ops_per_s = static_cast<double>(all.size()) / elapsed_s;
  out.wait_max_ms =
      all.empty() ? 0 : static_cast<double>(*std::max_element(all.begin(), all.end())) / 1e6;
  out.wait_p50_ms = dbpool_bench::Percentile(all, 0.50) / 1e6;
  out.wait_p99_ms = dbpool_bench::Percentile(all, 0.99) / 1e6;
  std::sort(per_thread.begin(), per_thread.end());
  out.per_thread_min = static_cast<uint64_t>(per_thread.front());
  out.per_thread_median = static_cast<uint64_t>(per_thread[per_thread.size() / 2]);
  out.per_thread_max = static_cast<uint64_t>(per_thread.back());
  return out;
}

bool IntFlag(const std::string& arg, const char* name, int lo, int hi, int* out) {
  const std::string prefix = absl::StrCat(name, "=");
  if (arg.rfind(prefix, 0) != 0) return false;
  if (!absl::SimpleAtoi(arg.substr(prefix.size()), out) || *out < lo || *out > hi) {
    std::fprintf(stderr, "%s: want an integer in %d..%d\n", name, lo, hi);
    std::exit(2);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const dbpool_bench::Flags flags =
      dbpool_bench::ParseFlagsOrExit(argc, argv, {"--threads", "--connections"});
  int threads = flags.smoke ? 100 : 1000;
  int connections = 10;
  absl::Duration duration = flags.smoke ? absl::Milliseconds(300) : absl::Seconds(5);
  for (const std::string& arg : flags.rest) {
    IntFlag(arg, "--threads", 1, 10000, &threads) ||
        IntFlag(arg, "--connections", 1, 100, &connections);
  }
  if (!flags.smoke && flags.duration_given) duration = flags.duration;

  const Server server = dbpool_bench::ServerFromEnv("DBPOOL_TEST_PG_");

  std::fprintf(stderr, "[scale] memory: pools of %d connections\n", connections);
  absl::StatusOr<Memory> memory = MeasureMemory(server, connections);
  if (!memory.ok()) {
    std::fprintf(stderr, "memory measurement failed: %s\n", memory.status().ToString().c_str());
    return 1;
  }
  // Repetitions (--reps; default 1): each with a fresh pool; the verdict
  // figures are their medians, every run is shown.
  const int reps = flags.smoke ? 1 : flags.repetitions_given ? flags.repetitions : 1;
  std::vector<ScaleResult> runs;
  for (int rep = 0; rep < reps; ++rep) {
    std::fprintf(stderr, "[scale] run %d/%d: %d threads over %d connections for %s\n", rep + 1,
                 reps, threads, connections, absl::FormatDuration(duration).c_str());
    absl::StatusOr<ScaleResult> r = RunScale(server, threads, connections, duration);
    if (!r.ok()) {
      std::fprintf(stderr, "scale run failed: %s\n", r.status().ToString().c_str());
      return 1;
    }
    runs.push_back(*std::move(r));
  }

  // One table row: the label, each run's value and their median, with
  // `digits` decimals. Returns the row and the median.
  auto row = [&runs](const std::string& label, auto value, int digits) {
    std::string line = absl::StrCat("| ", label, " |");
    std::vector<double> values;
    for (const ScaleResult& r : runs) {
      values.push_back(static_cast<double>(value(r)));
      absl::StrAppend(&line, " ", absl::StrFormat("%.*f", digits, values.back()), " |");
    }
    const double median = dbpool_bench::Median(values);
    if (runs.size() > 1) absl::StrAppend(&line, " ", absl::StrFormat("%.*f", digits, median), " |");
    return std::make_pair(line + "\n", median);
  };
  std::string md = absl::StrFormat(
      "\n**Scale: %d threads over a pool of %d connections, SELECT 1, %s per run**\n\n| measure |",
      threads, connections, absl::FormatDuration(duration));
  std::string rule = "|---|";
  for (size_t i = 0; i < runs.size(); ++i) {
    absl::StrAppend(&md, " run ", i + 1, " |");
    rule += "---:|";
  }
  if (runs.size() > 1) {
    absl::StrAppend(&md, " median |");
    rule += "---:|";
  }
  absl::StrAppend(&md, "\n", rule, "\n");
  const auto ops = row(
      "requests/s", [](const ScaleResult& r) { return r.ops_per_s; }, 0);
  const auto p50 = row(
      "acquire wait p50 (ms)", [](const ScaleResult& r) { return r.wait_p50_ms; }, 2);
  const auto p99 = row(
      "acquire wait p99 (ms)", [](const ScaleResult& r) { return r.wait_p99_ms; }, 2);
  const auto max = row(
      "acquire wait max (ms)", [](const ScaleResult& r) { return r.wait_max_ms; }, 2);
  const auto ratio = row(
      "p99 ÷ p50",
      [](const ScaleResult& r) { return r.wait_p50_ms > 0 ? r.wait_p99_ms / r.wait_p50_ms : 0; },
      2);
  const auto least = row(
      "requests by the least served thread",
      [](const ScaleResult& r) { return static_cast<double>(r.per_thread_min); }, 0);
  const auto median_thread = row(
      "requests by the median thread",
      [](const ScaleResult& r) { return static_cast<double>(r.per_thread_median); }, 0);
  const auto most = row(
      "requests by the most served thread",
      [](const ScaleResult& r) { return static_cast<double>(r.per_thread_max); }, 0);
  const auto timeouts = row(
      absl::StrCat("acquire timeouts (deadline ", absl::FormatDuration(kAcquireDeadline), ")"),
      [](const ScaleResult& r) { return static_cast<double>(r.timeouts); }, 0);
  const auto errors = row(
      "errors", [](const ScaleResult& r) { return static_cast<double>(r.errors); }, 0);
  const auto samples = row(
      "samples of pg_stat_activity",
      [](const ScaleResult& r) { return static_cast<double>(r.samples); }, 0);
  const auto most_server = row(
      "server connections, most seen",
      [](const ScaleResult& r) { return static_cast<double>(r.server_max); }, 0);
  const auto created = row(
      "connections the pool opened",
      [](const ScaleResult& r) { return static_cast<double>(r.created); }, 0);
  for (const auto* r : {&ops, &p50, &p99, &max, &ratio, &least, &median_thread, &most, &timeouts,
                        &errors, &samples, &most_server, &created}) {
    md += r->first;
  }
  uint64_t total_timeouts = 0;
  uint64_t total_errors = 0;
  int server_max = 0;
  for (const ScaleResult& r : runs) {
    total_timeouts += r.timeouts;
    total_errors += r.errors;
    server_max = std::max(server_max, r.server_max);
  }
  absl::StrAppend(
      &md,
      absl::StrFormat(
          "\n**Memory: growth of the process's resident set (/proc/self/statm) and of its malloc "
          "heap (mallinfo2)**\n\n"
          "| what | resident KiB | heap KiB |\n|---|---:|---:|\n"
          "| one pool, no connections yet (its background thread included) | %d | %d |\n"
          "| per idle pooled connection (pool of %d, minus the pool) | %.1f | %.1f |\n"
          "| per bare libpq connection, for comparison | %.1f | %.1f |\n",
          memory->per_pool_kib, memory->per_pool_heap_kib, connections,
          memory->per_pooled_connection_kib, memory->per_pooled_connection_heap_kib,
          memory->per_libpq_connection_kib, memory->per_libpq_connection_heap_kib));
  std::printf("%s\n", md.c_str());
  const std::string tsv = absl::StrFormat(
      "scale\tthreads\t%d\nscale\tconnections\t%d\nscale\truns\t%d\nscale\tops_per_s\t%.1f\n"
      "scale\twait_p50_ms\t%.3f\nscale\twait_p99_ms\t%.3f\nscale\twait_max_ms\t%.3f\n"
      "scale\tp99_over_p50\t%.3f\nscale\ttimeouts\t%d\nscale\terrors\t%d\n"
      "scale\tserver_max\t%d\nscale\tper_pool_kib\t%d\nscale\tper_connection_kib\t%.1f\n"
      "scale\tper_libpq_connection_kib\t%.1f\nscale\tper_pool_heap_kib\t%d\n"
      "scale\tper_connection_heap_kib\t%.1f\n",
      threads, connections, static_cast<int>(runs.size()), ops.second, p50.second, p99.second,
      max.second, ratio.second, total_timeouts, total_errors, server_max, memory->per_pool_kib,
      memory->per_pooled_connection_kib, memory->per_libpq_connection_kib,
      memory->per_pool_heap_kib, memory->per_pooled_connection_heap_kib);
  const bool written = dbpool_bench::WriteReportFiles(flags, md, tsv);
  for (const ScaleResult& r : runs) {
    if (r.errors > 0) {
      std::fprintf(stderr, "%llu errors, first: %s\n", static_cast<unsigned long long>(r.errors),
                   r.first_error.c_str());
    }
  }
  return total_errors == 0 && written ? 0 : 1;
}
