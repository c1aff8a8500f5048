// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "dbpool/stats.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace dbpool {

std::string ToString(const PoolStats& s) {
  std::string out = absl::StrCat(
      "total=", s.total, " idle=", s.idle, " in_use=", s.in_use, " connecting=", s.connecting,
      " waiting=", s.waiting, " max_size=", s.max_size, " acquired=", s.acquired,
      " created=", s.created, " connect_failures=", s.connect_failures, " timeouts=", s.timeouts);
  absl::StrAppend(
      &out, "; last connect error: ", s.last_connect_error.empty() ? "none" : s.last_connect_error);
  return out;
}

}  // namespace dbpool
