// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// FaultProxy, the fault-injecting TCP proxy of the failover tests, in front
// of a small echo server on loopback.
#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "await.h"

namespace dbpool {
namespace testing {
namespace {

using Mode = FaultProxy::Mode;

// How long anything that should happen may take: generous, never reached.
constexpr absl::Duration kTimeout = absl::Seconds(10);
// How long a test watches for bytes that must not arrive.
constexpr absl::Duration kQuiet = absl::Milliseconds(300);

// An owned socket descriptor.
class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// A listening socket on 127.0.0.1:<ephemeral>; its port in `*port`.
int ListenLoopback(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  REQUIRE(fd >= 0);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 64) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  *port = ntohs(addr.sin_port);
  return fd;
}

// A loopback server that echoes every byte back and, at EOF, shuts its
// sending side down too. One thread per connection with blocking I/O; the
// destructor shuts every socket down to unblock them, then joins.
class EchoServer {
 public:
  EchoServer() : listen_fd_(ListenLoopback(&port_)), accept_thread_([this] { AcceptLoop(); }) {}

  ~EchoServer() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept() with EINVAL
    accept_thread_.join();
    std::vector<std::thread> threads;
    std::vector<int> fds;
    {
      absl::MutexLock lock(&mu_);
      threads.swap(threads_);
      fds.swap(fds_);
    }
    for (std::thread& t : threads) t.join();
    for (int fd : fds) ::close(fd);
    ::close(listen_fd_);
  }

  int port() const { return port_; }
  // Connections accepted so far.
  int accepted() const { return accepted_.load(); }

 private:
  void AcceptLoop() {
    while (true) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      accepted_.fetch_add(1);
      absl::MutexLock lock(&mu_);
      fds_.push_back(fd);  // closed by the destructor, after the thread ends
      if (stopping_) {
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
      threads_.emplace_back([fd] { Echo(fd); });
    }
  }

  static void Echo(int fd) {
    std::vector<char> buf(64 * 1024);
    while (true) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n == 0) {
        ::shutdown(fd, SHUT_WR);
        return;
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t m = ::send(fd, buf.data() + sent, n - sent, MSG_NOSIGNAL);
        if (m < 0 && errno == EINTR) continue;
        if (m < 0) return;
        sent += m;
      }
    }
  }

  int port_ = 0;
  const int listen_fd_;
  std::atomic<int> accepted_{0};
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::thread accept_thread_;
};

// poll() on one descriptor until `deadline`: its revents, or 0 on timeout.
short PollUntil(int fd, short events, absl::Time deadline) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return 0;
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (rc > 0) return p.revents;
    if (rc < 0 && errno != EINTR) return POLLERR;
  }
}

// A client connection, or the errno of a failed connect.
struct Dialed {
  Socket socket;
  int error = 0;
};

// Connects to 127.0.0.1:`port` with a non-blocking socket (which it stays).
Dialed Dial(int port) {
  Dialed dialed;
  dialed.socket = Socket(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const int fd = dialed.socket.get();
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return dialed;
  if (errno != EINPROGRESS) {
    dialed.error = errno;
    return dialed;
  }
  if (PollUntil(fd, POLLOUT, absl::Now() + kTimeout) == 0) {
    dialed.error = ETIMEDOUT;
    return dialed;
  }
  socklen_t len = sizeof(dialed.error);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &dialed.error, &len);
  return dialed;
}

// Writes all of `data` within kTimeout; false on an error or timeout.
bool SendAll(int fd, absl::string_view data) {
  const absl::Time deadline = absl::Now() + kTimeout;
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (errno != EAGAIN && errno != EINTR) {
      return false;
    } else if (PollUntil(fd, POLLOUT, deadline) == 0) {
      return false;
    }
  }
  return true;
}

// What a read saw.
struct ReadResult {
  std::string data;
  bool eof = false;
  int error = 0;  // the errno that ended it, 0 if none
};

