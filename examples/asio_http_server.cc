// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A small HTTP/1.1 server with one query per request, in two builds of the
// same request handling:
//
//   --mode async (default)  ONE thread running one asio::io_context: an
//                           accept loop and a C++20 coroutine per
//                           connection, which co_awaits
//                           dbpool::async_acquire() and dbpool::async_query()
//                           (dbpool/asio.h, dbpool/asio_postgres.h);
//   --mode threads          thread-per-request: --threads worker threads
//                           (default 64) take the next readable connection
//                           from one epoll set, read its request, block in
//                           pool.acquire() and PQexecParams(), write the
//                           answer and hand the connection back.
//
// Either way the requests share one dbpool::PgPool of --max-size
// connections (default 8).
//
//   GET /double/N[?sleep_ms=K]
//       runs SELECT $1::bigint * 2 (with K: FROM pg_sleep($2::float8 / 1000),
//       a server-side delay of K ms, 0..60000) and answers 200 with the body
//       "N*2=<value>\n"; a failed acquire or query answers 503 with the
//       status. N is an integer with |N| < 2^62 (so 2N fits a bigint).
//   Anything else: 404 (unknown path), 405 (not GET), 400 and close (a
//   malformed request, a body, a head over 8 KiB).
//
// Connections are kept alive (HTTP/1.1's default; "Connection: close" and
// HTTP/1.0 close after the answer). Nothing is printed per request.
//
// Flags: --mode async|threads, --threads N (1..4096), --port P (0: any free
// port), --max-size N (1..10000), --dsn DSN (else the server in
// DBPOOL_TEST_PG_HOST/_PORT/_DB/_USER/_PASSWORD, as scripts/servers.sh's env
// file sets them). Prints "listening on 127.0.0.1:P" once ready. SIGINT or
// SIGTERM stops it (exit status 0): it stops accepting and closes the
// connections; a request in flight finishes its query first.
//
// tests/http/run.sh drives both modes with wrk and checks every answer;
// scripts/bench_http.sh measures one against the other (docs/async.md).
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dbpool/asio.h"
#include "dbpool/asio_postgres.h"
#include "dbpool/postgres.h"

namespace {

// ---------------------------------------------------------------- HTTP

constexpr size_t kMaxHead = 8192;  // request line + headers

struct Request {
  std::string method;
  std::string target;
  bool keep_alive = true;
};

enum class ParseResult { kIncomplete, kOk, kBad };

// Parses one request head at the start of `in`: the request line and the
// headers up to the blank line. On kOk, *used is the head's length. A
// request with a body (Content-Length other than 0, Transfer-Encoding) is
// bad: no endpoint takes one.
ParseResult ParseRequest(absl::string_view in, Request* req, size_t* used) {
  const size_t end = in.find("\r\n\r\n");
  if (end == absl::string_view::npos) {
    return in.size() > kMaxHead ? ParseResult::kBad : ParseResult::kIncomplete;
  }
  if (end > kMaxHead) return ParseResult::kBad;
  *used = end + 4;
  absl::string_view head = in.substr(0, end);
  const size_t eol = head.find("\r\n");
  const absl::string_view line = head.substr(0, eol);
  head = eol == absl::string_view::npos ? absl::string_view() : head.substr(eol + 2);

  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == absl::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == absl::string_view::npos || line.find(' ', sp2 + 1) != absl::string_view::npos) {
    return ParseResult::kBad;
  }
  const absl::string_view method = line.substr(0, sp1);
  const absl::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const absl::string_view version = line.substr(sp2 + 1);
  if (method.empty() || target.empty() || target[0] != '/') return ParseResult::kBad;
  for (char c : method) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c))) return ParseResult::kBad;
  }
  if (version == "HTTP/1.1") {
    req->keep_alive = true;
  } else if (version == "HTTP/1.0") {
    req->keep_alive = false;
  } else {
    return ParseResult::kBad;
  }
  req->method = std::string(method);
  req->target = std::string(target);

  while (!head.empty()) {
    const size_t next = head.find("\r\n");
    const absl::string_view header = head.substr(0, next);
    head = next == absl::string_view::npos ? absl::string_view() : head.substr(next + 2);
    const size_t colon = header.find(':');
    if (colon == 0 || colon == absl::string_view::npos) return ParseResult::kBad;
    const absl::string_view name = header.substr(0, colon);
    if (name.find_first_of(" \t") != absl::string_view::npos) return ParseResult::kBad;
    const absl::string_view value = absl::StripAsciiWhitespace(header.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "connection")) {
      const std::string tokens = absl::AsciiStrToLower(value);
      if (absl::StrContains(tokens, "close")) req->keep_alive = false;
      if (absl::StrContains(tokens, "keep-alive")) req->keep_alive = true;
    } else if (absl::EqualsIgnoreCase(name, "content-length")) {
      if (value != "0") return ParseResult::kBad;
    } else if (absl::EqualsIgnoreCase(name, "transfer-encoding")) {
      return ParseResult::kBad;
    }
  }
  return ParseResult::kOk;
}

