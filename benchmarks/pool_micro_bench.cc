// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Acquire+release cycles with no I/O: dbpool over the fake driver against a
// textbook mutex + condition-variable pool and SOCI's connection_pool, at
// 1..64 threads over 4 and 16 connections (BM_Cycle_*). Then the acquire wait
// under contention (BM_Wait_*): 64 threads over 4 connections, each thread
// timing every acquire from call to return; the samples of all threads are
// merged after the run and reported as the counters p50_ns, p99_ns, max_ns.
// Run by scripts/bench.sh; CI runs it once briefly (--cycles=640
// --benchmark_min_time=0.002).
//
// --count=VARIANT --cycles=N runs no Google Benchmark at all: N
// acquire+release cycles on one thread in RunCycles(), for counting
// instructions under callgrind (scripts/callgrind.sh). VARIANT is one of
// dbpool (one endpoint), dbpool-2 (two endpoints: the failover layer on,
// the second endpoint a replica), textbook, soci (when built).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fake_driver.h"

#ifdef DBPOOL_BENCH_WITH_SOCI
#include <soci/connection-pool.h>
#endif

namespace {

using dbpool::testing::FakeLease;
using dbpool::testing::FakePool;
using dbpool::testing::FakeServer;

// ---- The pools, behind one shape: Handle acquire(); void release(Handle) ----

// dbpool over the fake driver, warmed up to `size` idle connections per
// endpoint. With `endpoints` == 2 the failover layer routes each acquire:
// the first endpoint answers probes as the primary, the second as a replica
// (two primaries would be a split brain, which serves no writes), and
// probes repeat only hourly, so that none runs between cycles.
class DbpoolPool {
 public:
  using Handle = absl::StatusOr<FakeLease>;
  explicit DbpoolPool(int size, int endpoints = 1) : pool_(Build(*server_, size, endpoints)) {
    while (pool_->stats().idle < size * endpoints) {
      auto l = pool_->acquire();  // warm up: wait for min_idle
    }
  }
  Handle acquire() { return pool_->acquire(); }
  void release(Handle h) { h->release(); }
  static bool ok(const Handle& h) { return h.ok(); }
  uint64_t timeouts() const { return pool_->stats().timeouts; }

 private:
  static absl::StatusOr<FakePool> Build(FakeServer& server, int size, int endpoints) {
    FakePool::Builder builder;
    builder.dsn(server.dsn())
        .max_size(size)
        .min_idle(size)
        .acquire_timeout(absl::Minutes(1))
        .validation_window(absl::Hours(1));
    if (endpoints > 1) {
      const dbpool::Endpoint primary{"primary", 1};
      const dbpool::Endpoint replica{"replica", 2};
      dbpool::ProbeResult replica_role;
      replica_role.role = dbpool::Role::kReplica;
      server.set_probe(replica, replica_role);
      builder.endpoint(primary.host, primary.port)
          .endpoint(replica.host, replica.port)
          .failover(dbpool::FailoverPolicy().probe_interval(absl::Hours(1)));
    }
    return builder.build();
  }

  std::shared_ptr<FakeServer> server_ = FakeServer::Create();
  absl::StatusOr<FakePool> pool_;
};

// The pool a developer writes in an afternoon: one mutex, one condition
// variable, a vector of idle connections.
class TextbookPool {
 public:
  using Handle = std::unique_ptr<int>;
  explicit TextbookPool(int size) {
    for (int i = 0; i < size; ++i) idle_.push_back(std::make_unique<int>(i));
  }
  Handle acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !idle_.empty(); });
    std::unique_ptr<int> c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  void release(Handle c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(std::move(c));
    }
    cv_.notify_one();
  }
  static bool ok(const Handle&) { return true; }
  uint64_t timeouts() const { return 0; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<int>> idle_;
};

#ifdef DBPOOL_BENCH_WITH_SOCI
// SOCI's soci::connection_pool. Its sessions are never opened: lease() and
// give_back() only touch the pool's own bookkeeping (a mutex, a condition
// variable and a vector of free flags), which is what is measured here.
class SociPool {
 public:
  using Handle = std::size_t;
  explicit SociPool(int size) : pool_(static_cast<std::size_t>(size)) {}
  Handle acquire() { return pool_.lease(); }
  void release(Handle i) { pool_.give_back(i); }
  static bool ok(const Handle&) { return true; }
  uint64_t timeouts() const { return 0; }

 private:
  soci::connection_pool pool_;
};
#endif

