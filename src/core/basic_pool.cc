// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The untyped pool handle and lease behind Pool<Traits> and Lease<Traits>.
#include "dbpool/internal/basic_pool.h"

#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/fork_guard.h"
#include "core/logging_listener.h"
#include "core/pool_core.h"
#include "core/status_macros.h"
#include "core/user_code.h"
#include "failover/cluster.h"

namespace dbpool {
namespace internal {

// Owns the cluster for the pool handles; the last handle to go closes it,
// while leases keep the (closed) cluster's memory alive until they return.
class BasicPool::Owner {
 public:
  explicit Owner(std::shared_ptr<Cluster> cluster)
      : cluster(std::move(cluster)), forks(CurrentForkCount()) {}
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;
  ~Owner() {
    if (Inherited(forks)) {
      // In a fork() child: closing would send the parent's sessions a
      // goodbye on their sockets and join threads that do not exist here.
      // The pool is left alone, as memory the child does not free.
      new std::shared_ptr<Cluster>(cluster);
      return;
    }
    if (cluster->OnOwnThread()) {
      // The last handle went in a listener on one of the pool's threads,
      // which cannot wait for itself: a helper thread closes the pool,
      // joining that thread once the listener has returned, and drops it.
      std::thread([c = cluster] { c->Close(); }).detach();
    } else {
      cluster->Close();
    }
  }

  const std::shared_ptr<Cluster> cluster;
  const uint32_t forks;  // CurrentForkCount() when built
};

namespace {
absl::Status InheritedError(const PoolOptions& options) {
  return absl::FailedPreconditionError(
      absl::StrCat("dbpool: pool '", options.name,
                   "' was built in the parent of this process (before fork()); build pools "
                   "after fork(), in the process that uses them"));
}
}  // namespace

absl::StatusOr<BasicPool> BasicPool::Create(const PoolOptions& options,
                                            absl::StatusOr<DriverSetup> setup) {
  if (!setup.ok()) return setup.status();
  DBPOOL_RETURN_IF_ERROR(ValidatePoolOptions(options));
  if (setup->driver == nullptr) return absl::InvalidArgumentError("dbpool: no driver");
  if (setup->endpoints.empty()) {
    return absl::InvalidArgumentError(
        "dbpool: no endpoint: call endpoint() or give hosts in dsn()");
  }
  for (const Endpoint& e : setup->endpoints) {
    if (e.host.empty()) return absl::InvalidArgumentError("dbpool: endpoint host is empty");
    if (e.port < 1 || e.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("dbpool: endpoint ", e.host, " port is ",
                                                     e.port, "; allowed range: 1..65535"));
    }
  }
  PoolOptions effective = options;
  if (effective.log_sink) {
    effective.listener = MakeLoggingListener(effective.name, effective.log_sink,
                                             effective.log_level, effective.listener);
  }
  // From here on the pool calls its listener only through the guard.
  effective.listener = GuardListener(std::move(effective.listener));
  auto cluster = std::make_shared<Cluster>(effective, *std::move(setup));
  cluster->Start();
  return BasicPool(std::make_shared<Owner>(std::move(cluster)));
}

absl::StatusOr<BasicLease> BasicPool::acquire(const AcquireOptions& options) const {
  if (Inherited(owner_->forks)) return InheritedError(owner_->cluster->options());
  absl::StatusOr<Cluster::Acquired> got = owner_->cluster->Acquire(options);
  if (!got.ok()) return got.status();
  return BasicLease(owner_->cluster, got->core, got->slot, owner_->forks);
}

PoolStats BasicPool::stats() const { return owner_->cluster->Stats(); }

absl::Status BasicPool::ping(std::optional<absl::Duration> timeout) const {
  AcquireOptions request;
  request.timeout = timeout;
  request.where = SourceLocation::Current();
  absl::StatusOr<BasicLease> lease = acquire(request);
  if (!lease.ok()) return lease.status();
  absl::Status alive = lease->ping(absl::Now() + options().validation_timeout);
  if (alive.ok()) {
    lease->release();
  } else {
    lease->discard();
  }
  return alive;
}

void BasicPool::close() const {
  if (Inherited(owner_->forks)) return;  // the parent's pool: not this process's to close
  owner_->cluster->Close();
}

const PoolOptions& BasicPool::options() const { return owner_->cluster->options(); }

bool BasicLease::AbandonIfInherited() {
  if (!Inherited(forks_)) return false;
  // A lease of the parent's pool, returned in a fork() child: the child
  // leaves the connection (the parent's session) and the pool alone.
  new std::shared_ptr<Cluster>(std::move(cluster_));
  slot_ = nullptr;
  return true;
}

void BasicLease::release() {
  if (slot_ == nullptr || AbandonIfInherited()) return;
  core_->Release(std::exchange(slot_, nullptr));
  cluster_.reset();
}

void BasicLease::discard() {
  if (slot_ == nullptr || AbandonIfInherited()) return;
  core_->Discard(std::exchange(slot_, nullptr));
  cluster_.reset();
}

void* BasicLease::native_handle() const {
  return slot_ == nullptr ? nullptr : slot_->conn->native_handle();
}

bool BasicLease::broken() const {
  return slot_ != nullptr && slot_->conn->session_state() == SessionState::kBroken;
}

const Endpoint& BasicLease::endpoint() const { return *slot_->endpoint; }

absl::Status BasicLease::ping(absl::Time deadline) const { return slot_->conn->ping(deadline); }

bool BasicLease::finish_attempt(const absl::Status& status) {
  const bool retryable =
      !status.ok() && (status.code() == absl::StatusCode::kUnavailable || broken());
  if (slot_ == nullptr) return retryable;  // fn released or discarded it already
  if (retryable) {
    cluster_->ReportFailure(core_);
    discard();
  } else {
    release();
  }
  return retryable;
}

}  // namespace internal
}  // namespace dbpool
