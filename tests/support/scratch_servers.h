// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Servers of a test's own, for tests that change the topology (promote a
// replica, stop a primary): started with scripts/servers.sh in a fresh
// directory, stopped when the object goes, so other tests keep theirs.
#ifndef DBPOOL_TESTS_SUPPORT_SCRATCH_SERVERS_H_
#define DBPOOL_TESTS_SUPPORT_SCRATCH_SERVERS_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dbpool {
namespace testing {

class ScratchServers {
 public:
  // Starts the servers named in `which` ("pg replica", "mysql", ...); aborts
  // the test run if they cannot start.
  explicit ScratchServers(absl::string_view which);
  ~ScratchServers();
  ScratchServers(const ScratchServers&) = delete;
  ScratchServers& operator=(const ScratchServers&) = delete;

  // A DBPOOL_TEST_* value of these servers (from their env file).
  std::string Get(const std::string& name) const;
  int Port(const std::string& name) const;

  // Runs `scripts/servers.sh <command> <dir>` on these servers.
  absl::Status Ctl(absl::string_view command) const;

 private:
  std::string script_;
  std::string dir_;
  std::map<std::string, std::string> env_;
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_SCRATCH_SERVERS_H_