struct Response {
  int status = 200;
  std::string body;
  bool close = false;  // close the connection after it
};

std::string Serialize(const Response& r) {
  const char* reason = "Internal Server Error";
  switch (r.status) {
    case 200:
      reason = "OK";
      break;
    case 400:
      reason = "Bad Request";
      break;
    case 404:
      reason = "Not Found";
      break;
    case 405:
      reason = "Method Not Allowed";
      break;
    case 503:
      reason = "Service Unavailable";
      break;
    default:
      break;
  }
  return absl::StrCat("HTTP/1.1 ", r.status, " ", reason,
                      "\r\nContent-Type: text/plain\r\nContent-Length: ", r.body.size(),
                      r.close ? "\r\nConnection: close" : "", "\r\n\r\n", r.body);
}

Response BadRequest() { return Response{400, "bad request\n", true}; }

// ---------------------------------------------------------------- the endpoint

// What GET /double/N?sleep_ms=K asks the database.
struct DoubleQuery {
  int64_t n = 0;
  std::optional<int> sleep_ms;

  std::string Sql() const {
    return sleep_ms.has_value() ? "SELECT $1::bigint * 2 FROM pg_sleep($2::float8 / 1000)"
                                : "SELECT $1::bigint * 2";
  }
  std::vector<std::optional<std::string>> Params() const {
    std::vector<std::optional<std::string>> params{std::to_string(n)};
    if (sleep_ms.has_value()) params.emplace_back(std::to_string(*sleep_ms));
    return params;
  }
};

// A request either answered at once or needing a DoubleQuery.
using Route = std::variant<Response, DoubleQuery>;

