// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Builder::build() validation: every out-of-range knob gives kInvalidArgument
// naming the knob and its allowed range; valid settings build.
#include <catch2/catch.hpp>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "fake_driver.h"

namespace dbpool {
namespace {

using testing::FakePool;
using testing::FakeServer;
using Builder = FakePool::Builder;

struct BadKnob {
  std::string what;                   // the case, for the report
  std::function<void(Builder&)> set;  // applies the bad value
  std::vector<std::string> expected;  // substrings the message must hold
};

// Builds with `set` applied to an otherwise valid builder.
absl::Status BuildWith(const FakeServer& server, const std::function<void(Builder&)>& set) {
  Builder b;
  b.dsn(server.dsn()).max_size(4);
  set(b);
  return b.build().status();
}

void CheckRejected(const FakeServer& server, const std::vector<BadKnob>& cases) {
  for (const BadKnob& c : cases) {
    DYNAMIC_SECTION(c.what) {
      const absl::Status status = BuildWith(server, c.set);
      INFO("status: " << status.ToString());
      CHECK(status.code() == absl::StatusCode::kInvalidArgument);
      for (const std::string& part : c.expected) {
        INFO("expected in message: \"" << part << "\"");
        CHECK(absl::StrContains(status.message(), part));
      }
    }
  }
}

TEST_CASE("pool size knobs out of range are rejected naming the knob and its range", "[builder]") {
  auto server = FakeServer::Create();
  const std::vector<BadKnob> cases = {
      {"max_size 0", [](Builder& b) { b.max_size(0); }, {"max_size", "is 0", "1..10000"}},
      {"max_size -1", [](Builder& b) { b.max_size(-1); }, {"max_size", "1..10000"}},
      {"max_size 10001",
       [](Builder& b) { b.max_size(10001); },
       {"max_size", "is 10001", "1..10000"}},
      {"min_idle above max_size",
       [](Builder& b) { b.max_size(4).min_idle(5); },
       {"min_idle", "is 5", "0..4"}},
      {"min_idle negative", [](Builder& b) { b.min_idle(-1); }, {"min_idle", "0..4"}},
      {"empty name", [](Builder& b) { b.name(""); }, {"name"}},
  };
  CheckRejected(*server, cases);
}

TEST_CASE("duration knobs out of range are rejected naming the knob and its range", "[builder]") {
  auto server = FakeServer::Create();
  const absl::Duration minus = -absl::Seconds(1);
  const std::vector<BadKnob> cases = {
      {"acquire_timeout negative",
       [=](Builder& b) { b.acquire_timeout(minus); },
       {"acquire_timeout", "-1s", "0..24h"}},
      {"acquire_timeout above 24h",
       [](Builder& b) { b.acquire_timeout(absl::Hours(25)); },
       {"acquire_timeout", "0..24h"}},
      {"connect_timeout 1ms",
       [](Builder& b) { b.connect_timeout(absl::Milliseconds(1)); },
       {"connect_timeout", "1ms", "10ms..1h"}},
      {"connect_timeout negative",
       [=](Builder& b) { b.connect_timeout(minus); },
       {"connect_timeout", "10ms..1h"}},
      {"connect_timeout zero",
       [](Builder& b) { b.connect_timeout(absl::ZeroDuration()); },
       {"connect_timeout", "10ms..1h"}},
      {"idle_timeout 5ms",
       [](Builder& b) { b.idle_timeout(absl::Milliseconds(5)); },
       {"idle_timeout", "5ms", "0 (disabled), or 10ms.."}},
      {"idle_timeout negative",
       [=](Builder& b) { b.idle_timeout(minus); },
       {"idle_timeout", "0 (disabled), or 10ms.."}},
      {"idle_timeout above 7 days",
       [](Builder& b) { b.idle_timeout(absl::Hours(24 * 7 + 1)); },
       {"idle_timeout", "..168h"}},
      {"max_lifetime 5ms",
       [](Builder& b) { b.max_lifetime(absl::Milliseconds(5)); },
       {"max_lifetime", "5ms", "0 (disabled), or 10ms.."}},
      {"max_lifetime negative",
       [=](Builder& b) { b.max_lifetime(minus); },
       {"max_lifetime", "0 (disabled), or 10ms.."}},
      {"validation_window negative",
       [=](Builder& b) { b.validation_window(minus); },
       {"validation_window", "0..1h"}},
      {"validation_window above 1h",
       [](Builder& b) { b.validation_window(absl::Minutes(61)); },
       {"validation_window", "0..1h"}},
      {"validation_timeout 1ms",
       [](Builder& b) { b.validation_timeout(absl::Milliseconds(1)); },
       {"validation_timeout", "10ms..1h"}},
      {"validation_timeout negative",
       [=](Builder& b) { b.validation_timeout(minus); },
       {"validation_timeout", "10ms..1h"}},
      {"keepalive_interval 5ms",
       [](Builder& b) { b.keepalive_interval(absl::Milliseconds(5)); },
       {"keepalive_interval", "0 (disabled), or 10ms..24h"}},
      {"keepalive_interval negative",
       [=](Builder& b) { b.keepalive_interval(minus); },
       {"keepalive_interval", "0 (disabled), or 10ms..24h"}},
  };
  CheckRejected(*server, cases);
}

TEST_CASE("failover policy knobs out of range are rejected naming the knob and its range",
          "[builder]") {
  auto server = FakeServer::Create();
  auto with = [](std::function<void(FailoverPolicy&)> change) {
    return [change](Builder& b) {
      FailoverPolicy p;
      change(p);
      b.failover(p);
    };
  };
  const std::vector<BadKnob> cases = {
      {"max_attempts 0",
       with([](FailoverPolicy& p) { p.max_attempts(0); }),
       {"failover.max_attempts", "is 0", "1..100"}},
      {"max_attempts 101",
       with([](FailoverPolicy& p) { p.max_attempts(101); }),
       {"failover.max_attempts", "1..100"}},
      {"backoff_initial above backoff_max",
       with([](FailoverPolicy& p) {
         p.backoff_initial(absl::Seconds(3)).backoff_max(absl::Seconds(2));
       }),
       {"failover.backoff_initial", "3s", "1ms..2s"}},
      {"backoff_initial zero",
       with([](FailoverPolicy& p) { p.backoff_initial(absl::ZeroDuration()); }),
       {"failover.backoff_initial", "1ms.."}},
      {"backoff_initial negative",
       with([](FailoverPolicy& p) { p.backoff_initial(-absl::Milliseconds(5)); }),
       {"failover.backoff_initial", "1ms.."}},
      {"backoff_max above 10min",
       with([](FailoverPolicy& p) { p.backoff_max(absl::Minutes(11)); }),
       {"failover.backoff_max", "..10m"}},
      {"backoff_jitter 1.5",
       with([](FailoverPolicy& p) { p.backoff_jitter(1.5); }),
       {"failover.backoff_jitter", "1.5", "0..1"}},
      {"backoff_jitter negative",
       with([](FailoverPolicy& p) { p.backoff_jitter(-0.1); }),
       {"failover.backoff_jitter", "0..1"}},
      {"backoff_jitter NaN",
       with([](FailoverPolicy& p) { p.backoff_jitter(std::numeric_limits<double>::quiet_NaN()); }),
       {"failover.backoff_jitter", "0..1"}},
      {"probe_interval 1ms",
       with([](FailoverPolicy& p) { p.probe_interval(absl::Milliseconds(1)); }),
       {"failover.probe_interval", "10ms..1h"}},
      {"probe_timeout above 1min",
       with([](FailoverPolicy& p) { p.probe_timeout(absl::Minutes(2)); }),
       {"failover.probe_timeout", "10ms..1m"}},
      {"failure_threshold 0",
       with([](FailoverPolicy& p) { p.failure_threshold(0); }),
       {"failover.failure_threshold", "1..100"}},
      {"recovery_threshold 0",
       with([](FailoverPolicy& p) { p.recovery_threshold(0); }),
       {"failover.recovery_threshold", "1..100"}},
      {"recovery_threshold above 100",
       with([](FailoverPolicy& p) { p.recovery_threshold(101); }),
       {"failover.recovery_threshold", "1..100"}},
  };
  CheckRejected(*server, cases);
}

TEST_CASE("empty SQL knobs and bad endpoints are rejected naming what is wrong", "[builder]") {
  auto server = FakeServer::Create();
  const std::vector<BadKnob> cases = {
      {"empty init_sql", [](Builder& b) { b.init_sql(""); }, {"init_sql #1", "empty"}},
      {"second init_sql empty",
       [](Builder& b) { b.init_sql("SET x = 1").init_sql(""); },
       {"init_sql #2", "empty"}},
      {"ResetPolicy::Sql(\"\")",
       [](Builder& b) { b.reset_policy(ResetPolicy::Sql("")); },
       {"reset_policy", "ResetPolicy::Sql", "non-empty"}},
      {"endpoint port 0",
       [](Builder& b) { b.endpoint("db.example", 0); },
       {"endpoint", "db.example", "port is 0", "1..65535"}},
      {"endpoint port 70000",
       [](Builder& b) { b.endpoint("db.example", 70000); },
       {"endpoint", "port is 70000", "1..65535"}},
      {"endpoint port negative",
       [](Builder& b) { b.endpoint("db.example", -5); },
       {"endpoint", "1..65535"}},
      {"endpoint host empty", [](Builder& b) { b.endpoint("", 5432); }, {"endpoint", "host"}},
      {"second endpoint bad",
       [](Builder& b) { b.endpoint("a.example", 5432).endpoint("b.example", 65536); },
       {"b.example", "port is 65536", "1..65535"}},
  };
  CheckRejected(*server, cases);
}

TEST_CASE("a validation message never shows the password", "[builder]") {
  auto server = FakeServer::Create();
  const absl::Status status =
      BuildWith(*server, [](Builder& b) { b.user("app").password("hunter2-secret").max_size(0); });
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(absl::StrContains(status.message(), "hunter2"));
}

TEST_CASE("valid settings at the edges of every range build", "[builder]") {
  auto server = FakeServer::Create();
  const std::vector<std::pair<std::string, std::function<void(Builder&)>>> cases = {
      {"defaults", [](Builder&) {}},
      {"max_size 1", [](Builder& b) { b.max_size(1); }},
      {"max_size 10000", [](Builder& b) { b.max_size(10000); }},
      {"min_idle equal to max_size", [](Builder& b) { b.max_size(2).min_idle(2); }},
      {"acquire_timeout 0", [](Builder& b) { b.acquire_timeout(absl::ZeroDuration()); }},
      {"acquire_timeout 24h", [](Builder& b) { b.acquire_timeout(absl::Hours(24)); }},
      {"connect_timeout 10ms", [](Builder& b) { b.connect_timeout(absl::Milliseconds(10)); }},
      {"connect_timeout 1h", [](Builder& b) { b.connect_timeout(absl::Hours(1)); }},
      {"idle_timeout 0 disables", [](Builder& b) { b.idle_timeout(absl::ZeroDuration()); }},
      {"idle_timeout 10ms", [](Builder& b) { b.idle_timeout(absl::Milliseconds(10)); }},
      {"idle_timeout 7d", [](Builder& b) { b.idle_timeout(absl::Hours(24 * 7)); }},
      {"max_lifetime 0 disables", [](Builder& b) { b.max_lifetime(absl::ZeroDuration()); }},
      {"max_lifetime 30d", [](Builder& b) { b.max_lifetime(absl::Hours(24 * 30)); }},
      {"validation_window 0", [](Builder& b) { b.validation_window(absl::ZeroDuration()); }},
      {"validation_timeout 10ms", [](Builder& b) { b.validation_timeout(absl::Milliseconds(10)); }},
      {"keepalive_interval 0 disables",
       [](Builder& b) { b.keepalive_interval(absl::ZeroDuration()); }},
      {"keepalive_interval 24h", [](Builder& b) { b.keepalive_interval(absl::Hours(24)); }},
      {"init_sql and Sql reset",
       [](Builder& b) {
         b.init_sql("SET a = 1").init_sql("SET b = 2").reset_policy(ResetPolicy::Sql("RESET ALL"));
       }},
      {"ResetPolicy::None", [](Builder& b) { b.reset_policy(ResetPolicy::None()); }},
      {"ResetPolicy::Full", [](Builder& b) { b.reset_policy(ResetPolicy::Full()); }},
      {"endpoint ports 1 and 65535",
       [](Builder& b) { b.endpoint("a.example", 1).endpoint("b.example", 65535); }},
      {"failover at its edges",
       [](Builder& b) {
         FailoverPolicy p;
         p.max_attempts(100)
             .backoff_initial(absl::Milliseconds(1))
             .backoff_max(absl::Minutes(10))
             .backoff_jitter(1.0)
             .probe_interval(absl::Milliseconds(10))
             .probe_timeout(absl::Minutes(1))
             .failure_threshold(100)
             .recovery_threshold(100);
         b.failover(p);
       }},
      {"failover at its other edges",
       [](Builder& b) {
         FailoverPolicy p;
         p.max_attempts(1)
             .backoff_initial(absl::Seconds(1))
             .backoff_max(absl::Seconds(1))
             .backoff_jitter(0.0)
             .probe_interval(absl::Hours(1))
             .failure_threshold(1)
             .recovery_threshold(1);
         b.failover(p);
       }},
  };
  for (const auto& [what, set] : cases) {
    DYNAMIC_SECTION(what) {
      Builder b;
      b.dsn(server->dsn()).max_size(4);
      set(b);
      auto pool = b.build();
      INFO("status: " << pool.status().ToString());
      REQUIRE(pool.ok());
      const PoolStats s = pool->stats();
      CHECK(s.max_size >= 1);
      CHECK(s.in_use == 0);
    }
  }
}

TEST_CASE("a built pool reports the configured max_size and serves an acquire", "[builder]") {
  auto server = FakeServer::Create();
  auto pool = Builder().dsn(server->dsn()).max_size(7).build();
  REQUIRE(pool.ok());
  CHECK(pool->stats().max_size == 7);
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  CHECK(lease->valid());
  CHECK(lease->native()->Query().ok());
  CHECK(lease->endpoint().ToString() == "fake:1");
}

TEST_CASE("a DSN naming no fake server fails the build", "[builder]") {
  auto pool = Builder().dsn("fake://nowhere").build();
  CHECK(pool.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(pool.status().message(), "fake://nowhere"));
}

}  // namespace
}  // namespace dbpool
