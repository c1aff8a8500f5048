// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/internal/basic_pool.h
//
// The untyped pool and lease that the typed facades (Pool<Traits>,
// Lease<Traits>) wrap. Compiled once in dbpool::core; not for direct use.
#ifndef DBPOOL_INTERNAL_BASIC_POOL_H_
#define DBPOOL_INTERNAL_BASIC_POOL_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dbpool/driver.h"
#include "dbpool/pool_options.h"
#include "dbpool/stats.h"

namespace dbpool {
namespace internal {

class Cluster;
class PoolCore;
struct Slot;

// A move-only claim on one pooled connection; returns it when destroyed.
class BasicLease {
 public:
  BasicLease() = default;
  BasicLease(std::shared_ptr<Cluster> cluster, PoolCore* core, Slot* slot)
      : cluster_(std::move(cluster)), core_(core), slot_(slot) {}
  BasicLease(BasicLease&& other) noexcept
      : cluster_(std::move(other.cluster_)),
        core_(other.core_),
        slot_(std::exchange(other.slot_, nullptr)) {}
  BasicLease& operator=(BasicLease&& other) noexcept {
    if (this != &other) {
      release();
      cluster_ = std::move(other.cluster_);
      core_ = other.core_;
      slot_ = std::exchange(other.slot_, nullptr);
    }
    return *this;
  }
  BasicLease(const BasicLease&) = delete;
  BasicLease& operator=(const BasicLease&) = delete;
  ~BasicLease() { release(); }

  void release();
  void discard();
  bool valid() const { return slot_ != nullptr; }
  void* native_handle() const;
  bool broken() const;
  const Endpoint& endpoint() const;

  // Ends one with_retry() attempt that produced `status`: discards the
  // connection when the attempt may be retried elsewhere, else releases it.
  // Returns whether the attempt may be retried.
  bool finish_attempt(const absl::Status& status);

 private:
  std::shared_ptr<Cluster> cluster_;  // keeps the cores alive
  PoolCore* core_ = nullptr;          // the core of the endpoint serving this lease
  Slot* slot_ = nullptr;
};

// A cheap, copyable handle on one pool core; the last handle closes it.
class BasicPool {
 public:
  static absl::StatusOr<BasicPool> Create(const PoolOptions& options,
                                          absl::StatusOr<DriverSetup> setup);

  absl::StatusOr<BasicLease> acquire(const AcquireOptions& options) const;
  PoolStats stats() const;
  void evict() const;
  absl::Status evict(const Endpoint& endpoint) const;
  void close() const;
  const PoolOptions& options() const;

 private:
  class Owner;
  explicit BasicPool(std::shared_ptr<Owner> owner) : owner_(std::move(owner)) {}

  std::shared_ptr<Owner> owner_;
};

// The attempt budget and backoff of one with_retry() call.
class RetryBudget {
 public:
  explicit RetryBudget(const FailoverPolicy& policy) : policy_(policy) {}

  // Whether to make another attempt after one that ended with `status`
  // (`retryable` from BasicLease::finish_attempt, or the acquire's status
  // being kUnavailable). Sleeps the backoff before saying yes.
  bool retry_after(const absl::Status& status, bool retryable);

 private:
  const FailoverPolicy& policy_;
  int attempts_ = 1;
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_INTERNAL_BASIC_POOL_H_
