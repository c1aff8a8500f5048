// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Claim(): taking a slot out of kIdle, the one way any thread does (every
// exit from kIdle is this compare-and-swap, so no slot is handed out twice).
#ifndef DBPOOL_CORE_CLAIM_H_
#define DBPOOL_CORE_CLAIM_H_

#include <atomic>

#include "core/handshake.h"
#include "core/slot.h"

namespace dbpool {
namespace internal {

// How Claim() pre-checks a slot before its compare-and-swap.
enum class Scan {
  kFast,       // the lock-free fast path: relaxed, a miss only means the slow path
  kHandshake,  // after an Announce(): SeenIdle(), see core/handshake.h
};

inline bool Claim(Slot& slot, SlotState to, Scan scan = Scan::kHandshake) {
  SlotState expected = SlotState::kIdle;
  const bool idle = scan == Scan::kFast
                        ? slot.state.load(std::memory_order_relaxed) == SlotState::kIdle
                        : SeenIdle(slot);
  return idle && slot.state.compare_exchange_strong(expected, to, std::memory_order_acquire,
                                                    std::memory_order_relaxed);
}

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_CLAIM_H_
