// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Calling into the application's code (listener callbacks, the log sink,
// the credentials provider) so that nothing it throws reaches the pool.
#ifndef DBPOOL_CORE_USER_CODE_H_
#define DBPOOL_CORE_USER_CODE_H_

#include <memory>
#include <utility>

#include "dbpool/events.h"

namespace dbpool {
namespace internal {

// Runs `fn`, user code, and swallows any exception it throws, so that none
// escapes into a pool thread (which would call std::terminate) or unwinds
// through the pool's bookkeeping (which would leak a slot). Returns whether
// `fn` returned normally.
template <typename Fn>
bool CallUserCode(Fn&& fn) noexcept {
  try {
    std::forward<Fn>(fn)();
    return true;
  } catch (...) {
    return false;
  }
}

// A listener that forwards every event to `inner` through CallUserCode():
// an exception thrown by a callback drops that one event. The pool only
// ever calls its listener through one of these.
class GuardedListener final : public PoolListener {
 public:
  explicit GuardedListener(std::shared_ptr<PoolListener> inner) : inner_(std::move(inner)) {}
  void on_connect(const ConnectEvent& e) override {
    CallUserCode([&] { inner_->on_connect(e); });
  }
  void on_acquire(const AcquireEvent& e) override {
    CallUserCode([&] { inner_->on_acquire(e); });
  }
  void on_release(const ReleaseEvent& e) override {
    CallUserCode([&] { inner_->on_release(e); });
  }
  void on_close(const CloseEvent& e) override {
    CallUserCode([&] { inner_->on_close(e); });
  }
  void on_failover(const FailoverEvent& e) override {
    CallUserCode([&] { inner_->on_failover(e); });
  }
  void on_leak(const LeakEvent& e) override {
    CallUserCode([&] { inner_->on_leak(e); });
  }

 private:
  const std::shared_ptr<PoolListener> inner_;
};

// `listener` behind a GuardedListener; null stays null.
inline std::shared_ptr<PoolListener> GuardListener(std::shared_ptr<PoolListener> listener) {
  if (listener == nullptr) return nullptr;
  return std::make_shared<GuardedListener>(std::move(listener));
}

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_USER_CODE_H_
