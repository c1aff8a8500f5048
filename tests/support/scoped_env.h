// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// ScopedEnv: an environment variable set (or unset) for a test's scope.
#ifndef DBPOOL_TESTS_SUPPORT_SCOPED_ENV_H_
#define DBPOOL_TESTS_SUPPORT_SCOPED_ENV_H_

#include <cstdlib>
#include <optional>
#include <string>

namespace dbpool {
namespace testing {

// Sets `name` to `value` (unsets it for nullptr) until the end of the
// scope, then restores what was there. Not thread-safe, like setenv().
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_.has_value()) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_SCOPED_ENV_H_