Route RouteRequest(const Request& req) {
  if (req.method != "GET") return Response{405, "only GET\n", !req.keep_alive};
  absl::string_view target = req.target;
  absl::string_view query;
  if (const size_t q = target.find('?'); q != absl::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  constexpr absl::string_view kPrefix = "/double/";
  if (!absl::StartsWith(target, kPrefix)) return Response{404, "not found\n", !req.keep_alive};
  DoubleQuery dq;
  constexpr int64_t kMaxN = (int64_t{1} << 62) - 1;  // 2N fits in a bigint
  if (!absl::SimpleAtoi(target.substr(kPrefix.size()), &dq.n) || dq.n > kMaxN || dq.n < -kMaxN) {
    return BadRequest();
  }
  if (!query.empty()) {
    constexpr absl::string_view kSleep = "sleep_ms=";
    int ms = 0;
    if (!absl::StartsWith(query, kSleep) || !absl::SimpleAtoi(query.substr(kSleep.size()), &ms) ||
        ms < 0 || ms > 60000) {
      return BadRequest();
    }
    dq.sleep_ms = ms;
  }
  return dq;
}

// The answer to `dq`, given the query's result (or why there is none).
Response Answer(const DoubleQuery& dq, const absl::StatusOr<const PGresult*>& result,
                bool keep_alive) {
  if (!result.ok())
    return Response{503, absl::StrCat(result.status().ToString(), "\n"), !keep_alive};
  const PGresult* r = *result;
  if (PQntuples(r) != 1 || PQnfields(r) != 1 || PQgetisnull(r, 0, 0)) {
    return Response{503, "unexpected result shape\n", !keep_alive};
  }
  return Response{200, absl::StrCat(dq.n, "*2=", PQgetvalue(r, 0, 0), "\n"), !keep_alive};
}

// ---------------------------------------------------------------- async mode

using asio::ip::tcp;

// The sessions alive, so that a stop can close their sockets: each session
// then ends at its next wait on the socket, a request in flight after its
// query (its answer is not sent). Used on the io_context's thread only.
class LiveSessions {
 public:
  void Add(tcp::socket* socket) { live_.insert(socket); }
  void Remove(tcp::socket* socket) {
    live_.erase(socket);
    if (live_.empty() && deadline_.has_value()) deadline_->cancel();
  }
  // Closes every session's socket. If some session still runs after
  // `grace`, stops the io_context: what is still pending is destroyed with
  // it (dbpool/asio.h and dbpool/asio_postgres.h give its leases back).
  void Stop(asio::io_context& io, std::chrono::seconds grace) {
    stopping_ = true;
    for (tcp::socket* socket : live_) {
      asio::error_code ignored;
      socket->close(ignored);
    }
    if (live_.empty()) return;
    deadline_.emplace(io, grace);
    deadline_->async_wait([&io](const asio::error_code& error) {
      if (!error) io.stop();
    });
  }
  bool stopping() const { return stopping_; }
  // Before the io_context goes: the timer must not outlive it.
  void Release() { deadline_.reset(); }

 private:
  std::unordered_set<tcp::socket*> live_;
  std::optional<asio::steady_timer> deadline_;
  bool stopping_ = false;
};

// Keeps a session in LiveSessions for the life of its coroutine frame.
class LiveSession {
 public:
  LiveSession(LiveSessions& live, tcp::socket* socket) : live_(live), socket_(socket) {
    live_.Add(socket_);
  }
  LiveSession(const LiveSession&) = delete;
  LiveSession& operator=(const LiveSession&) = delete;
  ~LiveSession() { live_.Remove(socket_); }

 private:
  LiveSessions& live_;
  tcp::socket* const socket_;
};

// Appends what the (non-blocking) socket holds to `in`, through one buffer
// per thread: a connection waiting for its next request holds no read
// buffer, only its coroutine frame. (Not inside the coroutine: Clang 14
// miscompiles a thread_local there.)
void ReadAvailable(tcp::socket& socket, std::string& in, asio::error_code& ec) {
  static thread_local char scratch[4096];
  const size_t n = socket.read_some(asio::buffer(scratch), ec);
  if (!ec) in.append(scratch, n);
}

asio::awaitable<void> Session(tcp::socket socket, const dbpool::PgPool& pool, LiveSessions& live) {
  if (live.stopping()) co_return;  // accepted just before the stop
  const LiveSession registered(live, &socket);
  // Waits for the socket to be readable, then reads what is there.
  asio::error_code ec;
  socket.non_blocking(true, ec);
  if (ec) co_return;
  std::string in;
  for (;;) {
    Request req;
    size_t used = 0;
    ParseResult parsed;
    while ((parsed = ParseRequest(in, &req, &used)) == ParseResult::kIncomplete) {
      co_await socket.async_wait(tcp::socket::wait_read,
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;  // shutting down
      ReadAvailable(socket, in, ec);
      if (ec == asio::error::would_block) continue;
      if (ec) co_return;  // closed by the client (eof included)
    }
    Response response;
    if (parsed == ParseResult::kBad) {
      response = BadRequest();
    } else {
      in.erase(0, used);
      if (in.empty()) std::string().swap(in);  // nothing kept between requests
      Route route = RouteRequest(req);
      if (auto* dq = std::get_if<DoubleQuery>(&route)) {
        // The lease lives in this block only: the connection goes back to the
        // pool before the answer is written.
        absl::StatusOr<dbpool::PgLease> lease =
            co_await dbpool::async_acquire(pool, asio::use_awaitable);
        if (!lease.ok()) {
          response = Answer(*dq, lease.status(), req.keep_alive);
        } else {
          absl::StatusOr<dbpool::PgResultPtr> result =
              co_await dbpool::async_query(*lease, dq->Sql(), dq->Params(), asio::use_awaitable);
          response = result.ok() ? Answer(*dq, result->get(), req.keep_alive)
                                 : Answer(*dq, result.status(), req.keep_alive);
        }
      } else {
        response = std::get<Response>(std::move(route));
      }
    }
    co_await asio::async_write(socket, asio::buffer(Serialize(response)),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec || response.close) co_return;
  }
}

asio::awaitable<void> AcceptLoop(tcp::acceptor& acceptor, const dbpool::PgPool& pool,
                                 LiveSessions& live) {
  for (;;) {
    asio::error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors, say: pause instead of spinning.
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(10));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acceptor.get_executor(), Session(std::move(socket), pool, live), asio::detached);
  }
}

