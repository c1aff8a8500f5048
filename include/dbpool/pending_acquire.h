// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/pending_acquire.h
//
// PendingAcquire: the handle Pool::acquire_async() returns, to cancel the
// acquire while it waits.
#ifndef DBPOOL_PENDING_ACQUIRE_H_
#define DBPOOL_PENDING_ACQUIRE_H_

#include <memory>
#include <utility>

namespace dbpool {
namespace internal {
class AsyncAcquire;
class BasicPool;
class Cluster;
}  // namespace internal

// PendingAcquire
//
// A small copyable handle on one Pool::acquire_async() call. Holding it
// neither keeps the acquire waiting nor keeps the pool open; dropping it
// cancels nothing. Thread-safe.
class PendingAcquire {
 public:
  // A handle on nothing: cancel() returns false.
  PendingAcquire() = default;

  // cancel()
  //
  // Ends the acquire with kCancelled if it still waits for a connection:
  // its callback runs on the calling thread, before cancel() returns, with
  // an absl::CancelledError status, and the acquire takes no connection
  // (nor its place in the queue). Returns true if so. Returns false, doing
  // nothing, when the callback has run, is running, or is about to run
  // with a connection or another error (a connection already handed over
  // goes to the callback as a lease: release it to give it back).
  // Idempotent.
  bool cancel() const;

 private:
  friend class internal::BasicPool;
  PendingAcquire(std::shared_ptr<internal::Cluster> cluster,
                 std::weak_ptr<internal::AsyncAcquire> op)
      : cluster_(std::move(cluster)), op_(std::move(op)) {}

  std::shared_ptr<internal::Cluster> cluster_;  // the cores stay while the handle does
  std::weak_ptr<internal::AsyncAcquire> op_;
};

}  // namespace dbpool

#endif  // DBPOOL_PENDING_ACQUIRE_H_
