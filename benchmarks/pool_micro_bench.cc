// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Acquire+release cycles with no I/O: dbpool over the fake driver against a
// textbook mutex + condition-variable pool, at 1..64 threads over 4 and 16
// connections. Run by scripts/bench.sh; CI runs it once briefly.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "fake_driver.h"

namespace {

using dbpool::testing::FakePool;
using dbpool::testing::FakeServer;

// The pool a developer writes in an afternoon: one mutex, one condition
// variable, a vector of idle connections.
class TextbookPool {
 public:
  explicit TextbookPool(int size) {
    for (int i = 0; i < size; ++i) idle_.push_back(std::make_unique<int>(i));
  }
  std::unique_ptr<int> acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !idle_.empty(); });
    std::unique_ptr<int> c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  void release(std::unique_ptr<int> c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_.push_back(std::move(c));
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<int>> idle_;
};

struct DbpoolFixture {
  std::shared_ptr<FakeServer> server = FakeServer::Create();
  absl::StatusOr<FakePool> pool;
  explicit DbpoolFixture(int size)
      : pool(FakePool::Builder()
                 .dsn(server->dsn())
                 .max_size(size)
                 .min_idle(size)
                 .acquire_timeout(absl::Minutes(1))
                 .validation_window(absl::Hours(1))
                 .build()) {
    while (pool->stats().idle < size) {
      auto l = pool->acquire();  // warm up: wait for min_idle
    }
  }
};

void BM_Dbpool(benchmark::State& state) {
  static std::unique_ptr<DbpoolFixture> fixture;
  if (state.thread_index() == 0) fixture = std::make_unique<DbpoolFixture>(state.range(0));
  // Threads start together after thread 0's setup (Google Benchmark barrier).
  for (auto _ : state) {
    auto lease = fixture->pool->acquire();
    benchmark::DoNotOptimize(lease->native());
  }
  if (state.thread_index() == 0) {
    state.counters["timeouts"] = static_cast<double>(fixture->pool->stats().timeouts);
    fixture.reset();
  }
}

void BM_Textbook(benchmark::State& state) {
  static std::unique_ptr<TextbookPool> pool;
  if (state.thread_index() == 0) pool = std::make_unique<TextbookPool>(state.range(0));
  for (auto _ : state) {
    auto c = pool->acquire();
    benchmark::DoNotOptimize(c.get());
    pool->release(std::move(c));
  }
  if (state.thread_index() == 0) pool.reset();
}

void Args(benchmark::internal::Benchmark* b) {
  for (int conns : {4, 16}) b->Arg(conns);
  for (int threads : {1, 2, 8, 64}) b->Threads(threads);
  b->UseRealTime();
}

BENCHMARK(BM_Dbpool)->Apply(Args);
BENCHMARK(BM_Textbook)->Apply(Args);

}  // namespace

BENCHMARK_MAIN();