// Reads until `want` bytes arrived, EOF, an error, or `timeout` passed.
ReadResult ReadFor(int fd, size_t want, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  ReadResult result;
  char buf[16 * 1024];
  while (result.data.size() < want) {
    const ssize_t n = ::recv(fd, buf, std::min(sizeof(buf), want - result.data.size()), 0);
    if (n > 0) {
      result.data.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      result.eof = true;
      break;
    } else if (errno != EAGAIN && errno != EINTR) {
      result.error = errno;
      break;
    } else if (PollUntil(fd, POLLIN, deadline) == 0) {
      break;
    }
  }
  return result;
}

// Sends `payload` while reading its echo, both at once so that no buffer
// on the way fills up; returns what came back (short on error or timeout).
std::string RoundTrip(int fd, const std::string& payload) {
  const absl::Time deadline = absl::Now() + kTimeout;
  std::string back;
  size_t sent = 0;
  std::vector<char> buf(64 * 1024);
  while (back.size() < payload.size() && absl::Now() < deadline) {
    const short events = static_cast<short>(POLLIN | (sent < payload.size() ? POLLOUT : 0));
    const short revents = PollUntil(fd, events, deadline);
    if ((revents & POLLOUT) != 0) {
      const ssize_t n = ::send(fd, payload.data() + sent, payload.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n > 0) back.append(buf.data(), static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
    }
  }
  return back;
}

// A payload whose bytes depend on their position, so that lost, repeated or
// reordered chunks show.
std::string Pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 31 + i / 4096) & 0xff);
  return s;
}

// A connection through `proxy` that echoes "hello".
Socket WorkingConnection(const FaultProxy& proxy) {
  Dialed dialed = Dial(proxy.port());
  REQUIRE(dialed.error == 0);
  REQUIRE(RoundTrip(dialed.socket.get(), "hello") == "hello");
  return std::move(dialed.socket);
}

// Whether a connection through the proxy was reset: either its connect or
// its next read failed with ECONNRESET. (When the reset comes right after the
// handshake, the connect may report it.)
int FirstErrorOfNewConnection(int port) {
  Dialed dialed = Dial(port);
  if (dialed.error != 0) return dialed.error;
  ReadResult r = ReadFor(dialed.socket.get(), 1, kTimeout);
  if (r.eof) return -1;  // EOF, not a reset
  return r.error;
}

std::unique_ptr<FaultProxy> StartProxy(int target_port) {
  absl::StatusOr<std::unique_ptr<FaultProxy>> proxy = FaultProxy::Start("127.0.0.1", target_port);
  REQUIRE(proxy.ok());
  return std::move(*proxy);
}

TEST_CASE("a new fault proxy passes bytes both ways, a 1 MiB payload included", "[fault_proxy]") {
  EchoServer echo;
  std::unique_ptr<FaultProxy> proxy = StartProxy(echo.port());
  CHECK(proxy->mode() == Mode::kPass);
  CHECK(proxy->port() != echo.port());

  Socket conn = WorkingConnection(*proxy);
  const std::string payload = Pattern(1 << 20);
  const std::string back = RoundTrip(conn.get(), payload);
  CHECK(back.size() == payload.size());
  const bool same = back == payload;
  CHECK(same);
  CHECK(proxy->accepted() == 1);
  CHECK(proxy->active_connections() == 1);
  CHECK(echo.accepted() == 1);
}

TEST_CASE("the fault proxy passes a half-close on and closes the pair when both sides are done",
          "[fault_proxy]") {
  EchoServer echo;
  std::unique_ptr<FaultProxy> proxy = StartProxy(echo.port());
  Socket conn = WorkingConnection(*proxy);

  REQUIRE(SendAll(conn.get(), "bye"));
  REQUIRE(::shutdown(conn.get(), SHUT_WR) == 0);
  const ReadResult r = ReadFor(conn.get(), 100, kTimeout);
  CHECK(r.data == "bye");
  CHECK(r.eof);
  CHECK(Await([&] { return proxy->active_connections() == 0; }));
}

