// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The untyped pool handle and lease behind Pool<Traits> and Lease<Traits>.
#include "dbpool/internal/basic_pool.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/logging_listener.h"
#include "core/pool_core.h"
#include "core/status_macros.h"
#include "failover/cluster.h"

namespace dbpool {
namespace internal {

// Owns the cluster for the pool handles; the last handle to go closes it,
// while leases keep the (closed) cluster's memory alive until they return.
class BasicPool::Owner {
 public:
  explicit Owner(std::shared_ptr<Cluster> cluster) : cluster(std::move(cluster)) {}
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;
  ~Owner() { cluster->Close(); }

  const std::shared_ptr<Cluster> cluster;
};

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
  auto cluster = std::make_shared<Cluster>(effective, *std::move(setup));
  cluster->Start();
  return BasicPool(std::make_shared<Owner>(std::move(cluster)));
}

absl::StatusOr<BasicLease> BasicPool::acquire(const AcquireOptions& options) const {
  absl::StatusOr<Cluster::Acquired> got = owner_->cluster->Acquire(options);
  if (!got.ok()) return got.status();
  return BasicLease(owner_->cluster, got->core, got->slot);
}

PoolStats BasicPool::stats() const { return owner_->cluster->Stats(); }

void BasicPool::evict() const { owner_->cluster->Evict(); }

absl::Status BasicPool::evict(const Endpoint& endpoint) const {
  return owner_->cluster->Evict(endpoint);
}

void BasicPool::close() const { owner_->cluster->Close(); }

const PoolOptions& BasicPool::options() const { return owner_->cluster->options(); }

void BasicLease::release() {
  if (slot_ == nullptr) return;
  core_->Release(std::exchange(slot_, nullptr));
  cluster_.reset();
}

void BasicLease::discard() {
  if (slot_ == nullptr) return;
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

bool BasicLease::finish_attempt(const absl::Status& status) {
  const bool retryable =
      !status.ok() && (status.code() == absl::StatusCode::kUnavailable || broken());
  if (slot_ == nullptr) return retryable;  // fn released or discarded it already
  if (retryable) {
    cluster_->RecheckRole(core_, slot_);  // a stale connection to a demoted server?
    cluster_->ReportFailure(core_);
    discard();
  } else {
    release();
  }
  return retryable;
}

}  // namespace internal
}  // namespace dbpool
