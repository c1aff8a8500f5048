// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PublishedRoutes: the cluster's routing decision, readable without its
// mutex, so that an acquire on a failover pool whose route is known takes
// no lock and reads no clock (Cluster::Acquire's fast path).
//
//   writer (under Cluster::mu_, after every change of the EndpointTable
//           and at close):   Publish(table, closed)  -> PublishRoute() per role
//   reader (no lock):        Read(role)              -> ReadRoute()
//
// The one memory-ordering argument, in the helper pair below: a route is a
// single atomic word per role holding 1 + the chosen endpoint's index, or 0
// for "not known: take the locked path" (no endpoint serves the role, or
// the pool is closed). The word is all a reader uses, and the endpoints it
// indexes (Cluster::cores_) never change after construction, so a reader
// needs no other data from the writer: a release store and an acquire load
// suffice (plain moves on x86-64), and a stale route is harmless. A reader
// that loaded a route just before a change acts as an acquire that picked
// the same endpoint under the mutex just before the change would: it tries
// that endpoint's core without waiting (PoolCore::TryAcquire), and when the
// core has no idle connection, is closed or has waiters, it takes the
// locked path, which routes again from the table itself.
#ifndef DBPOOL_FAILOVER_ROUTE_H_
#define DBPOOL_FAILOVER_ROUTE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "dbpool/role.h"
#include "failover/endpoint_table.h"

namespace dbpool {
namespace internal {

// Writer side: `route` now says `endpoint` (nullopt: not known).
inline void PublishRoute(std::atomic<uint32_t>& route, std::optional<size_t> endpoint) {
  route.store(endpoint.has_value() ? static_cast<uint32_t>(*endpoint) + 1 : 0,
              std::memory_order_release);
}

// Reader side: the endpoint `route` says, or nullopt (take the locked path).
inline std::optional<size_t> ReadRoute(const std::atomic<uint32_t>& route) {
  const uint32_t v = route.load(std::memory_order_acquire);
  if (v == 0) return std::nullopt;
  return static_cast<size_t>(v - 1);
}

class PublishedRoutes {
 public:
  // Publishes table.Pick() for every role; nothing when `closed`. Call
  // with the lock that guards `table` held, after every change to it.
  void Publish(const EndpointTable& table, bool closed) {
    for (Role role : {Role::kPrimary, Role::kReplica, Role::kAny}) {
      PublishRoute(routes_[Index(role)], closed ? std::nullopt : table.Pick(role));
    }
  }

  // The endpoint last published for `role`, or nullopt. No lock needed.
  std::optional<size_t> Read(Role role) const { return ReadRoute(routes_[Index(role)]); }

 private:
  static size_t Index(Role role) {
    switch (role) {
      case Role::kPrimary:
        return 0;
      case Role::kReplica:
        return 1;
      case Role::kAny:
        return 2;
    }
    return 0;
  }

  std::atomic<uint32_t> routes_[3] = {};  // per Index(role); 0 until published
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_FAILOVER_ROUTE_H_