// ---- Throughput: acquire + release per iteration ---------------------------

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The wall-clock span of a run, from the first thread's first cycle to the
// last thread's last one. Google Benchmark's real time is the mean of the
// threads' own times, which undercounts when more threads than cores run
// one after another (a thread that takes a connection, cycles through all
// its iterations within one time slice and leaves looks free). The counters
// wall_ns (per cycle) and cycles_per_s come from this span.
class WallSpan {
 public:
  void reset() {
    first_ = INT64_MAX;
    last_ = 0;
  }
  void started(int64_t t) {
    int64_t cur = first_.load();
    while (t < cur && !first_.compare_exchange_weak(cur, t)) {
    }
  }
  void finished(int64_t t) {
    int64_t cur = last_.load();
    while (t > cur && !last_.compare_exchange_weak(cur, t)) {
    }
  }
  // Sets the counters; call from thread 0 after the loop.
  void report(benchmark::State& state) const {
    const double cycles = static_cast<double>(state.max_iterations) * state.threads();
    const double wall_ns = static_cast<double>(last_.load() - first_.load());
    if (wall_ns <= 0 || cycles <= 0) return;
    state.counters["wall_ns"] = wall_ns / cycles;
    state.counters["cycles_per_s"] = cycles / wall_ns * 1e9;
  }

 private:
  std::atomic<int64_t> first_{INT64_MAX};
  std::atomic<int64_t> last_{0};
};

// Marks the first and the last cycle of one thread in a WallSpan.
class SpanMarks {
 public:
  SpanMarks(WallSpan& span, const benchmark::State& state)
      : span_(span), total_(static_cast<int64_t>(state.max_iterations)) {}
  void before_cycle() {
    if (done_ == 0) span_.started(NowNs());
  }
  void after_cycle() {
    if (++done_ == total_) span_.finished(NowNs());
  }

 private:
  WallSpan& span_;
  int64_t total_;
  int64_t done_ = 0;
};

template <typename Pool>
void BM_Cycle(benchmark::State& state) {
  static std::unique_ptr<Pool> pool;
  static WallSpan span;
  if (state.thread_index() == 0) {
    pool = std::make_unique<Pool>(static_cast<int>(state.range(0)));
    span.reset();
  }
  SpanMarks marks(span, state);
  // Threads start together after thread 0's setup, and finish together
  // before its teardown (Google Benchmark's start/stop barrier).
  for (auto _ : state) {
    marks.before_cycle();
    typename Pool::Handle h = pool->acquire();
    if (!Pool::ok(h)) {
      state.SkipWithError("acquire failed");
      break;
    }
    benchmark::DoNotOptimize(h);
    pool->release(std::move(h));
    marks.after_cycle();
  }
  if (state.thread_index() == 0) {
    span.report(state);
    state.counters["timeouts"] = static_cast<double>(pool->timeouts());
    pool.reset();
  }
}

// ---- Fairness: the acquire wait under contention ----------------------------

// Args: conns, and hold: 0 releases at once; 1 yields the CPU once while
// holding the connection, as a holder waiting on the server would, so that
// the pool runs dry and acquires really queue.
template <typename Pool>
void BM_Wait(benchmark::State& state) {
  static std::unique_ptr<Pool> pool;
  static std::vector<std::vector<int64_t>> waits;
  static WallSpan span;
  if (state.thread_index() == 0) {
    pool = std::make_unique<Pool>(static_cast<int>(state.range(0)));
    waits.assign(static_cast<std::size_t>(state.threads()), {});
    span.reset();
  }
  SpanMarks marks(span, state);
  const bool yield = state.range(1) != 0;
  std::vector<int64_t>* mine = nullptr;
  for (auto _ : state) {
    if (mine == nullptr) {  // after the start barrier: `waits` is sized
      mine = &waits[static_cast<std::size_t>(state.thread_index())];
      mine->reserve(static_cast<std::size_t>(state.max_iterations));
    }
    marks.before_cycle();
    const int64_t t0 = NowNs();
    typename Pool::Handle h = pool->acquire();
    mine->push_back(NowNs() - t0);
    if (!Pool::ok(h)) {
      state.SkipWithError("acquire failed");
      break;
    }
    benchmark::DoNotOptimize(h);
    if (yield) std::this_thread::yield();
    pool->release(std::move(h));
    marks.after_cycle();
  }
  if (state.thread_index() == 0) {
    // Every thread has left its loop (stop barrier): merge their samples.
    std::vector<int64_t> all;
    for (const std::vector<int64_t>& w : waits) all.insert(all.end(), w.begin(), w.end());
    if (!all.empty()) {
      auto at = [&all](double q) {
        auto it =
            all.begin() + static_cast<std::ptrdiff_t>(q * static_cast<double>(all.size() - 1));
        std::nth_element(all.begin(), it, all.end());
        return static_cast<double>(*it);
      };
      state.counters["p50_ns"] = at(0.50);
      state.counters["p99_ns"] = at(0.99);
      state.counters["max_ns"] = static_cast<double>(*std::max_element(all.begin(), all.end()));
    }
    span.report(state);
    state.counters["timeouts"] = static_cast<double>(pool->timeouts());
    waits.clear();
    pool.reset();
  }
}

