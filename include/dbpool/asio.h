// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/asio.h
//
// dbpool::async_acquire(): Pool::acquire_async() as an Asio asynchronous
// operation, for event-loop servers (callbacks, futures, C++20 coroutines
// with asio::use_awaitable, deferred operations: any completion token).
// Header-only, standalone Asio (Debian: libasio-dev, 1.22), or Boost.Asio
// (1.77 or later) with DBPOOL_USE_BOOST_ASIO defined (see
// dbpool/internal/asio_compat.h); the dbpool libraries themselves do not
// depend on Asio.
//
//   asio::awaitable<void> handle(dbpool::PgPool pool) {
//     absl::StatusOr<dbpool::PgLease> lease =
//         co_await dbpool::async_acquire(pool, asio::use_awaitable);
//     if (!lease.ok()) co_return;  // lease.status() says why
//     ...
//   }
//
// Blocking threads and coroutines can share one pool: they wait in one FIFO
// queue under the same caps, deadlines and failover routing.
#ifndef DBPOOL_ASIO_H_
#define DBPOOL_ASIO_H_

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "dbpool/internal/asio_compat.h"
#include "dbpool/pending_acquire.h"
#include "dbpool/pool.h"

namespace dbpool {
namespace asio_internal {

// One pending async_acquire(), as its execution context's registry sees it.
class PendingOp {
 public:
  virtual ~PendingOp() = default;
  // The context is going away: drop the handler without running it, and
  // give back whatever the pool still hands over.
  virtual void Abandon() = 0;
};

// Per execution context (an io_context, say): the async_acquire() calls
// pending on it, so that destroying the context with some pending neither
// runs their handlers on a dead context nor leaks their connections.
// (Asio shuts this service down, as every service, before it destroys the
// context's handlers and scheduler.)
class PendingRegistry : public asio::execution_context::service {
 public:
  using key_type = PendingRegistry;
  static inline asio::execution_context::id id;

  explicit PendingRegistry(asio::execution_context& context)
      : asio::execution_context::service(context) {}

  // Registers `op`; false once the context is shutting down.
  bool Add(const std::shared_ptr<PendingOp>& op) {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return false;
    ops_.emplace(op.get(), op);
    return true;
  }
  void Remove(const PendingOp* op) {
    std::lock_guard<std::mutex> lock(mu_);
    ops_.erase(op);
  }

 private:
  void shutdown() override {
    std::vector<std::shared_ptr<PendingOp>> ops;
    {
      std::lock_guard<std::mutex> lock(mu_);
      shut_down_ = true;
      for (auto& [key, op] : ops_) {
        if (std::shared_ptr<PendingOp> live = op.lock()) ops.push_back(std::move(live));
      }
      ops_.clear();
    }
    for (const std::shared_ptr<PendingOp>& op : ops) op->Abandon();
  }

  std::mutex mu_;
  bool shut_down_ = false;
  std::unordered_map<const PendingOp*, std::weak_ptr<PendingOp>> ops_;
};

// The executor `ex`, counting outstanding work where it can (so that its
// io_context keeps running while the pool holds the operation).
template <typename Executor>
auto TrackWork(const Executor& ex) {
  if constexpr (asio::can_prefer<const Executor&,
                                 asio::execution::outstanding_work_t::tracked_t>::value) {
    return asio::prefer(ex, asio::execution::outstanding_work.tracked);
  } else {
    return ex;
  }
}

// The registry of the execution context behind `ex`; null for an executor
// with none (a future's).
template <typename Executor>
PendingRegistry* RegistryFor(const Executor& ex) {
  if constexpr (asio::can_query<const Executor&, asio::execution::context_t>::value) {
    return &asio::use_service<PendingRegistry>(asio::query(ex, asio::execution::context));
  } else {
    return nullptr;
  }
}

// One async_acquire(): the handler waiting for the pool's callback. The
// pool completes it from any thread; the handler always runs through a
// post() to its associated executor, never inside the pool's callback.
template <typename Lease, typename Handler>
class AcquireOp final : public PendingOp,
                        public std::enable_shared_from_this<AcquireOp<Lease, Handler>> {
 public:
  using Executor = asio::associated_executor_t<Handler, asio::system_executor>;
  using TrackedExecutor = decltype(TrackWork(std::declval<const Executor&>()));

  AcquireOp(Handler handler, PendingRegistry* registry)
      : registry_(registry),
        executor_(TrackWork(asio::get_associated_executor(handler, asio::system_executor()))),
        handler_(std::move(handler)) {}

  // Connects the handler's cancellation slot, if it has one, to the pool's
  // cancel(): a queued acquire then completes with kCancelled. Called on
  // the initiating thread, before the acquire starts.
  void ConnectCancellation() {
    auto slot = asio::get_associated_cancellation_slot(*handler_);
    if (!slot.is_connected()) return;
    std::weak_ptr<AcquireOp> weak = this->shared_from_this();
    slot.assign([weak](asio::cancellation_type type) {
      if (type == asio::cancellation_type::none) return;
      if (std::shared_ptr<AcquireOp> op = weak.lock()) op->Cancel();
    });
  }

  // The pool's handle, once acquire_async() returned; cancels at once if
  // the slot was emitted before.
  void SetPending(const PendingAcquire& pending) {
    bool cancel_now = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_ = pending;
      cancel_now = cancel_requested_ && !done_;
    }
    if (cancel_now) pending.cancel();
  }

