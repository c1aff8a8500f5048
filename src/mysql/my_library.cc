// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// mysql_library_init() once per process, mysql_thread_init() once per thread.
#include "mysql/my_library.h"

#include <mysql.h>

#include <mutex>

namespace dbpool {
namespace mysql_internal {
namespace {

// Pairs mysql_thread_init() with mysql_thread_end() at thread exit.
class ThreadScope {
 public:
  ThreadScope() { mysql_thread_init(); }
  ~ThreadScope() { mysql_thread_end(); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;
};

}  // namespace

absl::Status EnsureLibraryInit() {
  static std::once_flag once;
  static int result = 0;
  std::call_once(once, [] { result = mysql_library_init(0, nullptr, nullptr); });
  if (result != 0) {
    return absl::InternalError(
        "dbpool: mysql_library_init() failed; the MySQL client library "
        "cannot be used");
  }
  return absl::OkStatus();
}

void EnsureThreadInit() {
  // mysql_thread_init() before mysql_library_init() would initialize the
  // library without the process-wide lock; make sure it ran first.
  (void)EnsureLibraryInit();
  thread_local ThreadScope scope;
  (void)scope;
}

}  // namespace mysql_internal
}  // namespace dbpool
