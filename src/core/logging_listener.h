// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The log sink as a PoolListener: events become lines, and reach the user's
// own listener too.
#ifndef DBPOOL_CORE_LOGGING_LISTENER_H_
#define DBPOOL_CORE_LOGGING_LISTENER_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "dbpool/events.h"
#include "dbpool/log.h"

namespace dbpool {
namespace internal {

// A listener that writes each event at or above `level` to `sink` (prefixed
// "dbpool[<pool>]: ") and then forwards it to `next` (may be null).
std::shared_ptr<PoolListener> MakeLoggingListener(absl::string_view pool_name, LogSink sink,
                                                  LogLevel level,
                                                  std::shared_ptr<PoolListener> next);

}  // namespace internal
}  // namespace dbpool

#endif  // DBPOOL_CORE_LOGGING_LISTENER_H_
