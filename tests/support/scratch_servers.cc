// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "scratch_servers.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {

ScratchServers::ScratchServers(absl::string_view which)
    : ScratchServers(RequireEnv("DBPOOL_TEST_SERVERS_CTL"), which) {}

ScratchServers::ScratchServers(std::string script, absl::string_view which)
    : script_(std::move(script)) {  // "bash /path/to/servers.sh"
  char dir_template[] = "/tmp/dbpool-scratch-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  dir_ = dir_template;
  const std::string line =
      absl::StrCat("DBPOOL_SERVERS='", which, "' ", script_, " start ", dir_, " >&2");
  if (std::system(line.c_str()) != 0) {
    std::fprintf(stderr, "could not start scratch servers: %s\n", line.c_str());
    std::abort();
  }
  std::ifstream in(dir_ + "/env");
  std::string text;
  while (std::getline(in, text)) {
    absl::string_view l = text;
    if (!absl::ConsumePrefix(&l, "export ")) continue;
    const size_t eq = l.find('=');
    if (eq == absl::string_view::npos) continue;
    std::string value(l.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
      value = value.substr(1, value.size() - 2);
    }
    env_[std::string(l.substr(0, eq))] = value;
  }
}

ScratchServers::~ScratchServers() {
  const std::string line = absl::StrCat(script_, " stop ", dir_, " >&2");
  if (std::system(line.c_str()) != 0) std::fprintf(stderr, "failed: %s\n", line.c_str());
}

std::string ScratchServers::Get(const std::string& name) const {
  auto it = env_.find(name);
  if (it == env_.end()) {
    std::fprintf(stderr, "scratch servers have no %s\n", name.c_str());
    std::abort();
  }
  return it->second;
}

int ScratchServers::Port(const std::string& name) const {
  int port = 0;
  if (!absl::SimpleAtoi(Get(name), &port)) std::abort();
  return port;
}

absl::Status ScratchServers::Ctl(absl::string_view command) const {
  const std::string line = absl::StrCat(script_, " ", command, " ", dir_, " >&2");
  const int rc = std::system(line.c_str());
  if (rc != 0) return absl::InternalError(absl::StrCat("'", line, "' exited with ", rc));
  return absl::OkStatus();
}

DefaultScratchServers::DefaultScratchServers(absl::string_view which) : ScratchServers(which) {
  for (const auto& [name, value] : env()) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
    setenv(name.c_str(), value.c_str(), /*overwrite=*/1);
  }
}

DefaultScratchServers::~DefaultScratchServers() {
  for (const auto& [name, old] : saved_) {
    if (old.has_value()) {
      setenv(name.c_str(), old->c_str(), /*overwrite=*/1);
    } else {
      unsetenv(name.c_str());
    }
  }
}

}  // namespace testing
}  // namespace dbpool
