// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The untyped pool handle and lease behind Pool<Traits> and Lease<Traits>.
#include "dbpool/internal/basic_pool.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/fork_guard.h"
#include "core/logging_listener.h"
#include "core/pool_core.h"
#include "core/status_macros.h"
#include "core/user_code.h"
#include "dbpool/outcome.h"
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

namespace {
// The lease for a connection the cluster handed out.
BasicLease LeaseFor(std::shared_ptr<Cluster> cluster, const Cluster::Acquired& got,
                    uint32_t forks) {
  // An interruption of this connection from now on concerns this lease. (One
  // that came between the hand-out and here left the connection broken,
  // which finish_attempt() treats the same unless the failure says nothing
  // was sent.)
  got.slot->interrupted.store(false, std::memory_order_relaxed);
  return BasicLease(std::move(cluster), got.core, got.slot, forks);
}
}  // namespace

absl::StatusOr<BasicLease> BasicPool::acquire(const AcquireOptions& options) const {
  if (Inherited(owner_->forks)) return InheritedError(owner_->cluster->options());
  absl::StatusOr<Cluster::Acquired> got = owner_->cluster->Acquire(options);
  if (!got.ok()) return got.status();
  return LeaseFor(owner_->cluster, *got, owner_->forks);
}

PendingAcquire BasicPool::acquire_async(
    const AcquireOptions& options,
    absl::AnyInvocable<void(absl::StatusOr<BasicLease>)> done) const {
  // The application's callback: nothing it throws reaches a pool thread.
  auto deliver = [done = std::move(done)](absl::StatusOr<BasicLease> result) mutable {
    CallUserCode([&] { done(std::move(result)); });
  };
  if (Inherited(owner_->forks)) {
    deliver(InheritedError(owner_->cluster->options()));
    return PendingAcquire();
  }
  std::shared_ptr<AsyncAcquire> op = owner_->cluster->AcquireAsync(
      options, [cluster = owner_->cluster, forks = owner_->forks,
                deliver = std::move(deliver)](absl::StatusOr<Cluster::Acquired> got) mutable {
        if (!got.ok()) {
          deliver(got.status());
        } else {
          deliver(LeaseFor(std::move(cluster), *got, forks));
        }
      });
  return PendingAcquire(owner_->cluster, op);
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

void BasicPool::evict() const { owner_->cluster->Evict(); }

absl::Status BasicPool::evict(const Endpoint& endpoint) const {
  return owner_->cluster->Evict(endpoint);
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

const Endpoint& BasicLease::endpoint() const { return core_->endpoint(); }

absl::Status BasicLease::ping(absl::Time deadline) const { return slot_->conn->ping(deadline); }

namespace {

// `status` with `note` appended to its message; code and payloads kept.
absl::Status Annotated(const absl::Status& status, absl::string_view note) {
  absl::Status out(status.code(), absl::StrCat(status.message(), note));
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

constexpr absl::string_view kInterruptedNote =
    " (the pool shut this connection down while the lease held it: its endpoint was declared "
    "down; whatever was in flight may have run)";
constexpr absl::string_view kBrokenNote =
    " (the connection broke while the lease held it and the error does not say that nothing "
    "was sent: whatever was in flight may have run)";

bool IsConnectionTrouble(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable || IsOutcomeUnknown(status);
}

}  // namespace

absl::Status BasicPool::warm_up(std::optional<absl::Duration> timeout) const {
  if (Inherited(owner_->forks)) return InheritedError(options());
  // One deadline for all endpoints, on the clock the acquires wait on.
  const int64_t deadline = AddNanos(FineNanos(), timeout.value_or(options().acquire_timeout));
  const int want = std::max(1, options().min_idle);
  for (const std::unique_ptr<PoolCore>& core : owner_->cluster->cores()) {
    int ready = 0;
    const absl::Status status = core->WarmUp(want, deadline, &ready);
    if (!status.ok()) {
      return Annotated(status, absl::StrCat(" (warm_up: ", ready, " of ", want, " connections to ",
                                            core->endpoint().ToString(), " ready)"));
    }
  }
  return absl::OkStatus();
}

absl::Status BasicLease::Classify(const absl::Status& status) const {
  if (status.ok() || slot_ == nullptr || IsOutcomeUnknown(status)) return status;
  if (slot_->interrupted.load(std::memory_order_acquire)) {
    return MarkOutcomeUnknown(Annotated(status, kInterruptedNote));
  }
  if (broken() && OutcomeOf(status) != Outcome::kNotApplied) {
    return MarkOutcomeUnknown(Annotated(status, kBrokenNote));
  }
  return status;
}

void BasicLease::Finish(bool discard_connection) {
  if (slot_ == nullptr) return;
  if (discard_connection || broken()) {
    cluster_->ReportFailure(core_);
    discard();
  } else {
    release();
  }
}

bool BasicLease::finish_attempt(absl::Status* status, bool idempotent) {
  if (status->ok()) {
    release();
    return false;
  }
  const bool was_broken = broken();
  *status = Classify(*status);
  bool retryable = false;
  switch (OutcomeOf(*status)) {
    case Outcome::kUnknown:
      retryable = idempotent;
      break;
    case Outcome::kNotApplied:
      retryable = status->code() == absl::StatusCode::kUnavailable || was_broken;
      break;
    case Outcome::kUnclassified:
      retryable = status->code() == absl::StatusCode::kUnavailable;
      break;
  }
  RecheckIfRejected(*status);
  Finish(IsConnectionTrouble(*status));
  return retryable;
}

void BasicLease::RecheckIfRejected(const absl::Status& status) {
  if (slot_ != nullptr && !broken() && status.code() == absl::StatusCode::kUnavailable) {
    cluster_->RecheckRole(core_, slot_);  // a stale connection to a demoted server?
  }
}

bool BasicLease::begin_transaction(absl::Status* status, bool defer_txn_id) {
  const absl::Time deadline = absl::Now() + cluster_->options().validation_timeout;
  *status =
      defer_txn_id ? slot_->conn->begin_deferring_txn_id(deadline) : slot_->conn->begin(deadline);
  if (status->ok()) return false;
  // Nothing was written yet: BEGIN may run again whatever became of it.
  return finish_attempt(status, /*idempotent=*/true);
}

bool BasicLease::finish_transaction(absl::Status* status, bool idempotent, Role role,
                                    RetryBudget* budget) {
  // Ending the lease drops its reference to the cluster: keep one.
  const std::shared_ptr<Cluster> cluster = cluster_;
  // fn failed, or fn gave the lease up: COMMIT is not sent, so nothing of
  // the transaction is committed (unless fn committed it itself).
  auto rolled_back = [&](absl::Status failure) {
    if (slot_ != nullptr) {
      failure = Classify(failure);
      if (!broken()) {
        const absl::Status rollback =
            slot_->conn->rollback(absl::Now() + cluster->options().validation_timeout);
        if (!rollback.ok()) failure = Annotated(failure, "; ROLLBACK failed too");
      }
    }
    RecheckIfRejected(failure);  // rolled back: the session is idle again
    const bool connection_trouble = IsConnectionTrouble(failure);
    Finish(connection_trouble);
    // Whatever was in flight inside the transaction did not commit.
    *status = WithOutcome(std::move(failure), Outcome::kNotApplied);
    return status->code() == absl::StatusCode::kAborted || connection_trouble;
  };
  if (slot_ == nullptr) {
    if (status->ok()) {
      *status = absl::FailedPreconditionError(
          "dbpool: with_transaction: fn released or discarded the lease, so the transaction was "
          "rolled back; fn must leave the lease to with_transaction");
      return false;
    }
    return rolled_back(*status);
  }
  if (!status->ok()) return rolled_back(*status);

  DriverConnection& conn = *slot_->conn;
  const absl::Duration round_trip = cluster->options().validation_timeout;
  // The id is asked before COMMIT is sent: once COMMIT's reply is lost it is
  // too late.
  absl::StatusOr<std::optional<std::string>> id = conn.current_txn_id(absl::Now() + round_trip);
  const bool resolvable = id.ok();
  if (!id.ok() && id.status().code() != absl::StatusCode::kUnimplemented) {
    return rolled_back(id.status());
  }
  absl::Status commit = conn.commit(absl::InfiniteFuture());
  if (commit.ok()) {
    release();
    return false;
  }
  commit = Classify(commit);
  // An error reply to COMMIT means it rolled back, unless the connection
  // died with it: a session terminated (57P01) right after committing may
  // send its FATAL error in place of COMMIT's answer. Asking is cheap.
  if (!IsOutcomeUnknown(commit) && !(resolvable && broken())) {
    // The server answered COMMIT with an error: it rolled back.
    const bool trouble = IsConnectionTrouble(commit);
    Finish(trouble);
    *status = WithOutcome(std::move(commit), Outcome::kNotApplied);
    return status->code() == absl::StatusCode::kAborted || trouble;
  }
  // COMMIT was sent and its reply lost.
  Finish(/*discard_connection=*/true);
  if (!resolvable) {
    cluster->CountCommitResolution(TxnStatus::kUnknown);
    *status = Annotated(commit, absl::StrCat("; COMMIT's reply was lost and this driver cannot ask "
                                             "whether it committed (",
                                             id.status().message(), ")"));
    return idempotent;
  }
  if (!id->has_value()) {
    // The transaction had no id: it wrote nothing, so nothing can be lost
    // or doubled. fn runs again for its result.
    cluster->CountCommitResolution(TxnStatus::kAborted);
    *status = WithOutcome(
        absl::AbortedError(absl::StrCat("dbpool: COMMIT's reply was lost (", commit.message(),
                                        "); the transaction had written nothing")),
        Outcome::kNotApplied);
    return true;
  }
  const std::string& txn = **id;
  absl::Status last = commit;
  for (;;) {
    AcquireOptions ask;
    ask.role = role;
    absl::StatusOr<Cluster::Acquired> got = cluster->Acquire(ask);
    if (got.ok()) {
      got->slot->interrupted.store(false, std::memory_order_relaxed);
      BasicLease asking(cluster, got->core, got->slot, forks_);
      absl::StatusOr<TxnResolution> answer =
          got->slot->conn->resolve_txn(txn, absl::Now() + round_trip);
      const std::string server = asking.endpoint().ToString();
      if (answer.ok()) {
        asking.release();
        switch (answer->status) {
          case TxnStatus::kCommitted:
            cluster->CountCommitResolution(TxnStatus::kCommitted);
            *status = absl::OkStatus();
            return false;
          case TxnStatus::kAborted:
            cluster->CountCommitResolution(TxnStatus::kAborted);
            *status = WithOutcome(absl::AbortedError(absl::StrCat(
                                      "dbpool: COMMIT's reply was lost (", commit.message(),
                                      "); transaction ", txn, " rolled back")),
                                  Outcome::kNotApplied);
            return true;
          case TxnStatus::kUnknown:
            cluster->CountCommitResolution(TxnStatus::kUnknown);
            *status = Annotated(
                commit, absl::StrCat("; COMMIT's reply was lost and ", server,
                                     " cannot tell whether it committed: ", answer->detail));
            return idempotent;
          case TxnStatus::kInProgress:
            last = absl::UnavailableError(
                absl::StrCat("transaction ", txn, " was still in progress on ", server));
            break;
        }
      } else {
        last = answer.status();
        asking.finish_attempt(&last, /*idempotent=*/true);
      }
    } else {
      last = got.status();
    }
    if (!budget->retry_after(last, /*retryable=*/true)) break;
  }
  cluster->CountCommitResolution(TxnStatus::kUnknown);
  *status =
      Annotated(commit, absl::StrCat("; COMMIT's reply was lost and asking whether "
                                     "transaction ",
                                     txn, " committed failed within the retry budget (",
                                     budget->attempts(), " attempts; last: ", last.message(), ")"));
  return idempotent;
}

}  // namespace internal

bool PendingAcquire::cancel() const {
  std::shared_ptr<internal::AsyncAcquire> op = op_.lock();
  if (op == nullptr) return false;  // finished, and let go by the pool
  return cluster_->CancelAsync(op.get());
}

}  // namespace dbpool
