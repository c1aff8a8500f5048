// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The load the failover tests put on a pool while they break its primary:
// writer threads inserting unique rows through with_retry(), optionally
// reader threads on replicas, and a sampler of the pool's connection count.
#ifndef DBPOOL_TESTS_INTEGRATION_FAILOVER_WORKLOAD_H_
#define DBPOOL_TESTS_INTEGRATION_FAILOVER_WORKLOAD_H_

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"
#include "dbpool/outcome.h"
#include "dbpool/pool.h"

namespace dbpool {
namespace testing {

// `H` is a driver harness (pg_harness.h, my_harness.h); rows go to table
// failover_writes (writer int, seq int).
template <typename H>
class FailoverWorkload {
 public:
  struct Write {
    int writer;
    int seq;
    absl::Time started;  // when with_retry() was called
    absl::Time done;
    int port;  // the endpoint that took it
  };

  // With `transactions`, writers go through with_transaction() instead of
  // with_retry().
  FailoverWorkload(typename H::PoolType pool, int writers, int readers, bool transactions = false)
      : pool_(std::move(pool)), writers_(writers), readers_(readers), transactions_(transactions) {}
  ~FailoverWorkload() { Stop(); }

  void Start() {
    for (int w = 0; w < writers_; ++w) threads_.emplace_back([this, w] { WriterLoop(w); });
    for (int r = 0; r < readers_; ++r) threads_.emplace_back([this] { ReaderLoop(); });
    threads_.emplace_back([this] { SampleLoop(); });
  }

  // Stops the threads; false if any stayed blocked for `grace`.
  bool Stop(absl::Duration grace = absl::Seconds(30)) {
    if (threads_.empty()) return true;
    stop_ = true;
    const int expected = static_cast<int>(threads_.size());
    const bool all = Await([&] { return finished_.load() == expected; }, grace);
    if (!all) return false;  // leave them: joining would hang the test
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    return true;
  }

  // Waits until `n` writes started after `since` have succeeded.
  bool AwaitWritesAfter(absl::Time since, int n, absl::Duration timeout = absl::Seconds(30)) {
    return Await([&] { return WritesAfter(since).size() >= static_cast<size_t>(n); }, timeout);
  }

  // The successful writes started after `since` (a write in flight at a
  // fault may still complete on the old primary).
  std::vector<Write> WritesAfter(absl::Time since) const {
    absl::MutexLock lock(&mu_);
    std::vector<Write> out;
    for (const Write& w : writes_) {
      if (w.started > since) out.push_back(w);
    }
    return out;
  }

  // Failed writes, except those whose outcome is unknown (see
  // outcome_unknown()).
  std::vector<absl::Status> errors() const {
    absl::MutexLock lock(&mu_);
    return errors_;
  }
  // Writes that were in flight at a fault: with_retry() returned them
  // outcome-unknown instead of running them again. At most one per writer
  // and fault.
  std::vector<absl::Status> outcome_unknown() const {
    absl::MutexLock lock(&mu_);
    return outcome_unknown_;
  }
  int writers() const { return writers_; }
  int reads() const { return reads_; }
  std::vector<absl::Status> read_errors() const {
    absl::MutexLock lock(&mu_);
    return read_errors_;
  }
  int max_total() const { return max_total_; }
  typename H::PoolType& pool() { return pool_; }

 private:
  void WriterLoop(int writer) {
    for (int seq = 0; !stop_; ++seq) {
      int port = 0;
      const absl::Time started = absl::Now();
      const std::string sql = absl::StrCat("INSERT INTO failover_writes (writer, seq) VALUES (",
                                           writer, ", ", seq, ")");
      auto insert = [&](typename H::PoolType::LeaseType& lease) {
        port = lease.endpoint().port;
        return H::Query(lease.native(), sql).status();
      };
      absl::Status st = transactions_ ? pool_.with_transaction(insert) : pool_.with_retry(insert);
      absl::MutexLock lock(&mu_);
      if (st.ok()) {
        writes_.push_back(Write{writer, seq, started, absl::Now(), port});
      } else if (IsOutcomeUnknown(st)) {
        outcome_unknown_.push_back(st);  // in flight at the fault: not replayed
      } else {
        errors_.push_back(st);
      }
    }
    ++finished_;
  }

  void ReaderLoop() {
    RetryOptions read;
    read.role = Role::kReplica;
    read.idempotent = true;
    while (!stop_) {
      absl::Status st = pool_.with_retry(
          [&](typename H::PoolType::LeaseType& lease) {
            return H::Query(lease.native(), "SELECT 1").status();
          },
          read);
      if (st.ok()) {
        ++reads_;
      } else {
        absl::MutexLock lock(&mu_);
        read_errors_.push_back(st);
      }
    }
    ++finished_;
  }

  void SampleLoop() {
    while (!stop_) {
      max_total_ = std::max(max_total_.load(), pool_.stats().total);
      absl::SleepFor(absl::Milliseconds(5));  // sampling period, not synchronization
    }
    ++finished_;
  }

  typename H::PoolType pool_;
  const int writers_;
  const int readers_;
  const bool transactions_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int> finished_{0};
  std::atomic<int> reads_{0};
  std::atomic<int> max_total_{0};
  mutable absl::Mutex mu_;
  std::vector<Write> writes_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Status> errors_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Status> outcome_unknown_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Status> read_errors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_INTEGRATION_FAILOVER_WORKLOAD_H_