// Registers `fn` for each connection count and thread count. Runs with
// one thread last Google Benchmark's usual minimum time; runs with more make
// a fixed total of `cycles` acquires (split over the threads), because a
// convoy of waiters can slow a pool down 100-fold only after a while, which
// throws off Google Benchmark's iteration estimate and makes run times
// unpredictable.
void Register(const std::string& name, void (*fn)(benchmark::State&),
              const std::vector<std::vector<int64_t>>& args, const std::vector<int>& threads,
              int64_t cycles) {
  for (const std::vector<int64_t>& a : args) {
    for (int t : threads) {
      benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name.c_str(), fn);
      b->Args(a)->Threads(t)->UseRealTime();
      if (a.size() == 1) b->ArgNames({"conns"});
      if (a.size() == 2) b->ArgNames({"conns", "hold_yield"});
      if (t > 1) b->Iterations(std::max<int64_t>(1, cycles / t));
    }
  }
}

// ---- Instruction counts: a plain loop for callgrind ---------------------------

// `cycles` acquire+release cycles on `pool`. scripts/callgrind.sh counts the
// instructions executed inside this function (--toggle-collect), so it must
// stay out of line and keep its name.
template <typename Pool>
__attribute__((noinline)) bool RunCycles(Pool& pool, int64_t cycles) {
  for (int64_t i = 0; i < cycles; ++i) {
    typename Pool::Handle h = pool.acquire();
    if (!Pool::ok(h)) return false;
    benchmark::DoNotOptimize(h);
    pool.release(std::move(h));
  }
  return true;
}

template <typename Pool>
int CountCycles(std::unique_ptr<Pool> pool, int64_t cycles) {
  if (!RunCycles(*pool, cycles)) {
    std::fprintf(stderr, "acquire failed\n");
    return 1;
  }
  return 0;
}

// --count=VARIANT: see the top of this file. 4 connections per endpoint.
int Count(const std::string& variant, int64_t cycles) {
  constexpr int kConns = 4;
  if (variant == "dbpool") return CountCycles(std::make_unique<DbpoolPool>(kConns), cycles);
  if (variant == "dbpool-2") return CountCycles(std::make_unique<DbpoolPool>(kConns, 2), cycles);
  if (variant == "textbook") return CountCycles(std::make_unique<TextbookPool>(kConns), cycles);
#ifdef DBPOOL_BENCH_WITH_SOCI
  if (variant == "soci") return CountCycles(std::make_unique<SociPool>(kConns), cycles);
#endif
  std::fprintf(stderr, "--count: want dbpool, dbpool-2, textbook%s, not '%s'\n",
#ifdef DBPOOL_BENCH_WITH_SOCI
               " or soci",
#else
               " (soci: not built)",
#endif
               variant.c_str());
  return 2;
}

}  // namespace

// Flags: --cycles=N (default 262144) for the multi-thread runs (or for
// --count=VARIANT), then Google Benchmark's own (--benchmark_min_time,
// --benchmark_repetitions, ...).
int main(int argc, char** argv) {
  int64_t cycles = 262144;
  std::string count;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--count=", 0) == 0) {
      count = arg.substr(8);
    } else if (arg.rfind("--cycles=", 0) == 0) {
      cycles = std::atoll(arg.c_str() + 9);
      if (cycles < 1) {
        std::fprintf(stderr, "--cycles: want a positive integer\n");
        return 2;
      }
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!count.empty()) return Count(count, cycles);
  const std::vector<std::vector<int64_t>> cycle_args = {{4}, {16}};
  const std::vector<int> cycle_threads = {1, 2, 8, 64};
  const std::vector<std::vector<int64_t>> wait_args = {{4, 0}, {4, 1}};
  const std::vector<int> wait_threads = {64};
  Register("BM_Cycle_dbpool", BM_Cycle<DbpoolPool>, cycle_args, cycle_threads, cycles);
  Register("BM_Cycle_textbook", BM_Cycle<TextbookPool>, cycle_args, cycle_threads, cycles);
#ifdef DBPOOL_BENCH_WITH_SOCI
  Register("BM_Cycle_soci", BM_Cycle<SociPool>, cycle_args, cycle_threads, cycles);
#endif
  Register("BM_Wait_dbpool", BM_Wait<DbpoolPool>, wait_args, wait_threads, cycles);
  Register("BM_Wait_textbook", BM_Wait<TextbookPool>, wait_args, wait_threads, cycles);
#ifdef DBPOOL_BENCH_WITH_SOCI
  Register("BM_Wait_soci", BM_Wait<SociPool>, wait_args, wait_threads, cycles);
#endif
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
