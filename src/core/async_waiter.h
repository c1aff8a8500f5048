// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// AsyncWaiter: one acquire_async() call waiting in a pool core's queue.
//
// It joins the same FIFO as blocking acquires (its Waiter is linked into
// the core's WaitQueue), but nothing sleeps on it: whoever serves or fails
// it under the core's mutex moves it to the core's ready list, and the
// core's async thread completes it outside the mutex (validating the
// connection first when it sat idle too long). Its deadline is kept in the
// core's deadline index, which the same thread watches. The core owns a
// queued or ready waiter through `self`; a PendingAcquire handle holds only
// a weak reference, to cancel it.
#ifndef DBPOOL_CORE_ASYNC_WAITER_H_
#define DBPOOL_CORE_ASYNC_WAITER_H_

#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "core/wait_queue.h"
#include "dbpool/pool_options.h"

namespace dbpool {
namespace internal {

struct Slot;

// What an async acquire is completed with: a connection (kInUse, the
// hand-out recorded) or why not. Called exactly once, never under a pool
// lock.
using AsyncDone = absl::AnyInvocable<void(absl::StatusOr<Slot*>)>;

// The states of an AsyncWaiter, all changed under the core's mutex:
//   kQueued    in waiters_ and in the deadline index
//   kReady     served or failed (waiter.done), in the ready list
//   kFinished  completed, or being completed, by the async thread or by
//              cancel(): nobody else touches it
enum class AsyncState { kQueued, kReady, kFinished };

struct AsyncWaiter {
  Waiter waiter;  // waiter.async points back here
  AcquireOptions request;
  int64_t entered = 0;           // FineNanos() when the acquire began
  int64_t deadline = INT64_MAX;  // FineNanos()
  AsyncState state = AsyncState::kQueued;
  AsyncDone done;
  std::shared_ptr<AsyncWaiter> self;  // the core's ownership while queued or ready
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_ASYNC_WAITER_H_