  // The pool's callback.
  void Complete(absl::StatusOr<Lease> result) {
    std::unique_lock<std::mutex> lock(mu_);
    if (done_) return;  // abandoned: `result` (a lease) goes back to the pool
    done_ = true;
    Handler handler = std::move(*handler_);
    handler_.reset();
    // Posted while holding mu_: Abandon() (the context's shutdown) waits for
    // this, and the context destroys posted handlers it never ran, whose
    // lease then returns to the pool.
    asio::post(executor_, [handler = std::move(handler), result = std::move(result)]() mutable {
      asio::get_associated_cancellation_slot(handler).clear();
      std::move(handler)(std::move(result));
    });
    lock.unlock();
    if (registry_ != nullptr) registry_->Remove(this);
  }

  void Abandon() override {
    std::optional<Handler> handler;
    PendingAcquire pending;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (done_) return;
      done_ = true;
      handler.emplace(std::move(*handler_));
      handler_.reset();
      pending = pending_;
    }
    pending.cancel();  // its kCancelled completion is dropped by Complete()
    // `handler` (a coroutine frame, say) is destroyed here, unrun.
  }

 private:
  void Cancel() {
    PendingAcquire pending;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (done_) return;
      cancel_requested_ = true;  // SetPending() cancels if it comes later
      pending = pending_;
    }
    pending.cancel();
  }

  PendingRegistry* const registry_;
  const TrackedExecutor executor_;  // keeps the handler's context running meanwhile
  std::mutex mu_;
  std::optional<Handler> handler_;  // until completed or abandoned
  PendingAcquire pending_;
  bool cancel_requested_ = false;
  bool done_ = false;
};

template <typename Traits>
struct InitiateAcquire {
  template <typename Handler>
  void operator()(Handler&& handler, Pool<Traits> pool, AcquireOptions options) const {
    using Lease = typename Pool<Traits>::LeaseType;
    using Op = AcquireOp<Lease, std::decay_t<Handler>>;
    PendingRegistry* registry =
        RegistryFor(asio::get_associated_executor(handler, asio::system_executor()));
    auto op = std::make_shared<Op>(std::forward<Handler>(handler), registry);
    if (registry != nullptr && !registry->Add(op)) return;  // the context is shutting down
    op->ConnectCancellation();
    PendingAcquire pending = pool.acquire_async(
        [op](absl::StatusOr<Lease> result) { op->Complete(std::move(result)); }, options);
    op->SetPending(pending);
  }
};

}  // namespace asio_internal

// async_acquire()
//
// Pool::acquire() as an asynchronous operation with the completion
// signature void(absl::StatusOr<Lease>): the lease, or the status acquire()
// would return (kDeadlineExceeded, kUnavailable, kFailedPrecondition, ...),
// or kCancelled when the operation's cancellation slot is emitted (any
// cancellation type) while it still waits. It never blocks the calling
// thread and holds no thread while it waits. The handler runs on its
// associated executor (for a plain callback without one: the system
// executor), always through asio::post, never inside async_acquire();
// until then the operation counts as outstanding work of that executor.
// When the handler's execution context (an io_context) is destroyed with
// the operation pending, the handler is destroyed without running and any
// connection the pool hands over afterwards goes back to the pool.
template <typename Traits, typename CompletionToken>
auto async_acquire(const Pool<Traits>& pool, const AcquireOptions& options,
                   CompletionToken&& token) {
  return asio::async_initiate<CompletionToken,
                              void(absl::StatusOr<typename Pool<Traits>::LeaseType>)>(
      asio_internal::InitiateAcquire<Traits>{}, token, pool, options);
}
//
// With the pool's defaults (role kPrimary, its acquire_timeout).
template <typename Traits, typename CompletionToken>
auto async_acquire(const Pool<Traits>& pool, CompletionToken&& token) {
  return async_acquire(pool, AcquireOptions(), std::forward<CompletionToken>(token));
}

}  // namespace dbpool

#endif  // DBPOOL_ASIO_H_
