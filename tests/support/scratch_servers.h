// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Servers of a test's own, for tests that change the topology (promote a
// replica, stop a primary): started with scripts/servers.sh in a fresh
// directory, stopped when the object goes, so other tests keep theirs.
#ifndef DBPOOL_TESTS_SUPPORT_SCRATCH_SERVERS_H_
#define DBPOOL_TESTS_SUPPORT_SCRATCH_SERVERS_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dbpool {
namespace testing {

class ScratchServers {
 public:
  // Starts the servers named in `which` ("pg replica", "mysql", ...); aborts
  // the test run if they cannot start.
  explicit ScratchServers(absl::string_view which);
  // The same with another control script of the same conventions (`start
  // DIR` writing DIR/env, `stop DIR`), e.g. "bash .../scripts/patroni.sh".
  ScratchServers(std::string script, absl::string_view which);
  ~ScratchServers();
  ScratchServers(const ScratchServers&) = delete;
  ScratchServers& operator=(const ScratchServers&) = delete;

  // A DBPOOL_TEST_* value of these servers (from their env file).
  std::string Get(const std::string& name) const;
  int Port(const std::string& name) const;

  // Runs `scripts/servers.sh <command> <dir>` on these servers.
  absl::Status Ctl(absl::string_view command) const;

  // The control script ("bash /path/to/servers.sh") and the directory.
  const std::string& script() const { return script_; }
  const std::string& dir() const { return dir_; }

  // Every DBPOOL_TEST_* value of these servers, by name.
  const std::map<std::string, std::string>& env() const { return env_; }

 private:
  std::string script_;
  std::string dir_;
  std::map<std::string, std::string> env_;
};

// ScratchServers that the DBPOOL_TEST_* environment variables point at while
// they run, so that code reading the variables (the integration harnesses'
// Builder(), Admin and RestartServer(), ServersCtl()) uses them; the previous
// values come back before they stop. Create and destroy them while no other
// thread reads the environment (before a test's pools, after them).
class DefaultScratchServers : public ScratchServers {
 public:
  explicit DefaultScratchServers(absl::string_view which);
  ~DefaultScratchServers();

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_SCRATCH_SERVERS_H_