TEST_CASE("stall mode forwards nothing, connects nothing upstream, and pass thaws it",
          "[fault_proxy]") {
  EchoServer echo;
  std::unique_ptr<FaultProxy> proxy = StartProxy(echo.port());
  Socket before = WorkingConnection(*proxy);

  REQUIRE(proxy->set_mode(Mode::kStall).ok());
  CHECK(proxy->mode() == Mode::kStall);

  // An existing connection: its bytes go nowhere, nothing comes back.
  REQUIRE(SendAll(before.get(), "ping"));
  ReadResult r = ReadFor(before.get(), 4, kQuiet);
  CHECK(r.data.empty());
  CHECK_FALSE(r.eof);
  CHECK(r.error == 0);

  // A new connection: the handshake completes, nothing else happens.
  Dialed during = Dial(proxy->port());
  REQUIRE(during.error == 0);
  REQUIRE(SendAll(during.socket.get(), "pong"));
  r = ReadFor(during.socket.get(), 4, kQuiet);
  CHECK(r.data.empty());
  CHECK_FALSE(r.eof);
  CHECK(r.error == 0);
  CHECK(Await([&] { return proxy->accepted() == 2; }));
  CHECK(proxy->active_connections() == 2);
  CHECK(echo.accepted() == 1);  // no upstream connection for the held one

  // Back to pass: both resume, the held one connecting upstream now.
  REQUIRE(proxy->set_mode(Mode::kPass).ok());
  CHECK(ReadFor(before.get(), 4, kTimeout).data == "ping");
  CHECK(ReadFor(during.socket.get(), 4, kTimeout).data == "pong");
  CHECK(echo.accepted() == 2);
  Socket after = WorkingConnection(*proxy);
  CHECK(proxy->active_connections() == 3);
}

TEST_CASE("reset mode resets existing connections and every new one", "[fault_proxy]") {
  EchoServer echo;
  std::unique_ptr<FaultProxy> proxy = StartProxy(echo.port());
  Socket before = WorkingConnection(*proxy);

  REQUIRE(proxy->set_mode(Mode::kReset).ok());
  CHECK(proxy->mode() == Mode::kReset);
  const absl::Time start = absl::Now();
  const ReadResult r = ReadFor(before.get(), 1, kTimeout);
  CHECK(r.error == ECONNRESET);
  CHECK(absl::Now() - start < absl::Seconds(2));
  CHECK(::send(before.get(), "x", 1, MSG_NOSIGNAL) < 0);
  CHECK(proxy->active_connections() == 0);

  CHECK(FirstErrorOfNewConnection(proxy->port()) == ECONNRESET);
  CHECK(FirstErrorOfNewConnection(proxy->port()) == ECONNRESET);
  CHECK(proxy->accepted() == 3);
  CHECK(proxy->active_connections() == 0);

  REQUIRE(proxy->set_mode(Mode::kPass).ok());
  WorkingConnection(*proxy);
}

TEST_CASE("refuse mode refuses connects on the same port until pass listens again",
          "[fault_proxy]") {
  EchoServer echo;
  std::unique_ptr<FaultProxy> proxy = StartProxy(echo.port());
  const int port = proxy->port();
  Socket before = WorkingConnection(*proxy);

  REQUIRE(proxy->set_mode(Mode::kRefuse).ok());
  CHECK(proxy->mode() == Mode::kRefuse);
  CHECK(ReadFor(before.get(), 1, kTimeout).error == ECONNRESET);
  CHECK(Dial(port).error == ECONNREFUSED);
  REQUIRE(proxy->set_mode(Mode::kRefuse).ok());  // again: no change
  CHECK(Dial(port).error == ECONNREFUSED);
  CHECK(proxy->accepted() == 1);
  CHECK(proxy->active_connections() == 0);

  REQUIRE(proxy->set_mode(Mode::kPass).ok());
  CHECK(proxy->port() == port);
  Socket after = WorkingConnection(*proxy);
  CHECK(proxy->accepted() == 2);
}

