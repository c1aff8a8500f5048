// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Memory exhaustion in the pool's own allocations leaves the pool whole: a
// std::bad_alloc may reach the caller, but no slot is stranded in a state
// that nothing leaves, and no Closing is destroyed under the core's lock
// (its destructor takes that lock: a self-deadlock).
//
// How allocations fail: this binary replaces the global operator new (an
// executable's definition replaces the library's for the whole process).
// While a thread holds a FailAllocations, every operator new it calls throws
// std::bad_alloc; other threads allocate as usual.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "await.h"
#include "dbpool/events.h"
#include "fake_driver.h"

namespace {

thread_local bool t_fail_allocations = false;

void* Allocate(std::size_t size) {
  if (t_fail_allocations) throw std::bad_alloc();
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

}  // namespace

// Every form but the aligned ones (which the library pairs among
// themselves), so that each allocation is a malloc() freed by free(), as a
// sanitizer that watches the pairing expects.
void* operator new(std::size_t size) { return Allocate(size); }
void* operator new[](std::size_t size) { return Allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t& /*tag*/) noexcept {
  try {
    return Allocate(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t /*size*/) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t /*size*/) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t& /*tag*/) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t& /*tag*/) noexcept { std::free(p); }

namespace dbpool {
namespace {

using testing::Await;
using testing::FakeConn;
using testing::FakePool;
using testing::FakeServer;

// Every operator new on this thread throws while one lives.
class FailAllocations {
 public:
  FailAllocations() { t_fail_allocations = true; }
  ~FailAllocations() { t_fail_allocations = false; }
  FailAllocations(const FailAllocations&) = delete;
  FailAllocations& operator=(const FailAllocations&) = delete;
};

// Counts on_close events without allocating (it runs on the thread whose
// allocations fail).
class CloseCounter : public PoolListener {
 public:
  void on_close(const CloseEvent& /*event*/) override { closes.fetch_add(1); }
  std::atomic<int> closes{0};
};

// Runs `call` on a thread of its own whose allocations fail. A call that
// does not return within 10 s has deadlocked (it cannot be joined, and the
// pool it holds cannot be destroyed): the binary exits with a failure.
template <typename Call>
void RunWhileAllocationsFail(Call call, const char* what) {
  std::atomic<bool> returned{false};
  std::thread caller([&] {
    {
      FailAllocations fail;
      try {
        call();
      } catch (const std::bad_alloc&) {
        // Allowed: the pool's own allocation failed, and it said so.
      }
    }
    returned = true;
  });
  if (!Await([&] { return returned.load(); }, absl::Seconds(10))) {
    std::fprintf(stderr, "FAILED: %s deadlocked while allocations failed\n", what);
    std::_Exit(EXIT_FAILURE);
  }
  caller.join();
}

// The pool is whole: every connection it counts is open at the server,
// nothing is stuck closing or restoring, and it serves and closes.
void CheckWhole(FakePool& pool, FakeServer& server) {
  const PoolStats s = pool.stats();
  CHECK(s.maintenance == 0);
  CHECK(s.total == server.open_connections());
  for (int i = 0; i < s.max_size; ++i) {  // every slot can be had again
    auto lease = pool.acquire();
    REQUIRE(lease.ok());
    lease->discard();
  }
  pool.close();
  CHECK(server.open_connections() == 0);
}

TEST_CASE("evict() that cannot allocate destroys no Closing under the lock", "[alloc]") {
  auto server = FakeServer::Create();
  // Without a listener the first allocation after a claim is the list of
  // connections to close; with one, the record of the close for it.
  std::shared_ptr<CloseCounter> counter;
  SECTION("without a listener") {}
  SECTION("with a listener") { counter = std::make_shared<CloseCounter>(); }
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(2).listener(counter).build();
  REQUIRE(pool.ok());
  {
    auto a = pool->acquire();
    auto b = pool->acquire();
    REQUIRE(a.ok());
    REQUIRE(b.ok());
  }
  REQUIRE(pool->stats().idle == 2);
  RunWhileAllocationsFail([&] { pool->evict(); }, "evict()");
  if (counter != nullptr) {
    CHECK(counter->closes.load() == static_cast<int>(pool->stats().closed_evicted));
  }
  CheckWhole(*pool, *server);
}

TEST_CASE("a discard that cannot allocate leaves no slot closing for ever", "[alloc]") {
  auto server = FakeServer::Create();
  auto counter = std::make_shared<CloseCounter>();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(1).listener(counter).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  RunWhileAllocationsFail([&] { lease->discard(); }, "discard()");
  CHECK(counter->closes.load() == 1);
  CheckWhole(*pool, *server);
}

TEST_CASE("a return that needs a rollback and cannot allocate leaves no slot restoring for ever",
          "[alloc]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(1).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  FakeConn* conn = lease->native();
  conn->in_transaction = true;  // its return queues a rollback
  RunWhileAllocationsFail([&] { lease->release(); }, "release()");
  CHECK(Await([&] { return conn->rollbacks.load() == 1 && pool->stats().idle == 1; }));
  CheckWhole(*pool, *server);
}

}  // namespace
}  // namespace dbpool
