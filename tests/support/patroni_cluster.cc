// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "patroni_cluster.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

std::string PatroniScript() {
  const char* explicit_ctl = std::getenv("DBPOOL_TEST_PATRONI_CTL");
  if (explicit_ctl != nullptr && *explicit_ctl != '\0') return explicit_ctl;
  // "bash /path/to/scripts/servers.sh" -> "bash /path/to/scripts/patroni.sh"
  return absl::StrReplaceAll(RequireEnv("DBPOOL_TEST_SERVERS_CTL"),
                             {{"/servers.sh", "/patroni.sh"}});
}

}  // namespace

PatroniCluster::PatroniCluster() : ScratchServers(PatroniScript(), "") {}

std::vector<int> PatroniCluster::node_ports() const {
  std::vector<int> ports;
  for (int i = 1; i <= 3; ++i) {
    ports.push_back(Port(absl::StrCat("DBPOOL_TEST_PATRONI_NODE", i, "_PG_PORT")));
  }
  return ports;
}

absl::StatusOr<int> PatroniCluster::LeaderPort() const {
  const std::string line = absl::StrCat(script(), " leader ", dir());
  FILE* out = popen(line.c_str(), "r");
  if (out == nullptr) return absl::InternalError(absl::StrCat("popen failed: ", line));
  std::string text;
  char buf[128];
  while (std::fgets(buf, sizeof buf, out) != nullptr) text += buf;
  const int rc = pclose(out);
  int port = 0;
  if (rc != 0 || !absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port)) {
    return absl::InternalError(absl::StrCat("'", line, "' exited with ", rc, ": ", text));
  }
  return port;
}

}  // namespace testing
}  // namespace dbpool
