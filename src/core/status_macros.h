// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The project's one status-propagation macro (Abseil 20220623 has none).
#ifndef DBPOOL_CORE_STATUS_MACROS_H_
#define DBPOOL_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"

// Returns from the enclosing function when `expr` (an absl::Status) fails.
#define DBPOOL_RETURN_IF_ERROR(expr)                                  \
  do {                                                                \
    if (absl::Status dbpool_status_ = (expr); !dbpool_status_.ok()) { \
      return dbpool_status_;                                          \
    }                                                                 \
  } while (false)

#endif  // DBPOOL_CORE_STATUS_MACROS_H_
