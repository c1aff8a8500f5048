// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A Prometheus metrics endpoint: builds a pool with histograms on, keeps a
// little background load on it (a few threads running SELECT 1), and serves
// GET /metrics on 127.0.0.1 with plain POSIX sockets, the body being
// RenderPrometheus(pool.stats(), "example"). Reads the server from
// DBPOOL_TEST_PG_*.
//
//   pg_metrics_endpoint [--port=N]   serve until killed (default port 9187;
//                                    --port=0 picks a free port and prints it)
//   pg_metrics_endpoint --self-test  serve on a free port, scrape itself twice
//                                    1 s apart, and exit 0 only if
//                                    dbpool_acquired_total grew and the
//                                    acquire-wait histogram is there
//
// Loopback only; every socket has a timeout, so nothing here can hang.
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "dbpool/metrics.h"
#include "dbpool/postgres.h"

namespace {

constexpr int kDefaultPort = 9187;
constexpr int kLoadThreads = 3;
constexpr int kConnections = 4;
constexpr char kPoolLabel[] = "example";
constexpr int kSocketTimeoutMs = 2000;

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

void SetTimeouts(int fd, int ms) {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

bool SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until `done(buffer)` holds, the peer closes, a timeout, or `limit`
// bytes.
template <typename Done>
std::string ReceiveUntil(int fd, size_t limit, Done done) {
  std::string buffer;
  char chunk[4096];
  while (buffer.size() < limit && !done(buffer)) {
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return buffer;
}

// Binds and listens on 127.0.0.1:`port` (0: a free port); returns the socket
// and sets `bound_port`, or -1.
int Listen(int port, int* bound_port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *bound_port = ntohs(addr.sin_port);
  return fd;
}

// Answers one HTTP request on `client`: the metrics for GET /metrics, 404 for
// other paths, 405 for other methods. HTTP/1.0: the connection is closed
// after the response.
void HandleClient(int client, const dbpool::PgPool& pool) {
  SetTimeouts(client, kSocketTimeoutMs);
  const std::string request = ReceiveUntil(client, 16 * 1024, [](const std::string& b) {
    return absl::StrContains(b, "\r\n\r\n") || absl::StrContains(b, "\n\n");
  });
  const absl::string_view line =
      absl::string_view(request).substr(0, request.find_first_of("\r\n"));
  const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
  std::string status = "200 OK";
  std::string type = "text/plain; version=0.0.4";
  std::string body;
  if (parts.size() < 2) {
    status = "400 Bad Request";
    type = "text/plain";
    body = "bad request\n";
  } else if (parts[0] != "GET") {
    status = "405 Method Not Allowed";
    type = "text/plain";
    body = "only GET\n";
  } else if (parts[1] != "/metrics") {
    status = "404 Not Found";
    type = "text/plain";
    body = "try /metrics\n";
  } else {
    body = dbpool::RenderPrometheus(pool.stats(), kPoolLabel);
  }
  SendAll(client,
          absl::StrCat("HTTP/1.0 ", status, "\r\nContent-Type: ", type,
                       "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body));
  ::shutdown(client, SHUT_WR);
}

// Accepts and answers connections on `listener` until `stop` is set; wakes up
// every 200 ms to look at it.
void Serve(int listener, const dbpool::PgPool& pool, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pollfd p{listener, POLLIN, 0};
    const int ready = ::poll(&p, 1, 200);
    if (ready <= 0) continue;
    Fd client(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    if (client.ok()) HandleClient(client.get(), pool);
  }
}

// A few threads running SELECT 1 through the pool until `stop` is set, with
// a short pause between queries so the load stays light.
class BackgroundLoad {
 public:
  BackgroundLoad(const dbpool::PgPool& pool, int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this, &pool] {
        while (!stop_.load()) {
          absl::StatusOr<dbpool::PgLease> lease = pool.acquire();
          if (lease.ok()) {
            PGresult* r = PQexec(lease->native(), "SELECT 1");
            absl::Status s = dbpool::PgStatus(r, lease->native());
            PQclear(r);
            if (!s.ok()) ++errors_;
          } else {
            ++errors_;
          }
          absl::SleepFor(absl::Milliseconds(5));
        }
      });
    }
  }
  ~BackgroundLoad() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int errors() const { return errors_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> errors_{0};
  std::vector<std::thread> threads_;
};

// GET http://127.0.0.1:`port``path`; returns the body of a 200 response.
// With `verbose`, prints the head of any other response.
std::optional<std::string> Fetch(int port, absl::string_view path, bool verbose = true) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.ok()) return std::nullopt;
  SetTimeouts(fd.get(), kSocketTimeoutMs);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return std::nullopt;
  }
  if (!SendAll(fd.get(), absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"))) {
    return std::nullopt;
  }
  const std::string response =
      ReceiveUntil(fd.get(), 4 * 1024 * 1024, [](const std::string&) { return false; });
  const size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  const absl::string_view head = absl::string_view(response).substr(0, head_end);
  if (!absl::StartsWith(head, "HTTP/1.0 200") ||
      !absl::StrContains(head, "Content-Type: text/plain; version=0.0.4")) {
    if (verbose) {
      std::fprintf(stderr, "unexpected response head:\n%s\n", std::string(head).c_str());
    }
    return std::nullopt;
  }
  return response.substr(head_end + 4);
}

// The value of the sample line starting with `series` + " ", if any.
std::optional<double> SampleValue(absl::string_view body, absl::string_view series) {
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (absl::ConsumePrefix(&line, series) && absl::ConsumePrefix(&line, " ")) {
      double v = 0;
      if (absl::SimpleAtod(line, &v)) return v;
    }
  }
  return std::nullopt;
}

