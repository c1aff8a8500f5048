// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// WaitQueue: the intrusive FIFO of waiting acquire() calls.
#include "core/wait_queue.h"

#include <catch2/catch.hpp>
#include <vector>

namespace dbpool {
namespace internal {
namespace {

// Pops everything, returning the waiters in the order they came out.
std::vector<Waiter*> Drain(WaitQueue& q) {
  std::vector<Waiter*> out;
  while (Waiter* w = q.pop_front()) out.push_back(w);
  return out;
}

TEST_CASE("an empty wait queue pops null and has size 0", "[wait_queue]") {
  WaitQueue q;
  CHECK(q.empty());
  CHECK(q.size() == 0);
  CHECK(q.pop_front() == nullptr);
  CHECK(q.empty());
  CHECK(q.size() == 0);
}

TEST_CASE("a waiter pushed to the front is popped before every other", "[wait_queue]") {
  WaitQueue q;
  Waiter a, b, c;
  q.push_front(&a);  // into an empty queue
  q.push_back(&b);
  q.push_front(&c);
  CHECK(q.size() == 3);
  CHECK(Drain(q) == std::vector<Waiter*>{&c, &a, &b});
  CHECK(q.empty());
  q.push_front(&a);
  q.remove(&a);
  CHECK(q.empty());
  q.push_back(&b);  // head and tail were reset by the remove
  CHECK(Drain(q) == std::vector<Waiter*>{&b});
}

TEST_CASE("the wait queue pops waiters in the order they were pushed", "[wait_queue]") {
  WaitQueue q;
  Waiter a, b, c;
  q.push_back(&a);
  q.push_back(&b);
  q.push_back(&c);
  CHECK_FALSE(q.empty());
  CHECK(q.size() == 3);
  CHECK(q.pop_front() == &a);
  CHECK(q.size() == 2);
  CHECK(q.pop_front() == &b);
  CHECK(q.pop_front() == &c);
  CHECK(q.empty());
  CHECK(q.size() == 0);
  CHECK(q.pop_front() == nullptr);
}

TEST_CASE("removing a waiter from the middle keeps the others in order", "[wait_queue]") {
  WaitQueue q;
  Waiter a, b, c;
  q.push_back(&a);
  q.push_back(&b);
  q.push_back(&c);
  q.remove(&b);
  CHECK(q.size() == 2);
  CHECK(b.prev == nullptr);
  CHECK(b.next == nullptr);
  CHECK(Drain(q) == std::vector<Waiter*>{&a, &c});
}

TEST_CASE("removing the head makes the next waiter the oldest", "[wait_queue]") {
  WaitQueue q;
  Waiter a, b, c;
  q.push_back(&a);
  q.push_back(&b);
  q.push_back(&c);
  q.remove(&a);
  CHECK(q.size() == 2);
  CHECK(q.pop_front() == &b);
  CHECK(q.pop_front() == &c);
  CHECK(q.empty());
}

TEST_CASE("removing the tail lets later pushes append after the new tail", "[wait_queue]") {
  WaitQueue q;
  Waiter a, b, c, d;
  q.push_back(&a);
  q.push_back(&b);
  q.push_back(&c);
  q.remove(&c);
  CHECK(q.size() == 2);
  q.push_back(&d);
  CHECK(q.size() == 3);
  CHECK(Drain(q) == std::vector<Waiter*>{&a, &b, &d});
}

TEST_CASE("removing the only waiter empties the queue and it can be reused", "[wait_queue]") {
  WaitQueue q;
  Waiter a, b;
  q.push_back(&a);
  q.remove(&a);
  CHECK(q.empty());
  CHECK(q.size() == 0);
  CHECK(q.pop_front() == nullptr);
  q.push_back(&b);
  q.push_back(&a);
  CHECK(Drain(q) == std::vector<Waiter*>{&b, &a});
}

TEST_CASE("a waiter that timed out can be removed while others keep arriving", "[wait_queue]") {
  // The pattern of Acquire(): push, some time out (remove), the rest are
  // served from the front.
  WaitQueue q;
  std::vector<Waiter> waiters(8);
  for (Waiter& w : waiters) q.push_back(&w);
  q.remove(&waiters[0]);  // head
  q.remove(&waiters[7]);  // tail
  q.remove(&waiters[3]);  // middle
  CHECK(q.size() == 5);
  CHECK(q.pop_front() == &waiters[1]);
  Waiter late;
  q.push_back(&late);
  CHECK(Drain(q) ==
        std::vector<Waiter*>{&waiters[2], &waiters[4], &waiters[5], &waiters[6], &late});
}

}  // namespace
}  // namespace internal
}  // namespace dbpool
