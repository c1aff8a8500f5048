// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Process- and thread-level set-up of the client library.
#ifndef DBPOOL_MYSQL_MY_LIBRARY_H_
#define DBPOOL_MYSQL_MY_LIBRARY_H_

#include "absl/status/status.h"

namespace dbpool {
namespace mysql_internal {

// Calls mysql_library_init() once per process (thread-safe); later calls
// return the first outcome. kInternal when the library failed to start.
// The library is never ended: other code in the process may still use it.
absl::Status EnsureLibraryInit();

// Calls mysql_thread_init() once for the calling thread; a thread_local
// guard calls mysql_thread_end() when the thread exits. Cheap after the
// first call; every entry point that calls the client library touches it.
void EnsureThreadInit();

}  // namespace mysql_internal
}  // namespace dbpool

#endif  // DBPOOL_MYSQL_MY_LIBRARY_H_
