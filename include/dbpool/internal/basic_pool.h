// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/internal/basic_pool.h
//
// The untyped pool and lease that the typed facades (Pool<Traits>,
// Lease<Traits>) wrap. Compiled once in dbpool::core; not for direct use.
#ifndef DBPOOL_INTERNAL_BASIC_POOL_H_
#define DBPOOL_INTERNAL_BASIC_POOL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dbpool/driver.h"
#include "dbpool/pending_acquire.h"
#include "dbpool/pool_options.h"
#include "dbpool/role.h"
#include "dbpool/stats.h"

namespace dbpool {
namespace internal {

class Cluster;
class PoolCore;
struct Slot;
class RetryBudget;

// A move-only claim on one pooled connection; returns it when destroyed.
class BasicLease {
 public:
  BasicLease() = default;
  BasicLease(std::shared_ptr<Cluster> cluster, PoolCore* core, Slot* slot, uint32_t forks)
      : cluster_(std::move(cluster)), core_(core), slot_(slot), forks_(forks) {}
  BasicLease(BasicLease&& other) noexcept
      : cluster_(std::move(other.cluster_)),
        core_(other.core_),
        slot_(std::exchange(other.slot_, nullptr)),
        forks_(other.forks_) {}
  BasicLease& operator=(BasicLease&& other) noexcept {
    if (this != &other) {
      release();
      cluster_ = std::move(other.cluster_);
      core_ = other.core_;
      slot_ = std::exchange(other.slot_, nullptr);
      forks_ = other.forks_;
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
  // One round trip on the connection (DriverConnection::ping).
  absl::Status ping(absl::Time deadline) const;

  // Ends one with_retry() attempt that produced `*status`: discards the
  // connection when it is or may be broken, else releases it. Marks
  // `*status` outcome-unknown when the pool interrupted the connection while
  // fn held it, or the connection broke and the status does not say that
  // nothing was sent. Returns whether the attempt may be run again:
  // outcome-unknown only when `idempotent`; not-applied or unclassified
  // kUnavailable failures (and not-applied ones on a broken connection)
  // always.
  bool finish_attempt(absl::Status* status, bool idempotent);

  // Opens the transaction of one with_transaction() attempt (its id taken
  // at BEGIN unless `defer_txn_id`, where the driver does). On failure the
  // lease is released or discarded, and the result says whether to retry
  // (nothing was written yet).
  bool begin_transaction(absl::Status* status, bool defer_txn_id = false);

  // Ends one with_transaction() attempt whose fn returned `*status`: on OK
  // records the transaction id (when the driver can) and commits, else
  // rolls back. A COMMIT whose reply was lost is resolved by asking the
  // server through fresh leases for `role`, within `budget`. The lease is
  // released or discarded. Sets `*status` to what with_transaction() returns
  // (OK: fn's result stands) and returns whether fn should run again on a
  // fresh lease: after a serialization failure or deadlock (kAborted), a
  // lost connection before COMMIT, a COMMIT known to have rolled back, or
  // (when `idempotent`) a COMMIT whose outcome stays unknown.
  bool finish_transaction(absl::Status* status, bool idempotent, Role role, RetryBudget* budget);

 private:
  // `status` marked outcome-unknown when the pool interrupted the
  // connection, or it broke and `status` does not say nothing was sent.
  absl::Status Classify(const absl::Status& status) const;
  // After a kUnavailable failure on a live, idle connection (a read-only
  // rejection, 25006 or MySQL 1290), has the cluster check whether the
  // server was demoted and retire the stale connections if so.
  void RecheckIfRejected(const absl::Status& status);
  // Discards the connection when asked or broken (and has the endpoint
  // probed), else releases it. Nothing when the lease is empty.
  void Finish(bool discard_connection);
  // In a fork() child, drops the lease without touching the pool; true if so.
  bool AbandonIfInherited();

  std::shared_ptr<Cluster> cluster_;  // keeps the cores alive
  PoolCore* core_ = nullptr;          // the core of the endpoint serving this lease
  Slot* slot_ = nullptr;
  uint32_t forks_ = 0;  // the pool's fork count (see core/fork_guard.h)
};

// A cheap, copyable handle on one pool core; the last handle closes it.
class BasicPool {
 public:
  static absl::StatusOr<BasicPool> Create(const PoolOptions& options,
                                          absl::StatusOr<DriverSetup> setup);

  absl::StatusOr<BasicLease> acquire(const AcquireOptions& options) const;
  // Pool::acquire_async(); `done` runs exactly once, and nothing it throws
  // escapes (it is swallowed).
  PendingAcquire acquire_async(const AcquireOptions& options,
                               absl::AnyInvocable<void(absl::StatusOr<BasicLease>)> done) const;
  PoolStats stats() const;
  absl::Status ping(std::optional<absl::Duration> timeout) const;
  absl::Status warm_up(std::optional<absl::Duration> timeout) const;
  void evict() const;
  absl::Status evict(const Endpoint& endpoint) const;
  void close() const;
  const PoolOptions& options() const;

 private:
  class Owner;
  explicit BasicPool(std::shared_ptr<Owner> owner) : owner_(std::move(owner)) {}

  std::shared_ptr<Owner> owner_;
};

// The status of what fn returned: absl::Status or absl::StatusOr<T>.
inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}
template <typename R>
struct IsStatusResult : std::false_type {};
template <>
struct IsStatusResult<absl::Status> : std::true_type {};
template <typename T>
struct IsStatusResult<absl::StatusOr<T>> : std::true_type {};

// The attempt budget and backoff of one with_retry() call.
class RetryBudget {
 public:
  explicit RetryBudget(const FailoverPolicy& policy) : policy_(policy) {}

  // Whether to make another attempt after one that ended with `status`
  // (`retryable` from BasicLease::finish_attempt, or the acquire's status
  // being kUnavailable). Sleeps the backoff before saying yes.
  bool retry_after(const absl::Status& status, bool retryable);

  // Attempts made so far (the first one included).
  int attempts() const { return attempts_; }

 private:
  const FailoverPolicy& policy_;
  int attempts_ = 1;
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_INTERNAL_BASIC_POOL_H_
