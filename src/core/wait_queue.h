// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// WaitQueue: the FIFO of acquire() calls waiting for a connection.
#ifndef DBPOOL_CORE_WAIT_QUEUE_H_
#define DBPOOL_CORE_WAIT_QUEUE_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace dbpool {
namespace internal {

struct Slot;
struct AsyncWaiter;

// One waiting acquire() call. Lives on the waiting thread's stack (or, for
// acquire_async(), in its AsyncWaiter); linked into the queue without
// allocating. All fields are guarded by the pool core's mutex.
struct Waiter {
  absl::CondVar cv;              // a blocking acquire sleeps on it
  AsyncWaiter* async = nullptr;  // or this is an acquire_async() call's
  bool done = false;             // set when a slot or an error was handed over
  Slot* slot = nullptr;          // the connection handed over, if any
  absl::Status error;            // or why the wait ended early
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
};

// An intrusive doubly linked FIFO: push_back, push_front, pop_front and
// remove are O(1).
// Not thread-safe: the pool core's mutex guards it.
class WaitQueue {
 public:
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }

  void push_back(Waiter* w) {
    w->prev = tail_;
    w->next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = w;
    } else {
      head_ = w;
    }
    tail_ = w;
    ++size_;
  }

  // Links `w` first, ahead of every waiter.
  void push_front(Waiter* w) {
    w->prev = nullptr;
    w->next = head_;
    if (head_ != nullptr) {
      head_->prev = w;
    } else {
      tail_ = w;
    }
    head_ = w;
    ++size_;
  }

  // The oldest waiter, unlinked; null when empty.
  Waiter* pop_front() {
    Waiter* w = head_;
    if (w != nullptr) remove(w);
    return w;
  }

  // Unlinks `w`, which must be in this queue.
  void remove(Waiter* w) {
    if (w->prev != nullptr) {
      w->prev->next = w->next;
    } else {
      head_ = w->next;
    }
    if (w->next != nullptr) {
      w->next->prev = w->prev;
    } else {
      tail_ = w->prev;
    }
    w->prev = w->next = nullptr;
    --size_;
  }

 private:
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_WAIT_QUEUE_H_
