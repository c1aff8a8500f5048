// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace dbpool {
namespace testing {

namespace {

constexpr size_t kBufferSize = 64 * 1024;  // per direction of a connection
constexpr size_t kMaxConnections = 256;    // two descriptors each
constexpr int kAcceptBatch = 64;           // accepts per loop turn
constexpr int kPollTimeoutMs = 1000;       // a safety net: wake-ups come through the eventfd
constexpr absl::Duration kApplyTimeout = absl::Seconds(10);

std::string ErrnoText(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof(buf));  // the GNU variant: returns the text
}

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// Closes `fd` so that its peer sees a reset (RST), not an orderly close.
void ResetClose(int fd) {
  if (fd < 0) return;
  const linger abort_on_close{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
  ::close(fd);
}

void SetNoDelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// A non-blocking TCP socket bound to 127.0.0.1:`port` (0: ephemeral), and
// listening if `listen`. SO_REUSEADDR lets it bind over TIME_WAIT leftovers;
// SO_REUSEPORT lets the listener and the placeholder that reserves the port
// in kRefuse overlap, so the port is never free for someone else to take.
absl::StatusOr<int> BindLoopback(int port, bool listen) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("fault proxy: socket: ", ErrnoText(errno)));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      (listen && ::listen(fd, 128) != 0)) {
    const int err = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("fault proxy: cannot ", listen ? "listen" : "bind",
                                               " on 127.0.0.1:", port, ": ", ErrnoText(err)));
  }
  return fd;
}

// Where upstream connections go.
struct Target {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

// Resolves host:port once, preferring an IPv4 address.
absl::StatusOr<Target> Resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (rc != 0 || list == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("fault proxy: cannot resolve target ", host, ": ", ::gai_strerror(rc)));
  }
  const addrinfo* pick = list;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      pick = ai;
      break;
    }
  }
  Target target;
  std::memcpy(&target.addr, pick->ai_addr, pick->ai_addrlen);
  target.len = pick->ai_addrlen;
  ::freeaddrinfo(list);
  return target;
}

// One direction of a connection: bytes read from one socket and not yet
// written to the other.
struct Pipe {
  std::unique_ptr<char[]> buf{new char[kBufferSize]};
  size_t begin = 0;
  size_t end = 0;
  bool eof = false;   // the source sent its FIN (recv returned 0)
  bool shut = false;  // ... and it was passed on: shutdown(SHUT_WR) on the destination

  size_t size() const { return end - begin; }
  bool wants_read() const { return !eof && end < kBufferSize; }
  bool wants_write() const { return size() > 0; }
};

// Moves bytes from `from` to `to` through `pipe`: one recv() and one send()
// at most, then the FIN once everything before it is written. Returns false
// on an error of either socket.
bool Pump(int from, int to, Pipe& pipe) {
  if (pipe.wants_read()) {
    if (pipe.begin > 0) {  // make room at the end
      std::memmove(pipe.buf.get(), pipe.buf.get() + pipe.begin, pipe.size());
      pipe.end -= pipe.begin;
      pipe.begin = 0;
    }
    const ssize_t n = ::recv(from, pipe.buf.get() + pipe.end, kBufferSize - pipe.end, 0);
    if (n > 0) {
      pipe.end += static_cast<size_t>(n);
    } else if (n == 0) {
      pipe.eof = true;
    } else if (!WouldBlock(errno)) {
      return false;
    }
  }
  if (pipe.wants_write()) {
    const ssize_t n = ::send(to, pipe.buf.get() + pipe.begin, pipe.size(), MSG_NOSIGNAL);
    if (n > 0) {
      pipe.begin += static_cast<size_t>(n);
      if (pipe.begin == pipe.end) pipe.begin = pipe.end = 0;
    } else if (n < 0 && !WouldBlock(errno)) {
      return false;
    }
  }
  if (pipe.eof && pipe.size() == 0 && !pipe.shut) {
    if (::shutdown(to, SHUT_WR) != 0) return false;
    pipe.shut = true;
  }
  return true;
}

