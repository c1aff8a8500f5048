// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A fake PostgreSQL server for tests of the driver's socket handling: it
// accepts one connection on 127.0.0.1:<ephemeral>, answers the startup
// message (refusing SSL and GSS encryption requests) with AuthenticationOk,
// a few parameter statuses, BackendKeyData and ReadyForQuery, and then
// closes the connection, so that the client's next command finds it lost;
// or, with Hold(), keeps it open and never reads from it again (a peer that
// stops reading), until destroyed. Or, made with Scram(), it asks for
// SCRAM-SHA-256 and answers the client's first message with a challenge
// for a given iteration count (sent in two parts when asked), records
// whether the client answered it (which means it ran the key derivation),
// and then refuses the password. Or, made with Refuse(), it answers the
// startup message with a FATAL ErrorResponse of a given SQLSTATE and text
// (a server turning the client away: too many connections, a bad
// password). Header-only; just enough of the protocol for that.
#ifndef DBPOOL_TESTS_SUPPORT_FAKE_PG_SERVER_H_
#define DBPOOL_TESTS_SUPPORT_FAKE_PG_SERVER_H_

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>

#include "one_shot_server.h"

namespace dbpool {
namespace testing {

class FakePgServer {
 public:
  enum class After { kClose, kHold };

  // `notice`: the text of a WARNING NoticeResponse sent before
  // ReadyForQuery, when not empty.
  explicit FakePgServer(After after = After::kClose, std::string notice = "")
      : after_(after), notice_(std::move(notice)), server_([this](int fd) { Serve(fd); }) {}

  struct Scram {
    int64_t iterations;
    bool split = false;  // the challenge in two sends, 100 ms apart
  };
  explicit FakePgServer(Scram scram)
      : after_(After::kClose), scram_(scram), server_([this](int fd) { Serve(fd); }) {}

  struct Refuse {
    std::string sqlstate;
    std::string message;  // may hold line breaks, as a server's can
  };
  explicit FakePgServer(Refuse refuse)
      : after_(After::kClose), refuse_(std::move(refuse)), server_([this](int fd) { Serve(fd); }) {}

  // 0 when the server could not listen.
  int port() const { return server_.port(); }

  // Scram(): whether the client answered the challenge (waits until the
  // server has finished).
  bool client_answered_challenge() {
    WaitClosed();
    return answered_;
  }

  // Waits until the server has closed its connection (or gave up waiting).
  void WaitClosed() { server_.Join(); }

 private:
  // Reads exactly n bytes within 5 s; false otherwise.
  static bool ReadN(int fd, size_t n, std::string* out) {
    out->clear();
    while (out->size() < n) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return false;
      char buf[512];
      const ssize_t got = ::recv(fd, buf, std::min(sizeof(buf), n - out->size()), 0);
      if (got <= 0) return false;
      out->append(buf, static_cast<size_t>(got));
    }
    return true;
  }

  static uint32_t Be32(const std::string& s, size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
  }

  static void AppendMessage(char type, const std::string& body, std::string* out) {
    const uint32_t len = static_cast<uint32_t>(body.size() + 4);
    out->push_back(type);
    for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(len >> shift));
    *out += body;
  }

  void Serve(int fd) {
    std::string header;
    std::string rest;
    for (;;) {  // SSLRequest and GSSENCRequest get 'N'; then the startup message
      if (!ReadN(fd, 8, &header) || Be32(header, 0) < 8 || !ReadN(fd, Be32(header, 0) - 8, &rest)) {
        ::close(fd);
        return;
      }
      const uint32_t code = Be32(header, 4);
      if (code != 80877103 && code != 80877104) break;
      (void)::send(fd, "N", 1, MSG_NOSIGNAL);
    }
    if (scram_.iterations > 0) {
      ServeScram(fd);
      ::close(fd);
      return;
    }
    if (!refuse_.sqlstate.empty()) {
      std::string out;
      AppendMessage('E', Fatal(refuse_.sqlstate, refuse_.message), &out);
      (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(fd);
      return;
    }
    std::string reply;
    AppendMessage('R', std::string(4, '\0'), &reply);  // AuthenticationOk
    for (const char* kv : {"server_version\0"
                           "15.0",
                           "client_encoding\0"
                           "UTF8",
                           "standard_conforming_strings\0"
                           "on",
                           "integer_datetimes\0"
                           "on"}) {
      std::string body(kv);
      body.push_back('\0');
      body += kv + body.size();
      body.push_back('\0');
      AppendMessage('S', body, &reply);
    }
    AppendMessage('K', std::string("\0\0\0\x01\0\0\0\x02", 8), &reply);
    if (!notice_.empty()) {
      std::string body("SWARNING");
      body.push_back('\0');
      body += "M" + notice_;
      body.push_back('\0');
      body.push_back('\0');
      AppendMessage('N', body, &reply);  // NoticeResponse
    }
    AppendMessage('Z', "I", &reply);  // ReadyForQuery, idle
    (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    while (after_ == After::kHold && !server_.stopping()) ::usleep(20000);
    ::close(fd);
  }

  // The body of a FATAL ErrorResponse.
  static std::string Fatal(const std::string& sqlstate, const std::string& message) {
    std::string body("SFATAL");
    for (const std::string& field : {"C" + sqlstate, "M" + message}) {
      body.push_back('\0');
      body += field;
    }
    body.append(2, '\0');
    return body;
  }

  // Reads one frontend message ('p': SASLInitialResponse or SASLResponse).
  static bool ReadMessage(int fd, std::string* body) {
    std::string header;
    return ReadN(fd, 5, &header) && header[0] == 'p' && Be32(header, 1) >= 4 &&
           ReadN(fd, Be32(header, 1) - 4, body);
  }

  void ServeScram(int fd) {
    std::string out;
    AppendMessage('R', std::string("\0\0\0\x0aSCRAM-SHA-256\0\0", 19), &out);  // AuthenticationSASL
    (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    std::string first;  // mechanism, length, "n,,n=,r=<client nonce>"
    if (!ReadMessage(fd, &first)) return;
    const size_t r = first.find("r=");
    if (r == std::string::npos) return;
    out.clear();
    AppendMessage('R',
                  std::string("\0\0\0\x0b", 4) + first.substr(r) +
                      "Srv0nce,s=c2FsdHNhbHRzYWx0c2FsdA==,i=" + std::to_string(scram_.iterations),
                  &out);  // AuthenticationSASLContinue
    const size_t cut = scram_.split ? 12 : out.size();
    (void)::send(fd, out.data(), cut, MSG_NOSIGNAL);
    if (cut < out.size()) {
      ::usleep(100000);  // gives the client a chance to see the first part alone
      (void)::send(fd, out.data() + cut, out.size() - cut, MSG_NOSIGNAL);
    }
    std::string final_message;
    answered_ = ReadMessage(fd, &final_message);
    out.clear();
    AppendMessage('E', Fatal("28P01", "password authentication failed for user \"app\""), &out);
    (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  }

  const After after_;
  const std::string notice_;
  const Scram scram_{0};
  const Refuse refuse_;
  bool answered_ = false;  // written by the server's thread before it ends
  OneShotServer server_;   // last: its thread stops before the members above go
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_FAKE_PG_SERVER_H_
