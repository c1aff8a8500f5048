// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A fake MySQL server that plays a man in the middle after a password: it
// accepts one connection on 127.0.0.1:<ephemeral>, sends a greeting without
// CLIENT_SSL (mysql_native_password), reads the client's handshake response,
// answers with an AuthSwitchRequest for mysql_clear_password, and records
// every byte the client sends until it closes (or 5 s pass). Header-only;
// just enough of the protocol for tests of what a client sends.
#ifndef DBPOOL_TESTS_SUPPORT_FAKE_MYSQL_SERVER_H_
#define DBPOOL_TESTS_SUPPORT_FAKE_MYSQL_SERVER_H_

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "one_shot_server.h"

namespace dbpool {
namespace testing {

class FakeMySqlServer {
 public:
  FakeMySqlServer() : server_([this](int fd) { Serve(fd); }) {}

  // 0 when the server could not listen.
  int port() const { return server_.port(); }

  // Whether the client answered the greeting (so the switch was sent).
  bool switch_sent() const { return switch_sent_.load(); }

  // Every byte received from the client, once it closed or 5 s passed
  // (waits for that).
  std::string received() {
    server_.Join();
    absl::MutexLock lock(&mu_);
    return received_;
  }

 private:
  // Appends what arrives within `ms`; false on EOF, error or timeout.
  bool ReadSome(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    absl::MutexLock lock(&mu_);
    received_.append(buf, static_cast<size_t>(n));
    return true;
  }

  static void SendPacket(int fd, uint8_t seq, const std::string& payload) {
    std::string packet;
    packet.push_back(static_cast<char>(payload.size() & 0xff));
    packet.push_back(static_cast<char>((payload.size() >> 8) & 0xff));
    packet.push_back(static_cast<char>((payload.size() >> 16) & 0xff));
    packet.push_back(static_cast<char>(seq));
    packet += payload;
    (void)::send(fd, packet.data(), packet.size(), MSG_NOSIGNAL);
  }

  void Serve(int fd) {
    // HandshakeV10: version, server version, thread id, scramble part 1,
    // filler, capabilities (no CLIENT_SSL), charset, status, capabilities
    // (upper), scramble length, reserved, scramble part 2, plugin name.
    std::string greeting(
        "\x0a"
        "5.7.99-fake\0"
        "\x01\x00\x00\x00"
        "abcdefgh\0",
        26);
    greeting += std::string(
        "\x0f\xa2"
        "\x21"
        "\x02\x00"
        "\x0b\x00"
        "\x15",
        8);
    greeting += std::string(10, '\0');
    greeting += std::string("ijklmnopqrst\0", 13);
    greeting += std::string("mysql_native_password\0", 22);
    SendPacket(fd, 0, greeting);
    if (ReadSome(fd, 5000)) {
      // AuthSwitchRequest: 0xfe, the plugin's name, its data.
      SendPacket(fd, 2,
                 std::string("\xfe"
                             "mysql_clear_password\0",
                             22));
      switch_sent_ = true;
      for (int i = 0; i < 50 && ReadSome(fd, 100); ++i) {
      }
      // An error packet, so that a client that sent the password gives up.
      SendPacket(fd, 4, std::string("\xff\x15\x04#28000denied", 15));
      while (ReadSome(fd, 200)) {
      }
    }
    ::close(fd);
  }

  std::atomic<bool> switch_sent_{false};
  absl::Mutex mu_;
  std::string received_ ABSL_GUARDED_BY(mu_);
  OneShotServer server_;  // last: its thread stops before the members above go
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_FAKE_MYSQL_SERVER_H_