int RunAsync(const dbpool::PgPool& pool, int port) {
  LiveSessions live;  // outlives the io_context: frames it destroys leave it
  asio::io_context io(1);
  tcp::acceptor acceptor(io);
  asio::error_code ec;
  const tcp::endpoint at(asio::ip::make_address_v4("127.0.0.1"), static_cast<uint16_t>(port));
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "listen on 127.0.0.1:%d: %s\n", port, ec.message().c_str());
    return 1;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& error, int) {
    if (error) return;
    acceptor.close();
    live.Stop(io, std::chrono::seconds(5));
  });
  asio::co_spawn(io, AcceptLoop(acceptor, pool, live), asio::detached);
  std::printf("listening on 127.0.0.1:%d\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  io.run();  // until every session has ended (or the grace period)
  live.Release();
  return 0;
}

// ---------------------------------------------------------------- threads mode

// Serves one DoubleQuery on the calling thread, blocking.
Response ServeBlocking(const dbpool::PgPool& pool, const DoubleQuery& dq, bool keep_alive) {
  absl::StatusOr<dbpool::PgLease> lease = pool.acquire();
  if (!lease.ok()) return Answer(dq, lease.status(), keep_alive);
  const std::vector<std::optional<std::string>> params = dq.Params();
  std::vector<const char*> values;
  for (const std::optional<std::string>& p : params) values.push_back(p->c_str());
  dbpool::PgResultPtr result(PQexecParams(lease->native(), dq.Sql().c_str(),
                                          static_cast<int>(values.size()), nullptr, values.data(),
                                          nullptr, nullptr, 0));
  const absl::Status status = dbpool::PgStatus(result.get(), lease->native());
  if (!status.ok()) return Answer(dq, status, keep_alive);
  return Answer(dq, result.get(), keep_alive);
}

// Writes all of `data` to the non-blocking socket `fd`, waiting for it to
// drain when full. False when the connection failed.
bool WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 10000) <= 0) return false;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

class ThreadedServer {
 public:
  ThreadedServer(const dbpool::PgPool& pool, int threads) : pool_(pool), threads_(threads) {}

  ~ThreadedServer() {
    for (auto& [conn, owned] : conns_) ::close(conn->fd);
    if (epoll_ >= 0) ::close(epoll_);
    if (wake_ >= 0) ::close(wake_);
    if (listen_ >= 0) ::close(listen_);
  }