// A client connection and its upstream one.
struct Conn {
  explicit Conn(int fd) : client(fd) {}
  int client;
  int upstream = -1;        // -1 until the upstream connect starts (in kPass)
  bool connecting = false;  // the upstream connect is in progress
  Pipe up;                  // client -> upstream
  Pipe down;                // upstream -> client
};

}  // namespace

// The background thread's state and its poll() loop. Only that thread
// touches it (after construction); it talks to the FaultProxy through the
// proxy's mutex-guarded fields and atomic counters.
class FaultProxy::Loop {
 public:
  Loop(FaultProxy* proxy, int listen_fd, Target target)
      : proxy_(proxy), target_(target), listen_fd_(listen_fd) {}
  ~Loop() { CloseAll(); }

  // Runs until the proxy asks it to stop; closes every socket on the way out.
  void Run();

 private:
  // Applies a mode change; on failure the loop's mode is left unchanged.
  absl::Status Apply(Mode mode);
  // Accepts pending connections (at most kAcceptBatch).
  void AcceptSome();
  // Starts the upstream connect of `conn`; false if it failed at once.
  bool StartUpstream(Conn& conn);
  // Handles poll results for `conn`, closing it when it is done or failed.
  void Service(Conn& conn, short client_revents, short upstream_revents);
  // Resets both sides of `conn`.
  void Abort(Conn& conn);
  // Resets every connection.
  void AbortAll();
  // Resets every connection and closes the listener and the placeholder.
  void CloseAll();

  FaultProxy* const proxy_;
  const Target target_;
  Mode mode_ = Mode::kPass;
  int listen_fd_ = -1;       // -1 in kRefuse
  int placeholder_fd_ = -1;  // in kRefuse: bound to the port, not listening
  std::vector<std::unique_ptr<Conn>> conns_;
};

void FaultProxy::Loop::Run() {
  // Polled descriptors: the eventfd, the listener (if open), then per
  // connection its client and upstream sockets when they wait for anything.
  std::vector<pollfd> fds;
  struct Polled {
    Conn* conn;
    int client_index;    // into fds, or -1
    int upstream_index;  // into fds, or -1
  };
  std::vector<Polled> polled;
  while (true) {
    int64_t ticket = 0;
    Mode requested = Mode::kPass;
    {
      absl::MutexLock lock(&proxy_->mu_);
      if (proxy_->stop_) break;
      if (proxy_->applied_ < proxy_->requested_) {
        ticket = proxy_->requested_;
        requested = proxy_->requested_mode_;
      }
    }
    if (ticket != 0) {
      absl::Status status = Apply(requested);
      absl::MutexLock lock(&proxy_->mu_);
      proxy_->applied_ = ticket;
      proxy_->apply_status_ = std::move(status);
      proxy_->mode_ = mode_;
    }

    fds.clear();
    polled.clear();
    fds.push_back({proxy_->wake_fd_, POLLIN, 0});
    const int listen_index = listen_fd_ >= 0 ? static_cast<int>(fds.size()) : -1;
    if (listen_fd_ >= 0) fds.push_back({listen_fd_, POLLIN, 0});
    if (mode_ == Mode::kPass) {  // in kStall nothing is polled: connections are frozen
      for (auto& conn : conns_) {
        if (conn->upstream < 0 && !StartUpstream(*conn)) {
          Abort(*conn);
          continue;
        }
        Polled p{conn.get(), -1, -1};
        short client_events = 0;
        short upstream_events = 0;
        if (conn->connecting) {
          upstream_events = POLLOUT;
        } else {
          if (conn->up.wants_read()) client_events |= POLLIN;
          if (conn->down.wants_write()) client_events |= POLLOUT;
          if (conn->down.wants_read()) upstream_events |= POLLIN;
          if (conn->up.wants_write()) upstream_events |= POLLOUT;
        }
        if (client_events != 0) {
          p.client_index = static_cast<int>(fds.size());
          fds.push_back({conn->client, client_events, 0});
        }
        if (upstream_events != 0) {
          p.upstream_index = static_cast<int>(fds.size());
          fds.push_back({conn->upstream, upstream_events, 0});
        }
        if (p.client_index >= 0 || p.upstream_index >= 0) polled.push_back(p);
      }
    }

    if (::poll(fds.data(), fds.size(), kPollTimeoutMs) < 0) {
      if (errno == EINTR) continue;
      break;  // cannot happen with valid arguments; stop rather than spin
    }
    if (fds[0].revents != 0) {
      uint64_t count;
      while (::read(proxy_->wake_fd_, &count, sizeof(count)) > 0) {
      }
    }
    if (listen_index >= 0 && fds[listen_index].revents != 0) AcceptSome();
    for (const Polled& p : polled) {
      const short client_revents = p.client_index >= 0 ? fds[p.client_index].revents : 0;
      const short upstream_revents = p.upstream_index >= 0 ? fds[p.upstream_index].revents : 0;
      if (client_revents != 0 || upstream_revents != 0) {
        Service(*p.conn, client_revents, upstream_revents);
      }
    }
    conns_.erase(std::remove_if(conns_.begin(), conns_.end(),
                                [](const std::unique_ptr<Conn>& c) { return c->client < 0; }),
                 conns_.end());
  }
  CloseAll();
  absl::MutexLock lock(&proxy_->mu_);
  proxy_->stopped_ = true;
}

