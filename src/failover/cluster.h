// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Cluster: the failover layer. One pool core per endpoint, a prober thread
// per endpoint that keeps the EndpointTable current, and routing of each
// acquire to the endpoint that serves its role.
//
// With one endpoint there is nothing to route: acquires go straight to its
// core and no prober runs. With several, each endpoint is probed every
// probe_interval on a dedicated connection (not counted in max_size, which
// is per endpoint). When an endpoint goes down its idle connections are
// closed, sockets of leases on it are shut down (so blocked native calls
// return), and its waiting acquires are re-routed. Acquires for a role with
// no endpoint wait for one up to their deadline (or fail fast, per policy).
//
// The fast path: the routing decision is published (failover/route.h) each
// time the table changes, so an acquire whose route is known and whose
// endpoint has an idle connection takes neither the cluster's mutex nor
// the clock; anything else (no route, closed, no idle connection) takes
// the locked path.
#ifndef DBPOOL_FAILOVER_CLUSTER_H_
#define DBPOOL_FAILOVER_CLUSTER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/pool_core.h"
#include "dbpool/connect_abort.h"
#include "dbpool/driver.h"
#include "dbpool/pool_options.h"
#include "dbpool/stats.h"
#include "failover/endpoint_table.h"
#include "failover/route.h"

namespace dbpool {
namespace internal {

class AsyncAcquire;  // one acquire_async() (failover/cluster_async.cc)

class Cluster {
 public:
  Cluster(const PoolOptions& options, DriverSetup setup);
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  ~Cluster();

  // Starts the cores and, with several endpoints, the probers.
  void Start();

  // A connection from the endpoint that serves `options.role`.
  struct Acquired {
    PoolCore* core;
    Slot* slot;
  };
  absl::StatusOr<Acquired> Acquire(const AcquireOptions& options);

  // Pool::acquire_async(): Acquire() without blocking. `done` runs exactly
  // once: on this thread before the return (an idle connection, or an
  // error known at once), on the thread that released the connection it
  // gets, on a core's async thread (other hand-overs, a deadline, a close), on the cluster's route
  // thread (an acquire that waited for an endpoint to serve its role, or re-routed after its
  // endpoint failed), or on the thread that cancels it. Like Acquire(), a
  // wait that its endpoint ends with kUnavailable is routed again within
  // the deadline.
  using AsyncAcquired = absl::AnyInvocable<void(absl::StatusOr<Acquired>)>;
  std::shared_ptr<AsyncAcquire> AcquireAsync(const AcquireOptions& options, AsyncAcquired done);
  // Ends `op` with kCancelled if it still waits (true); false once it has
  // been served or failed.
  bool CancelAsync(AsyncAcquire* op);

  // A lease on `core` saw `error` (connection lost, read-only): probe its
  // endpoint now instead of at the next interval.
  void ReportFailure(const PoolCore* core);

  // Counts one with_transaction() COMMIT resolution (PoolStats'
  // commits_resolved_committed, commits_resolved_aborted,
  // commits_unresolved).
  void CountCommitResolution(TxnStatus status);

  // Pool::evict(): every endpoint's connections, or those of `endpoint`
  // (kNotFound when it is not one of the pool's).
  void Evict();
  absl::Status Evict(const Endpoint& endpoint);

  // A lease's attempt on `core` failed with kUnavailable: if its connection
  // `slot` still answers, is idle and says its server cannot take writes
  // (a read-only rejection), and a new connection to the same endpoint can
  // (the name or proxy moved to the new primary), retires the endpoint's
  // connections (PoolCore::SoftEvict). Runs on the caller's thread, each
  // step bounded by probe_timeout and ended by Close(); one check at a time
  // per pool. Works with one endpoint too, where no prober runs.
  void RecheckRole(PoolCore* core, Slot* slot);