  // Listens on 127.0.0.1:port; false (with a message) on failure.
  bool Listen(int port) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    at.sin_port = htons(static_cast<uint16_t>(port));
    socklen_t len = sizeof at;
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (listen_ < 0 || epoll_ < 0 || wake_ < 0 ||
        ::setsockopt(listen_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::bind(listen_, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
        ::listen(listen_, SOMAXCONN) != 0 ||
        ::getsockname(listen_, reinterpret_cast<sockaddr*>(&at), &len) != 0) {
      std::fprintf(stderr, "listen on 127.0.0.1:%d: %s\n", port, std::strerror(errno));
      return false;
    }
    port_ = ntohs(at.sin_port);
    epoll_event wake{};
    wake.events = EPOLLIN;  // level-triggered: wakes every worker once written
    wake.data.ptr = &wake_;
    epoll_event listen{};
    listen.events = EPOLLIN | EPOLLONESHOT;
    listen.data.ptr = &listen_;
    return ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &wake) == 0 &&
           ::epoll_ctl(epoll_, EPOLL_CTL_ADD, listen_, &listen) == 0;
  }

  int port() const { return port_; }

  // Runs the workers until SIGINT or SIGTERM (which the caller has blocked
  // in every thread).
  void Run(const sigset_t& stop_signals) {
    std::vector<std::thread> workers;
    for (int i = 0; i < threads_; ++i) workers.emplace_back([this] { Work(); });
    int signal = 0;
    sigwait(&stop_signals, &signal);
    stopping_ = true;
    const uint64_t one = 1;
    if (::write(wake_, &one, sizeof one) < 0) {
      // The workers see stopping_ at their next timeout.
    }
    for (std::thread& t : workers) t.join();
  }

 private:
  struct Conn {
    int fd = -1;
    // Held while a worker serves the connection. EPOLLONESHOT already hands
    // it to one worker at a time; the lock also states that hand-over to
    // ThreadSanitizer, which does not see one through epoll_ctl(MOD).
    std::mutex mu;
    std::string in;  // guarded by mu
  };

  void Work() {
    while (!stopping_) {
      epoll_event ev{};
      const int n = ::epoll_wait(epoll_, &ev, 1, 200);
      if (n <= 0) continue;  // timeout or EINTR: check stopping_
      if (ev.data.ptr == &wake_) return;
      if (ev.data.ptr == &listen_) {
        AcceptAll();
        continue;
      }
      Serve(static_cast<Conn*>(ev.data.ptr));
    }
  }

  void AcceptAll() {
    for (;;) {
      const int fd = ::accept4(listen_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) break;  // EAGAIN: all taken (or EMFILE: retried on the next event)
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto conn = std::make_unique<Conn>();
      conn->fd = fd;
      Conn* raw = conn.get();
      {
        std::lock_guard<std::mutex> lock(mu_);
        conns_.emplace(raw, std::move(conn));
      }
      if (!Arm(raw, EPOLL_CTL_ADD)) Close(raw);
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.ptr = &listen_;
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, listen_, &ev);
  }

  // Puts the connection (back) into the epoll set for its next request.
  bool Arm(Conn* conn, int op) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.ptr = conn;
    return ::epoll_ctl(epoll_, op, conn->fd, &ev) == 0;
  }

  void Close(Conn* conn) {
    ::close(conn->fd);
    std::lock_guard<std::mutex> lock(mu_);
    conns_.erase(conn);
  }

  // One readable connection: answers every complete request that arrived,
  // then hands the connection back to the epoll set (or closes it).
  void Serve(Conn* conn) {
    bool keep = false;
    {
      // Re-armed under the lock: the next worker to take the connection
      // waits for this one to let go of it.
      std::lock_guard<std::mutex> lock(conn->mu);
      keep = ServeLocked(conn) && Arm(conn, EPOLL_CTL_MOD);
    }
    if (!keep) Close(conn);  // in no epoll set: no other worker has it
  }

  // Reads what arrived and answers each complete request in it (blocking on
  // the pool and the database). False when the connection is to be closed.
  bool ServeLocked(Conn* conn) {
    bool eof = false;
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::recv(conn->fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        conn->in.append(chunk, static_cast<size_t>(n));
        if (conn->in.size() > 2 * kMaxHead) break;  // the parser rejects it
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      eof = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
      break;
    }
    for (;;) {
      Request req;
      size_t used = 0;
      const ParseResult parsed = ParseRequest(conn->in, &req, &used);
      if (parsed == ParseResult::kIncomplete) break;
      Response response;
      if (parsed == ParseResult::kBad) {
        response = BadRequest();
      } else {
        conn->in.erase(0, used);
        Route route = RouteRequest(req);
        if (auto* dq = std::get_if<DoubleQuery>(&route)) {
          response = ServeBlocking(pool_, *dq, req.keep_alive);
        } else {
          response = std::get<Response>(std::move(route));
        }
      }
      if (!WriteAll(conn->fd, Serialize(response)) || response.close) return false;
    }
    return !eof;
  }

  const dbpool::PgPool& pool_;
  const int threads_;
  int listen_ = -1;
  int epoll_ = -1;
  int wake_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;  // guarded by mu_
};

