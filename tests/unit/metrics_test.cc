// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The Prometheus rendering of a live pool's stats, checked by parsing it.
#include "dbpool/metrics.h"

#include <catch2/catch.hpp>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "await.h"
#include "fake_driver.h"

namespace dbpool {
namespace testing {
namespace {

// Parses exposition text into "name{labels}" -> value; fails the test on any
// line that is neither a # HELP/# TYPE comment nor a well-formed sample.
std::map<std::string, double> Parse(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    INFO(line);
    if (line.rfind("# HELP dbpool_", 0) == 0 || line.rfind("# TYPE dbpool_", 0) == 0) continue;
    REQUIRE(line.rfind("dbpool_", 0) == 0);
    const size_t open = line.find('{');
    const size_t close = line.rfind('}');
    REQUIRE(open != std::string::npos);
    REQUIRE(close != std::string::npos);
    REQUIRE(close > open);
    REQUIRE(line[close + 1] == ' ');
    double value = 0;
    REQUIRE(absl::SimpleAtod(line.substr(close + 2), &value));
    REQUIRE(samples.emplace(line.substr(0, close + 1), value).second);  // no duplicates
  }
  return samples;
}

TEST_CASE("Prometheus output of a pool parses and carries its state", "[metrics]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).max_size(3).histograms(true).build();
  REQUIRE(pool.ok());
  {
    auto a = pool->acquire();
    auto b = pool->acquire();
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    a->discard();
  }
  REQUIRE(Await([&] { return pool->stats().in_use == 0; }));
  const std::string text = RenderPrometheus(pool->stats(), "orders \"db\"");
  const auto m = Parse(text);
  const std::string pool_label = "pool=\"orders \\\"db\\\"\"";
  auto at = [&](const std::string& name, const std::string& labels = "") {
    const std::string key = name + "{" + pool_label + (labels.empty() ? "" : "," + labels) + "}";
    INFO(key);
    REQUIRE(m.count(key) == 1);
    return m.at(key);
  };
  CHECK(at("dbpool_acquired_total") == 2);
  CHECK(at("dbpool_connections", "state=\"idle\"") == 1);
  CHECK(at("dbpool_connections", "state=\"in_use\"") == 0);
  CHECK(at("dbpool_max_connections") == 3);
  CHECK(at("dbpool_closed_total", "reason=\"discarded\"") == 1);
  CHECK(at("dbpool_commit_resolutions_total", "result=\"committed\"") == 0);
  CHECK(at("dbpool_commit_resolutions_total", "result=\"aborted\"") == 0);
  CHECK(at("dbpool_commit_resolutions_total", "result=\"unresolved\"") == 0);
  CHECK(at("dbpool_created_total") == 2);
  CHECK(at("dbpool_endpoint_up", "endpoint=\"fake:1\",role=\"unknown\"") == 1);
  CHECK(at("dbpool_acquire_wait_seconds_count") == 2);
  CHECK(at("dbpool_acquire_wait_seconds_bucket", "le=\"+Inf\"") == 2);
  CHECK(at("dbpool_hold_seconds_count") == 1);  // the discarded lease was not released
  // Buckets are cumulative.
  CHECK(at("dbpool_acquire_wait_seconds_bucket", "le=\"5e-05\"") <=
        at("dbpool_acquire_wait_seconds_bucket", "le=\"10\""));
  CHECK(text.find("# TYPE dbpool_acquire_wait_seconds histogram") != std::string::npos);
}

TEST_CASE("split brains are rendered as a counter", "[metrics]") {
  PoolStats stats;
  stats.split_brains = 2;
  const auto m = Parse(RenderPrometheus(stats, "p"));
  REQUIRE(m.count("dbpool_split_brains_total{pool=\"p\"}") == 1);
  CHECK(m.at("dbpool_split_brains_total{pool=\"p\"}") == 2);
}

TEST_CASE("without histograms() no histogram is rendered", "[metrics]") {
  auto server = FakeServer::Create();
  auto pool = FakePool::Builder().dsn(server->dsn()).build();
  REQUIRE(pool.ok());
  REQUIRE(pool->acquire().ok());
  const std::string text = RenderPrometheus(pool->stats(), "p");
  CHECK(text.find("_bucket") == std::string::npos);
  CHECK(Parse(text).count("dbpool_acquired_total{pool=\"p\"}") == 1);
}

}  // namespace
}  // namespace testing
}  // namespace dbpool