absl::Status FaultProxy::Loop::Apply(Mode mode) {
  if (mode == Mode::kReset || mode == Mode::kRefuse) AbortAll();
  if (mode == Mode::kRefuse) {
    if (listen_fd_ >= 0) {
      // Reserve the port before closing the listener (SO_REUSEPORT lets them
      // overlap). Without the placeholder the refusal works all the same; the
      // port might only be taken by someone else before it is reopened.
      absl::StatusOr<int> placeholder = BindLoopback(proxy_->port_, /*listen=*/false);
      if (placeholder.ok()) placeholder_fd_ = *placeholder;
      ::close(listen_fd_);  // resets connections still in the accept queue
      listen_fd_ = -1;
    }
  } else if (listen_fd_ < 0) {
    absl::StatusOr<int> listener = BindLoopback(proxy_->port_, /*listen=*/true);
    if (!listener.ok()) return listener.status();
    listen_fd_ = *listener;
    if (placeholder_fd_ >= 0) ::close(placeholder_fd_);
    placeholder_fd_ = -1;
  }
  mode_ = mode;
  return absl::OkStatus();
}

void FaultProxy::Loop::AcceptSome() {
  for (int i = 0; i < kAcceptBatch; ++i) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: none left; anything else: try again next turn
    }
    proxy_->accepted_.fetch_add(1);
    if (mode_ == Mode::kReset || conns_.size() >= kMaxConnections) {
      ResetClose(fd);
      continue;
    }
    SetNoDelay(fd);
    conns_.push_back(std::make_unique<Conn>(fd));
    proxy_->active_.fetch_add(1);
  }
}

bool FaultProxy::Loop::StartUpstream(Conn& conn) {
  const int fd =
      ::socket(target_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return false;
  SetNoDelay(fd);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target_.addr), target_.len) == 0) {
    conn.connecting = false;
  } else if (errno == EINPROGRESS) {
    conn.connecting = true;
  } else {
    ::close(fd);
    return false;
  }
  conn.upstream = fd;
  return true;
}

