// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Slot: one place for a server connection in a pool core. A core has
// max_size slots, allocated once; connections come and go, slots stay.
#ifndef DBPOOL_CORE_SLOT_H_
#define DBPOOL_CORE_SLOT_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "dbpool/driver.h"

namespace dbpool {
namespace internal {

// Who may touch a slot's connection:
//   kEmpty       no connection; only the core, under its mutex, claims it
//   kIdle        open and free: whoever wins a compare-and-swap out of it
//                owns it (the lock-free fast path)
//   kInUse       owned by a lease (the core's mutex may call interrupt())
// and the core's own states, each with one owner:
//   kConnecting  an opener: the connection is being opened (init_sql too)
//   kChecking    the housekeeper: a keepalive ping, or a last look before
//                it closes the connection or puts it back
//   kRestoring   the resetters: queued for, or under, a rollback or reset
//   kClosing     a Closing: the connection is being closed outside the
//                core's mutex; kEmpty after
// A state changes under the core's mutex, except kIdle <-> kInUse (the fast
// path) and the claims out of kIdle; so counts taken under the mutex are
// exact for every state but those two.
enum class SlotState : int {
  kEmpty,
  kIdle,
  kInUse,
  kConnecting,
  kChecking,
  kRestoring,
  kClosing,
};
inline constexpr int kSlotStates = 7;

struct Slot {
  std::atomic<SlotState> state{SlotState::kEmpty};
  // The fields below belong to the slot's owner; a store of kIdle publishes
  // them (release) to the next claimer (acquire).
  std::unique_ptr<DriverConnection> conn;
  int64_t created = 0;            // MonoNanos()
  int64_t expires = INT64_MAX;    // max_lifetime minus jitter
  uint64_t evict_generation = 0;  // the core's evict generation when it began connecting
  // Hand-out time (FineNanos(), 0 while not leased) and place, kept only
  // for a listener, histograms or leak detection; atomic because the
  // housekeeper reads them while the slot is leased.
  std::atomic<int64_t> leased_at{0};
  std::atomic<const char*> leased_file{nullptr};
  std::atomic<int> leased_line{0};
  std::atomic<bool> leak_reported{false};
  // Set by PoolCore::InterruptLeased() before it shuts the connection down;
  // cleared at hand-out. Whatever the lease had in flight then has an
  // unknown outcome (with_retry() and with_transaction() read it). Still
  // set when the slot is claimed from idle, it means the connection was
  // shut down after its return found it usable: it is closed, not handed
  // out (PoolCore::CheckForHandout).
  std::atomic<bool> interrupted{false};
  // Read by the housekeeper while the slot is idle, hence atomic.
  std::atomic<int64_t> last_used{0};     // last return by a lease (idle_timeout)
  std::atomic<int64_t> last_checked{0};  // last proof of life: return or ping
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_SLOT_H_