int SelfTest(const dbpool::PgPool& pool, const BackgroundLoad& load) {
  int port = 0;
  Fd listener(Listen(0, &port));
  if (!listener.ok()) {
    std::perror("listen");
    return 1;
  }
  std::printf("self-test: serving http://127.0.0.1:%d/metrics\n", port);
  std::atomic<bool> stop{false};
  std::thread server([&] { Serve(listener.get(), pool, stop); });

  const std::string series = absl::StrCat("dbpool_acquired_total{pool=\"", kPoolLabel, "\"}");
  absl::SleepFor(absl::Milliseconds(200));  // let the load get going
  const std::optional<std::string> first = Fetch(port, "/metrics");
  absl::SleepFor(absl::Seconds(1));
  const std::optional<std::string> second = Fetch(port, "/metrics");
  const std::optional<std::string> missing = Fetch(port, "/nope", false);  // a 404
  stop = true;
  server.join();

  bool ok = true;
  if (!first || !second) {
    std::fprintf(stderr, "self-test: could not fetch /metrics\n");
    return 1;
  }
  const std::optional<double> a = SampleValue(*first, series);
  const std::optional<double> b = SampleValue(*second, series);
  if (!a || !b) {
    std::fprintf(stderr, "self-test: no %s sample\n", series.c_str());
    ok = false;
  } else {
    std::printf("self-test: %s %.0f -> %.0f\n", series.c_str(), *a, *b);
    if (!(*b > *a)) {
      std::fprintf(stderr, "self-test: dbpool_acquired_total did not grow\n");
      ok = false;
    }
  }
  if (!absl::StrContains(*second, "\ndbpool_acquire_wait_seconds_bucket{")) {
    std::fprintf(stderr, "self-test: no dbpool_acquire_wait_seconds_bucket line\n");
    ok = false;
  }
  if (missing) {
    std::fprintf(stderr, "self-test: /nope answered 200\n");
    ok = false;
  }
  if (load.errors() > 0) {
    std::fprintf(stderr, "self-test: %d background queries failed\n", load.errors());
    ok = false;
  }
  std::printf("self-test: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int port = kDefaultPort;
  bool self_test = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--self-test") {
      self_test = true;
    } else if (absl::ConsumePrefix(&arg, "--port=") && absl::SimpleAtoi(arg, &port) && port >= 0 &&
               port <= 65535) {
    } else {
      std::fprintf(stderr, "usage: %s [--port=N] [--self-test]\n", argv[0]);
      return 2;
    }
  }

  absl::StatusOr<dbpool::PgPool> pool =
      dbpool::PgPool::Builder()
          .name("metrics_endpoint")
          .endpoint(EnvOr("DBPOOL_TEST_PG_HOST", "127.0.0.1"),
                    std::atoi(EnvOr("DBPOOL_TEST_PG_PORT", "5432").c_str()))
          .database(EnvOr("DBPOOL_TEST_PG_DB", "postgres"))
          .user(EnvOr("DBPOOL_TEST_PG_USER", "postgres"))
          .password(EnvOr("DBPOOL_TEST_PG_PASSWORD", ""))
          .max_size(kConnections)
          .acquire_timeout(absl::Seconds(5))
          .connect_timeout(absl::Seconds(5))
          .histograms(true)
          .build();
  if (!pool.ok()) {
    std::fprintf(stderr, "build: %s\n", pool.status().ToString().c_str());
    return 1;
  }

  BackgroundLoad load(*pool, kLoadThreads);
  if (self_test) {
    const int rc = SelfTest(*pool, load);
    load.Stop();
    return rc;
  }

  int bound = 0;
  Fd listener(Listen(port, &bound));
  if (!listener.ok()) {
    std::fprintf(stderr, "listen on 127.0.0.1:%d: %s\n", port, std::strerror(errno));
    return 1;
  }
  std::printf("serving http://127.0.0.1:%d/metrics (Ctrl-C to stop)\n", bound);
  std::fflush(stdout);
  std::atomic<bool> stop{false};  // never set: runs until killed
  Serve(listener.get(), *pool, stop);
  return 0;
}
