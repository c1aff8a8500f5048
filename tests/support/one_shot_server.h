// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// OneShotServer: the listening half of the tests' small fake servers (a
// fake PostgreSQL or MySQL server speaking just enough of its protocol). It
// listens on 127.0.0.1:<ephemeral> and, on a thread of its own, accepts one
// connection within 10 s and hands it to the session function, which owns
// (and closes) the descriptor. Header-only.
#ifndef DBPOOL_TESTS_SUPPORT_ONE_SHOT_SERVER_H_
#define DBPOOL_TESTS_SUPPORT_ONE_SHOT_SERVER_H_

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>
#include <utility>

namespace dbpool {
namespace testing {

class OneShotServer {
 public:
  // Starts listening and accepting; `session(fd)` runs on the server's
  // thread once a client connects (it may poll stopping() to end early).
  explicit OneShotServer(std::function<void(int fd)> session) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, session = std::move(session)] {
      int fd = -1;
      for (int waited = 0; fd < 0 && waited < 10000 && !stop_; waited += 50) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0) fd = ::accept(listen_fd_, nullptr, nullptr);
      }
      if (fd >= 0) session(fd);
    });
  }
  // Asks the session to stop and waits for it.
  ~OneShotServer() {
    stop_ = true;
    Join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  OneShotServer(const OneShotServer&) = delete;
  OneShotServer& operator=(const OneShotServer&) = delete;

  // 0 when the server could not listen.
  int port() const { return port_; }

  // Waits until the session has ended (or no client came within 10 s).
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // Whether the server is being destroyed: a session that waits polls it.
  bool stopping() const { return stop_; }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_ONE_SHOT_SERVER_H_
