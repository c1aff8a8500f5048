// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Access to the throwaway servers that scripts/servers.sh starts for the
// integration tests: their addresses (DBPOOL_TEST_* environment variables)
// and control commands (restart, stop, ...).
#ifndef DBPOOL_TESTS_SUPPORT_TEST_SERVERS_H_
#define DBPOOL_TESTS_SUPPORT_TEST_SERVERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dbpool {
namespace testing {

// The value of environment variable `name`; aborts the test run with a
// message naming scripts/test.sh when it is unset (integration tests never
// pass silently without their servers).
std::string RequireEnv(const char* name);

// The value of `name` as a port number (aborts like RequireEnv).
int RequirePort(const char* name);

// Runs `scripts/servers.sh <command> <dir>` for the running servers and
// waits for it, e.g. ServersCtl("pg-restart").
absl::Status ServersCtl(absl::string_view command);

// A loopback port on which nothing listens (bound, then released).
int ClosedPort();

// A loopback TCP listener that completes handshakes (the kernel does) but
// never reads or answers: a blackholed server.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A unique tag for one test's connections (used as application_name), so a
// test can count its own server connections.
std::string UniqueTag(absl::string_view prefix);

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_TEST_SERVERS_H_