// ---------------------------------------------------------------- main

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

int Usage(const char* why) {
  std::fprintf(stderr,
               "%s\nusage: asio_http_server [--mode async|threads] [--threads N] [--port P] "
               "[--max-size N] [--dsn DSN]\n",
               why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "async";
  std::string dsn;
  int threads = 64, port = 0, max_size = 8;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view flag = argv[i];
    if (i + 1 >= argc) return Usage(absl::StrCat("missing a value after ", flag).c_str());
    const char* value = argv[++i];
    bool ok = true;
    if (flag == "--mode") {
      mode = value;
      ok = mode == "async" || mode == "threads";
    } else if (flag == "--threads") {
      ok = absl::SimpleAtoi(value, &threads) && threads >= 1 && threads <= 4096;
    } else if (flag == "--port") {
      ok = absl::SimpleAtoi(value, &port) && port >= 0 && port <= 65535;
    } else if (flag == "--max-size") {
      ok = absl::SimpleAtoi(value, &max_size) && max_size >= 1 && max_size <= 10000;
    } else if (flag == "--dsn") {
      dsn = value;
    } else {
      return Usage(absl::StrCat("unknown flag ", flag).c_str());
    }
    if (!ok) {
      return Usage(absl::StrCat("bad value for ", flag,
                                " (--mode: async or threads; --threads: 1..4096; --port: "
                                "0..65535; --max-size: 1..10000)")
                       .c_str());
    }
  }

  std::signal(SIGPIPE, SIG_IGN);
  // Blocked in every thread (the pool's included, started below): async mode
  // takes them through asio::signal_set, threads mode through sigwait().
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (mode == "threads") pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  dbpool::PgPool::Builder builder;
  builder.name("http_server")
      .option("application_name", "dbpool_http_server")
      .max_size(max_size)
      .min_idle(max_size)
      .acquire_timeout(absl::Seconds(10));
  if (!dsn.empty()) {
    builder.dsn(dsn);
  } else {
    builder
        .endpoint(EnvOr("DBPOOL_TEST_PG_HOST", "127.0.0.1"),
                  std::atoi(EnvOr("DBPOOL_TEST_PG_PORT", "5432").c_str()))
        .database(EnvOr("DBPOOL_TEST_PG_DB", "postgres"))
        .user(EnvOr("DBPOOL_TEST_PG_USER", "postgres"))
        .password(EnvOr("DBPOOL_TEST_PG_PASSWORD", ""));
  }
  absl::StatusOr<dbpool::PgPool> pool = builder.build();
  if (!pool.ok()) {
    std::fprintf(stderr, "pool: %s\n", pool.status().ToString().c_str());
    return 1;
  }
  if (absl::Status warm = pool->warm_up(); !warm.ok()) {
    std::fprintf(stderr, "pool: %s\n", warm.ToString().c_str());
    return 1;
  }

  if (mode == "async") return RunAsync(*pool, port);
  ThreadedServer server(*pool, threads);
  if (!server.Listen(port)) return 1;
  std::printf("listening on 127.0.0.1:%d\n", server.port());
  std::fflush(stdout);
  server.Run(stop_signals);
  return 0;
}
