// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/lease.h
//
// Lease<Traits>: exclusive use of one pooled connection.
#ifndef DBPOOL_LEASE_H_
#define DBPOOL_LEASE_H_

#include <utility>

#include "dbpool/internal/basic_pool.h"

namespace dbpool {

template <typename Traits>
class Pool;

// Lease
//
// Move-only. While a Lease is valid its connection belongs to the holder
// alone; destroying it (or release()) returns the connection to the pool,
// which rolls back any open transaction and applies the reset policy. A
// Lease may outlive every Pool handle: its connection is then closed on
// return. A Lease is used by one thread at a time.
template <typename Traits>
class Lease {
 public:
  using Native = typename Traits::Native;

  // An empty lease (valid() is false).
  Lease() = default;
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&&) noexcept = default;

  // native()
  //
  // The driver's handle (PGconn*, MYSQL*). Do not close it, and do not use it
  // after release() or discard(). Null when the lease is empty.
  Native* native() const { return static_cast<Native*>(base_.native_handle()); }

  // release()
  //
  // Returns the connection to the pool now. The lease becomes empty; calling
  // it again does nothing.
  void release() { base_.release(); }

  // discard()
  //
  // Closes the connection instead of returning it (the application knows it
  // is broken or its session is unusable). The pool opens a replacement in
  // the background as demand requires. The lease becomes empty.
  void discard() { base_.discard(); }

  // valid()
  //
  // Whether the lease still holds a connection.
  bool valid() const { return base_.valid(); }
  explicit operator bool() const { return valid(); }

  // broken()
  //
  // Whether the driver sees the connection as lost (no I/O).
  bool broken() const { return base_.broken(); }

  // endpoint()
  //
  // The endpoint this connection was opened to. Requires valid().
  const Endpoint& endpoint() const { return base_.endpoint(); }

 private:
  friend class Pool<Traits>;
  explicit Lease(internal::BasicLease base) : base_(std::move(base)) {}

  internal::BasicLease base_;
};

}  // namespace dbpool

#endif  // DBPOOL_LEASE_H_
