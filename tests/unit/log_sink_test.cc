// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The log sink: quiet by default, lines at the chosen level, never a secret,
// and the user's own listener still called.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "await.h"
#include "dbpool/log.h"
#include "fake_driver.h"

namespace dbpool {
namespace testing {
namespace {

struct Lines {
  absl::Mutex mu;
  std::vector<std::pair<LogLevel, std::string>> lines ABSL_GUARDED_BY(mu);
  LogSink sink() {
    return [this](LogLevel level, absl::string_view line) {
      absl::MutexLock lock(&mu);
      lines.emplace_back(level, std::string(line));
    };
  }
  bool Has(absl::string_view part) {
    absl::MutexLock lock(&mu);
    for (const auto& [level, line] : lines) {
      if (line.find(std::string(part)) != std::string::npos) return true;
    }
    return false;
  }
  size_t size() {
    absl::MutexLock lock(&mu);
    return lines.size();
  }
};

TEST_CASE("the log sink reports failed connects at warning, without the password", "[log]") {
  auto server = FakeServer::Create();
  server->set_connect_error(absl::UnavailableError("fake: refused"));
  Lines lines;
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .name("orders")
                  .password("hunter2-secret")
                  .acquire_timeout(absl::Milliseconds(200))
                  .log_sink(lines.sink())
                  .build();
  REQUIRE(pool.ok());
  CHECK_FALSE(pool->acquire().ok());
  REQUIRE(Await([&] { return lines.Has("connect to fake:1 failed"); }));
  CHECK(lines.Has("dbpool[orders]: "));
  CHECK_FALSE(lines.Has("hunter2-secret"));
  absl::MutexLock lock(&lines.mu);
  for (const auto& [level, line] : lines.lines) CHECK(level >= LogLevel::kWarning);
}

TEST_CASE("info lines tell of opened connections; debug ones of every acquire", "[log]") {
  auto server = FakeServer::Create();
  Lines info;
  Lines debug;
  auto quiet_above_info =
      FakePool::Builder().dsn(server->dsn()).log_sink(info.sink(), LogLevel::kInfo).build();
  auto verbose =
      FakePool::Builder().dsn(server->dsn()).log_sink(debug.sink(), LogLevel::kDebug).build();
  REQUIRE(quiet_above_info.ok());
  REQUIRE(verbose.ok());
  REQUIRE(quiet_above_info->acquire().ok());
  REQUIRE(verbose->acquire().ok());
  CHECK(info.Has("connected to fake:1"));
  CHECK_FALSE(info.Has("acquired"));
  CHECK(debug.Has("acquired a connection"));
  CHECK(debug.Has("released a connection"));
}

TEST_CASE("a log sink and a listener both hear events", "[log]") {
  struct Counter : PoolListener {
    std::atomic<int> acquires{0};
    void on_acquire(const AcquireEvent&) override { ++acquires; }
  };
  auto server = FakeServer::Create();
  auto counter = std::make_shared<Counter>();
  Lines lines;
  auto pool = FakePool::Builder()
                  .dsn(server->dsn())
                  .listener(counter)
                  .log_sink(lines.sink(), LogLevel::kDebug)
                  .build();
  REQUIRE(pool.ok());
  REQUIRE(pool->acquire().ok());
  CHECK(counter->acquires == 1);
  CHECK(lines.Has("acquired"));
}

TEST_CASE("without a log sink nothing is logged", "[log]") {
  // The default: no sink, so no listener either; the pool works as usual.
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).build();
  REQUIRE(pool.ok());
  CHECK_FALSE(pool->options().log_sink);
  CHECK(pool->options().listener == nullptr);
  CHECK(pool->acquire().ok());
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