TEST_CASE("leaving refuse mode for stall listens again but forwards nothing", "[fault_proxy]") {
  EchoServer echo;
  std::unique_ptr<FaultProxy> proxy = StartProxy(echo.port());
  REQUIRE(proxy->set_mode(Mode::kRefuse).ok());
  CHECK(Dial(proxy->port()).error == ECONNREFUSED);

  REQUIRE(proxy->set_mode(Mode::kStall).ok());
  Dialed held = Dial(proxy->port());
  REQUIRE(held.error == 0);
  REQUIRE(SendAll(held.socket.get(), "wait"));
  CHECK(ReadFor(held.socket.get(), 4, kQuiet).data.empty());

  REQUIRE(proxy->set_mode(Mode::kPass).ok());
  CHECK(ReadFor(held.socket.get(), 4, kTimeout).data == "wait");
}

TEST_CASE("a connection whose upstream refuses is reset", "[fault_proxy]") {
  int closed_port = 0;
  ::close(ListenLoopback(&closed_port));
  std::unique_ptr<FaultProxy> proxy = StartProxy(closed_port);

  CHECK(FirstErrorOfNewConnection(proxy->port()) == ECONNRESET);
  CHECK(Await([&] { return proxy->active_connections() == 0; }));
  CHECK(proxy->accepted() == 1);
}

TEST_CASE("destroying the proxy with open connections returns promptly and resets them",
          "[fault_proxy]") {
  EchoServer echo;
  std::unique_ptr<FaultProxy> proxy = StartProxy(echo.port());
  Socket idle = WorkingConnection(*proxy);
  // Mid-transfer: 256 KiB sent, the echo never read, so buffers fill up.
  Socket busy = WorkingConnection(*proxy);
  const std::string payload = Pattern(256 * 1024);
  for (size_t sent = 0; sent < payload.size();) {
    const ssize_t n =
        ::send(busy.get(), payload.data() + sent, payload.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the buffers are full
    sent += static_cast<size_t>(n);
  }
  REQUIRE(proxy->set_mode(Mode::kStall).ok());
  Dialed held = Dial(proxy->port());
  REQUIRE(held.error == 0);
  REQUIRE(Await([&] { return proxy->active_connections() == 3; }));

  const absl::Time start = absl::Now();
  proxy.reset();
  CHECK(absl::Now() - start < absl::Seconds(2));
  CHECK(ReadFor(idle.get(), 1, kTimeout).error == ECONNRESET);
  CHECK(ReadFor(held.socket.get(), 1, kTimeout).error == ECONNRESET);
  ReadResult r;
  do {  // the echo already received comes first
    r = ReadFor(busy.get(), 64 * 1024, kTimeout);
  } while (!r.data.empty() && r.error == 0 && !r.eof);
  CHECK(r.error == ECONNRESET);
}

TEST_CASE("the fault proxy takes modes from several threads at once", "[fault_proxy]") {
  EchoServer echo;
  std::unique_ptr<FaultProxy> proxy = StartProxy(echo.port());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      const Mode modes[] = {Mode::kStall, Mode::kReset, Mode::kRefuse, Mode::kPass};
      for (int i = 0; i < 40; ++i) {
        if (!proxy->set_mode(modes[(i + t) % 4]).ok()) failures.fetch_add(1);
        (void)proxy->mode();
        (void)proxy->active_connections();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(failures.load() == 0);
  REQUIRE(proxy->set_mode(Mode::kPass).ok());
  WorkingConnection(*proxy);
}

TEST_CASE("starting a fault proxy rejects a target port outside 1..65535", "[fault_proxy]") {
  CHECK(FaultProxy::Start("127.0.0.1", 0).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(FaultProxy::Start("127.0.0.1", 65536).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