void FaultProxy::Loop::Service(Conn& conn, short client_revents, short upstream_revents) {
  if (conn.connecting) {
    if (upstream_revents == 0) return;
    int err = 0;
    socklen_t len = sizeof(err);
    if (::getsockopt(conn.upstream, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      Abort(conn);  // the client sees a reset, as from a proxy whose backend is down
      return;
    }
    conn.connecting = false;
    return;  // the next turn polls both sides
  }
  if (((client_revents | upstream_revents) & (POLLERR | POLLNVAL)) != 0 ||
      !Pump(conn.client, conn.upstream, conn.up) || !Pump(conn.upstream, conn.client, conn.down)) {
    Abort(conn);
    return;
  }
  if (conn.up.shut && conn.down.shut) {  // both sides closed in order
    ::close(conn.client);
    ::close(conn.upstream);
    conn.client = conn.upstream = -1;
    proxy_->active_.fetch_sub(1);
  }
}

void FaultProxy::Loop::Abort(Conn& conn) {
  if (conn.client < 0) return;
  ResetClose(conn.client);
  ResetClose(conn.upstream);
  conn.client = conn.upstream = -1;
  proxy_->active_.fetch_sub(1);
}

void FaultProxy::Loop::AbortAll() {
  for (auto& conn : conns_) Abort(*conn);
  conns_.clear();
}

void FaultProxy::Loop::CloseAll() {
  AbortAll();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (placeholder_fd_ >= 0) ::close(placeholder_fd_);
  listen_fd_ = placeholder_fd_ = -1;
}

FaultProxy::FaultProxy(int port, int wake_fd) : port_(port), wake_fd_(wake_fd) {}

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(std::string target_host,
                                                              int target_port) {
  if (target_port < 1 || target_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("fault proxy: target port ", target_port, " is outside 1..65535"));
  }
  absl::StatusOr<Target> target = Resolve(target_host, target_port);
  if (!target.ok()) return target.status();
  absl::StatusOr<int> listener = BindLoopback(0, /*listen=*/true);
  if (!listener.ok()) return absl::InternalError(listener.status().message());
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(*listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(*listener);
    return absl::InternalError(absl::StrCat("fault proxy: getsockname: ", ErrnoText(err)));
  }
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    const int err = errno;
    ::close(*listener);
    return absl::InternalError(absl::StrCat("fault proxy: eventfd: ", ErrnoText(err)));
  }
  std::unique_ptr<FaultProxy> proxy(new FaultProxy(ntohs(addr.sin_port), wake_fd));
  proxy->loop_ = std::make_unique<Loop>(proxy.get(), *listener, *target);
  proxy->thread_ = std::thread([loop = proxy->loop_.get()] { loop->Run(); });
  return proxy;
}

FaultProxy::~FaultProxy() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  Wake();
  if (thread_.joinable()) thread_.join();
  loop_.reset();
  ::close(wake_fd_);
}

void FaultProxy::Wake() {
  const uint64_t one = 1;
  // Fails only when the counter is saturated, and then a wake-up is pending.
  (void)!::write(wake_fd_, &one, sizeof(one));
}

absl::Status FaultProxy::set_mode(Mode mode) {
  absl::MutexLock serial(&set_mode_mu_);
  absl::MutexLock lock(&mu_);
  if (stopped_) return absl::FailedPreconditionError("fault proxy: the proxy thread has stopped");
  const int64_t ticket = ++requested_;
  requested_mode_ = mode;
  Wake();
  auto done = [this, ticket]()
                  ABSL_SHARED_LOCKS_REQUIRED(mu_) { return applied_ >= ticket || stopped_; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&done), kApplyTimeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("fault proxy: the proxy thread did not apply the mode within ",
                     absl::FormatDuration(kApplyTimeout)));
  }
  if (applied_ < ticket) {
    return absl::FailedPreconditionError("fault proxy: the proxy thread has stopped");
  }
  return apply_status_;
}

FaultProxy::Mode FaultProxy::mode() const {
  absl::MutexLock lock(&mu_);
  return mode_;
}

}  // namespace testing
}  // namespace dbpool