  PoolStats Stats() const;
  // Stops the probers and closes every core (see PoolCore::Close).
  void Close();
  // Whether the calling thread is one of this cluster's (a prober or a
  // core's), i.e. the caller is a listener.
  bool OnOwnThread() const;
  const PoolOptions& options() const { return options_; }
  // The cores, one per endpoint, in preference order (Pool::warm_up()).
  const std::vector<std::unique_ptr<PoolCore>>& cores() const { return cores_; }

 private:
  bool monitored() const { return cores_.size() > 1; }
  // Routes `op` to an endpoint's core, or parks it until one serves its
  // role. Without mu_ held.
  void RouteAsync(const std::shared_ptr<AsyncAcquire>& op) ABSL_LOCKS_EXCLUDED(mu_);
  // A core's answer to `op`, which waited on endpoint `index`.
  void OnAsyncCoreDone(const std::shared_ptr<AsyncAcquire>& op, size_t index,
                       absl::StatusOr<Slot*> got);
  // Parks `op` until `not_before` (FineNanos(), 0: at once) has passed and
  // an endpoint serves its role, or its deadline; starts the route thread.
  void ParkLocked(std::shared_ptr<AsyncAcquire> op, int64_t not_before)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ClosedError() const;
  absl::Status CancelledError() const;
  // The route thread: routes parked acquires again, or fails them at their
  // deadline or close.
  void RouteLoop();
  void ProberLoop(size_t i);
  // conn->probe(deadline), which Close() interrupts while it runs: the
  // probers' probes and RecheckRole()'s. Once closing, kFailedPrecondition
  // (the pool's closed error) without a probe.
  absl::StatusOr<ProbeResult> ProbeUnlessClosed(DriverConnection* conn, absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  void RequestProbeLocked(size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The slow path of Acquire: routes under mu_ (waiting for a route if
  // needed), then acquires from that endpoint. `start`: when the acquire
  // began (FineNanos()). Takes mu_ itself.
  absl::StatusOr<Acquired> AcquireSlow(const AcquireOptions& options, int64_t start)
      ABSL_LOCKS_EXCLUDED(mu_);
  // acquire(kPrimary)'s error during a split brain, naming the endpoints.
  absl::Status SplitBrainLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status NoRouteLocked(Role role, absl::Duration waited) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PoolOptions options_;
  const std::shared_ptr<Driver> driver_;
  std::atomic<bool> rechecking_{false};  // a RecheckRole() is connecting
  // The route epoch (see PoolCore::kNotRouted): bumped, after the new
  // routes are published, each time a prober fails a core's waiters; an
  // acquire reads it before it reads a route.
  std::atomic<uint64_t> route_epoch_{0};
  std::vector<std::unique_ptr<PoolCore>> cores_;  // one per endpoint, in preference order
  std::atomic<uint64_t> commits_resolved_committed_{0};
  std::atomic<uint64_t> commits_resolved_aborted_{0};
  std::atomic<uint64_t> commits_unresolved_{0};

  mutable absl::Mutex mu_;
  absl::CondVar route_cv_;  // the table's answers may have changed
  absl::CondVar probe_cv_;  // a probe was requested, or closing
  EndpointTable table_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> probe_now_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Fired by Close(): the probers' connects give up at once.
  ConnectAbort connect_abort_;
  // The connections being probed now (ProbeUnlessClosed); Close()
  // interrupts them, so that no probe a server holds outlasts it.
  std::vector<DriverConnection*> probing_ ABSL_GUARDED_BY(mu_);
  int route_waiters_ ABSL_GUARDED_BY(mu_) = 0;  // acquires waiting for an endpoint
  // table_.Pick() per role, unless closed_; written under mu_ after every
  // change of either, read by Acquire without it.
  PublishedRoutes routes_;
  std::vector<std::thread> probers_ ABSL_GUARDED_BY(mu_);  // and the route thread
  // Async acquires waiting for a route (see ParkLocked).
  struct Parked {
    std::shared_ptr<AsyncAcquire> op;
    int64_t not_before;  // FineNanos()
  };
  std::vector<Parked> parked_ ABSL_GUARDED_BY(mu_);
  bool route_thread_started_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_FAILOVER_CLUSTER_H_
