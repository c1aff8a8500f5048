// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/log.h
//
// A log sink: one line per noteworthy pool event, for applications that
// want text rather than PoolListener callbacks. Quiet unless set.
#ifndef DBPOOL_LOG_H_
#define DBPOOL_LOG_H_

#include <functional>

#include "absl/strings/string_view.h"

namespace dbpool {

enum class LogLevel {
  kDebug,    // every acquire and release (verbose)
  kInfo,     // connections opened and closed
  kWarning,  // failed connects, failovers, leaks, dead connections found
  kError,    // (reserved)
};

// "debug", "info", "warning" or "error".
const char* LogLevelName(LogLevel level);

// Receives each line at or above the builder's level. Called from pool and
// caller threads, never under the pool's locks; must be thread-safe. Lines
// never hold a secret. An exception it throws is caught and the line lost.
using LogSink = std::function<void(LogLevel level, absl::string_view line)>;

}  // namespace dbpool

#endif  // DBPOOL_LOG_H_
