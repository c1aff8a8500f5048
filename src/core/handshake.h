// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The one memory-ordering argument of the pool core, in one place: the
// store-buffering ("Dekker") handshake between the lock-free release path
// and the slow path, which keeps a returned connection from sitting idle
// beside a sleeping waiter, and from surviving close().
//
//   releaser (ReturnIdle, no lock):    PublishIdle(slot)   then  HandOffNeeded(waiting_, closed_)
//   waiter (WaitForSlot, under mu_):   Announce(waiting_)  then  scan with SeenIdle(slot)
//   Close() (under mu_):               Announce(closed_)   then  scan with SeenIdle(slot)
//
// Each side stores its own variable and then loads the other side's, and
// all four accesses are sequentially consistent, so in every execution at
// least one side sees the other's store: either the releaser sees the
// waiter (or the close) and serves it under mu_, or the scan sees kIdle and
// claims the slot. With a weaker load on either side (relaxed, or acquire)
// both may miss: the outcome r1 == 0 && r2 == kInUse of
//   R: store(state, kIdle); r1 = load(waiting)   W: store(waiting, 1); r2 = load(state)
// is allowed by the C++ model and observable on POWER and on AArch64 with
// LDAPR. On x86-64 a seq_cst load is a plain load, so this costs nothing
// there. The lock-free fast path's own pre-check (TryClaimIdle with
// waiting_ == 0) needs no such order: a miss there only sends the caller to
// the slow path, which announces and scans again.
#ifndef DBPOOL_CORE_HANDSHAKE_H_
#define DBPOOL_CORE_HANDSHAKE_H_

#include <atomic>

#include "core/slot.h"

namespace dbpool {
namespace internal {

// Releaser side, first: the slot is idle (publishes its fields too).
inline void PublishIdle(Slot& slot) {
  slot.state.store(SlotState::kIdle, std::memory_order_seq_cst);
}

// Releaser side, second: whether someone waits or the pool closed, so that
// the returned slot must be served or closed under the mutex.
inline bool HandOffNeeded(const std::atomic<int>& waiting, const std::atomic<bool>& closed) {
  return waiting.load(std::memory_order_seq_cst) != 0 || closed.load(std::memory_order_seq_cst);
}

// Scanner side, first: a waiter count or the closed flag.
template <typename T>
void Announce(std::atomic<T>& flag, T value) {
  flag.store(value, std::memory_order_seq_cst);
}

// Scanner side, second: whether a slot is idle, read for the scan that
// follows an Announce().
inline bool SeenIdle(const Slot& slot) {
  return slot.state.load(std::memory_order_seq_cst) == SlotState::kIdle;
}

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_HANDSHAKE_H_
