// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PgConnection's socket handling against a fake server
// (tests/support/fake_pg_server.h): interrupt() must reach only the
// connection's own socket, never a descriptor number libpq gave back.
#include <libpq-fe.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "dbpool/postgres.h"
#include "fake_pg_server.h"

namespace dbpool {
namespace {

TEST_CASE("interrupt() after libpq closed its socket leaves a socket that reuses the number alone",
          "[postgres][socket]") {
  testing::FakePgServer server;
  REQUIRE(server.port() > 0);
  ConnectSettings settings;
  settings.endpoints = {{"127.0.0.1", server.port()}};
  settings.user = "app";
  settings.options = {{"sslmode", "disable"}, {"gssencmode", "disable"}};
  auto setup = Postgres::make_driver(settings);
  REQUIRE(setup.ok());
  auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(10));
  REQUIRE(conn.ok());
  PGconn* pg = static_cast<PGconn*>((*conn)->native_handle());
  const int old_fd = PQsocket(pg);
  REQUIRE(old_fd >= 0);

  // The server has closed the connection: the next command finds it lost
  // and libpq closes its descriptor, freeing the number.
  server.WaitClosed();
  CHECK_FALSE((*conn)->execute("SELECT 1", absl::Now() + absl::Seconds(10)).ok());
  REQUIRE(PQsocket(pg) == -1);

  // Another socket gets that number, as the next socket() anywhere in the
  // process would.
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
  if (pair[1] == old_fd) std::swap(pair[0], pair[1]);
  if (pair[0] != old_fd) {  // the lowest free number may already be it
    REQUIRE(::dup2(pair[0], old_fd) == old_fd);
    ::close(pair[0]);
  }

  (*conn)->interrupt();  // what an endpoint going down does to leases

  // The other socket still works both ways.
  CHECK(::send(old_fd, "x", 1, MSG_NOSIGNAL) == 1);
  char c = 0;
  CHECK(::recv(pair[1], &c, 1, 0) == 1);
  CHECK(c == 'x');
  CHECK(::send(pair[1], "y", 1, MSG_NOSIGNAL) == 1);
  CHECK(::recv(old_fd, &c, 1, 0) == 1);
  CHECK(c == 'y');
  ::close(old_fd);
  ::close(pair[1]);
}

}  // namespace
}  // namespace dbpool

namespace dbpool {
namespace {

TEST_CASE("the pool's own statements give up at their deadline when the server stops reading",
          "[postgres][socket]") {
  testing::FakePgServer server(testing::FakePgServer::After::kHold);
  REQUIRE(server.port() > 0);
  ConnectSettings settings;
  settings.endpoints = {{"127.0.0.1", server.port()}};
  settings.user = "app";
  settings.options = {{"sslmode", "disable"}, {"gssencmode", "disable"}};
  auto setup = Postgres::make_driver(settings);
  REQUIRE(setup.ok());
  auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(10));
  REQUIRE(conn.ok());
  // Far more than the socket buffers on both sides hold: the send blocks.
  const std::string sql = "SELECT '" + std::string(64 << 20, 'x') + "'";
  const absl::Time start = absl::Now();
  const absl::Status status = (*conn)->execute(sql, start + absl::Milliseconds(500));
  const absl::Duration took = absl::Now() - start;
  CHECK(status.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(took < absl::Seconds(10));  // generous: the deadline is 0.5 s
  CHECK((*conn)->session_state() == SessionState::kBroken);
}

}  // namespace
}  // namespace dbpool

namespace dbpool {
namespace {

TEST_CASE("a notice the server sends while connecting never reaches stderr", "[postgres][socket]") {
  testing::FakePgServer server(testing::FakePgServer::After::kClose, "\x1b[2Jnotice-from-server");
  REQUIRE(server.port() > 0);
  ConnectSettings settings;
  settings.endpoints = {{"127.0.0.1", server.port()}};
  settings.user = "app";
  settings.options = {{"sslmode", "disable"}, {"gssencmode", "disable"}};
  auto setup = Postgres::make_driver(settings);
  REQUIRE(setup.ok());
  // stderr into a pipe while connecting (the notice is a few bytes: the
  // pipe holds it without a reader).
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  REQUIRE(::dup2(pipe_fds[1], STDERR_FILENO) == STDERR_FILENO);
  auto conn = setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(10));
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(pipe_fds[1]);
  std::string printed;
  char buf[256];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0;) printed.append(buf, n);
  ::close(pipe_fds[0]);
  REQUIRE(conn.ok());
  CHECK(printed.find("notice-from-server") == std::string::npos);
  INFO(printed);
  CHECK(printed.empty());
}

}  // namespace
}  // namespace dbpool
