// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "test_servers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace dbpool {
namespace testing {

std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    std::fprintf(stderr,
                 "integration tests need their servers: %s is not set. Run scripts/test.sh, "
                 "or start them with scripts/servers.sh start DIR and source DIR/env.\n",
                 name);
    std::abort();
  }
  return value;
}

int RequirePort(const char* name) {
  int port = 0;
  if (!absl::SimpleAtoi(RequireEnv(name), &port)) {
    std::fprintf(stderr, "%s is not a port number\n", name);
    std::abort();
  }
  return port;
}

absl::Status ServersCtl(absl::string_view command) {
  const std::string line = absl::StrCat(RequireEnv("DBPOOL_TEST_SERVERS_CTL"), " ", command, " ",
                                        RequireEnv("DBPOOL_TEST_SERVERS_DIR"), " >&2");
  const int rc = std::system(line.c_str());
  if (rc != 0) return absl::InternalError(absl::StrCat("'", line, "' exited with ", rc));
  return absl::OkStatus();
}

namespace {

// A socket bound to an ephemeral loopback port; its port in `*port`.
int BindLoopback(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("bind");
    std::abort();
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

int ClosedPort() {
  int port = 0;
  ::close(BindLoopback(&port));
  return port;
}

SilentListener::SilentListener() {
  fd_ = BindLoopback(&port_);
  if (::listen(fd_, 64) != 0) {
    std::perror("listen");
    std::abort();
  }
}

SilentListener::~SilentListener() { ::close(fd_); }

std::string UniqueTag(absl::string_view prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "_", getpid(), "_", counter.fetch_add(1));
}

}  // namespace testing
}  // namespace dbpool
