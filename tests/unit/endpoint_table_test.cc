// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The failover layer's decisions as a pure state machine: probe results in,
// routing and transitions out.
#include "failover/endpoint_table.h"

#include <catch2/catch.hpp>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "probe_results.h"

namespace dbpool {
namespace internal {
namespace {

const absl::Time t0 = absl::FromUnixSeconds(1000);
absl::Time At(int ms) { return t0 + absl::Milliseconds(ms); }
const absl::Status kDown = absl::UnavailableError("probe failed");

using testing::Fenced;
using testing::Primary;
using testing::Replica;

TEST_CASE("nothing is routed before the first probes answer", "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  CHECK_FALSE(table.Pick(Role::kReplica).has_value());
  CHECK_FALSE(table.Pick(Role::kAny).has_value());
}

TEST_CASE("roles route primary and replica requests to their endpoints", "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  table.OnProbe(0, Replica(), At(0), At(1));
  table.OnProbe(1, Primary(), At(0), At(2));
  CHECK(table.Pick(Role::kPrimary) == 1u);
  CHECK(table.Pick(Role::kReplica) == 0u);
  CHECK(table.Pick(Role::kAny) == 0u);  // the lower probe latency
}

TEST_CASE("a replica request waits for unprobed endpoints, then falls back to the primary",
          "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  table.OnProbe(0, Primary(), At(0), At(1));
  CHECK_FALSE(table.Pick(Role::kReplica).has_value());  // endpoint 1 may be a replica
  table.OnProbe(1, kDown, At(0), At(1));
  CHECK(table.Pick(Role::kReplica) == 0u);
}

TEST_CASE("an endpoint goes down only after failure_threshold failed probes", "[failover]") {
  EndpointTable table(2, FailoverPolicy().failure_threshold(3));
  table.OnProbe(0, Primary(), At(0), At(1));
  table.OnProbe(1, Replica(), At(0), At(1));
  CHECK_FALSE(table.OnProbe(0, kDown, At(100), At(600)).went_down);
  CHECK(table.suspect(0));
  CHECK(table.up(0));
  CHECK_FALSE(table.OnProbe(0, kDown, At(600), At(1100)).went_down);
  const ProbeTransition t = table.OnProbe(0, kDown, At(1100), At(1600));
  CHECK(t.went_down);
  CHECK(t.primary_changed);
  CHECK_FALSE(table.up(0));
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  CHECK(table.last_detection_time() == absl::Milliseconds(1500));
}

TEST_CASE("a good probe clears the failure count", "[failover]") {
  EndpointTable table(1, FailoverPolicy().failure_threshold(2));
  table.OnProbe(0, Primary(), At(0), At(1));
  table.OnProbe(0, kDown, At(10), At(20));
  table.OnProbe(0, Primary(), At(30), At(40));
  CHECK_FALSE(table.suspect(0));
  CHECK_FALSE(table.OnProbe(0, kDown, At(50), At(60)).went_down);
}

TEST_CASE("a promoted replica becomes the primary and the failover is counted", "[failover]") {
  EndpointTable table(2, FailoverPolicy().failure_threshold(1));
  table.OnProbe(0, Primary(), At(0), At(1));
  table.OnProbe(1, Replica(), At(0), At(1));
  CHECK(table.failovers() == 0);
  table.OnProbe(0, kDown, At(100), At(200));
  CHECK(table.time_without_primary(At(300)) == absl::Milliseconds(100));
  const ProbeTransition t = table.OnProbe(1, Primary(), At(400), At(500));
  CHECK(t.primary_changed);
  CHECK(table.Pick(Role::kPrimary) == 1u);
  CHECK(table.failovers() == 1);
  CHECK(table.time_without_primary(At(10000)) == absl::Milliseconds(300));
}

TEST_CASE(
    "an old primary back writable on an unknown timeline is a split brain: writes fail closed",
    "[failover]") {
  EndpointTable table(2, FailoverPolicy().failure_threshold(1).recovery_threshold(1));
  table.OnProbe(0, Primary(), At(0), At(1));
  table.OnProbe(1, Replica(), At(0), At(1));
  table.OnProbe(0, kDown, At(10), At(20));
  table.OnProbe(1, Primary(), At(30), At(40));
  REQUIRE(table.Pick(Role::kPrimary) == 1u);
  // The old primary returns, still writable, and nothing tells which is newer.
  const ProbeTransition t = table.OnProbe(0, Primary(), At(50), At(60));
  CHECK(t.came_up);
  CHECK(t.primary_changed);
  CHECK(t.split_brain);
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  CHECK(table.split_brain() == std::vector<size_t>{0, 1});
  CHECK(table.split_brains() == 1);
  // Still two writable: the same split brain, not a new one.
  CHECK_FALSE(table.OnProbe(1, Primary(), At(70), At(80)).split_brain);
  CHECK(table.split_brains() == 1);
}

TEST_CASE("a stale primary is never re-elected when the new primary fails", "[failover]") {
  // The review's case: fail over from 0 to 1; 0 returns writable; 1 fails twice.
  EndpointTable table(2, FailoverPolicy().failure_threshold(2).recovery_threshold(1));
  table.OnProbe(0, Primary(), At(0), At(1));
  table.OnProbe(1, Replica(), At(0), At(1));
  table.OnProbe(0, kDown, At(10), At(20));
  table.OnProbe(0, kDown, At(20), At(30));
  table.OnProbe(1, Primary(), At(40), At(50));
  REQUIRE(table.Pick(Role::kPrimary) == 1u);
  CHECK(table.tainted(0));
  table.OnProbe(0, Primary(), At(60), At(70));
  CHECK(table.split_brains() == 1);
  table.OnProbe(1, kDown, At(80), At(90));
  table.OnProbe(1, kDown, At(90), At(100));
  CHECK_FALSE(table.up(1));
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  table.OnProbe(0, Primary(), At(110), At(120));
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  // Seen as a replica once (re-attached by the cluster manager): eligible again.
  table.OnProbe(0, Replica(), At(130), At(140));
  CHECK_FALSE(table.tainted(0));
  table.OnProbe(0, Primary(), At(150), At(160));
  CHECK(table.Pick(Role::kPrimary) == 0u);
}

TEST_CASE("the writable endpoint on the higher timeline wins, in any probe order", "[failover]") {
  for (const bool higher_first : {true, false}) {
    EndpointTable table(2, FailoverPolicy());
    if (higher_first) {
      table.OnProbe(1, Primary(2), At(0), At(1));
      table.OnProbe(0, Primary(1), At(0), At(2));
    } else {
      table.OnProbe(0, Primary(1), At(0), At(1));
      table.OnProbe(1, Primary(2), At(0), At(2));
    }
    CHECK(table.Pick(Role::kPrimary) == 1u);
    CHECK(table.split_brain().empty());
    CHECK(table.failovers() == 0);
  }
}

TEST_CASE("two writable endpoints on the same timeline are a split brain", "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  table.OnProbe(0, Primary(3), At(0), At(1));
  const ProbeTransition t = table.OnProbe(1, Primary(3), At(0), At(2));
  CHECK(t.split_brain);
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  CHECK(table.split_brain() == std::vector<size_t>{0, 1});
}

TEST_CASE("an old primary on a lower timeline keeps no writes and is tainted until it is newer",
          "[failover]") {
  EndpointTable table(2, FailoverPolicy().recovery_threshold(1));
  table.OnProbe(0, Primary(1), At(0), At(1));
  table.OnProbe(1, Replica(1), At(0), At(1));
  REQUIRE(table.Pick(Role::kPrimary) == 0u);
  // 1 is promoted while 0 is still writable: 1's timeline is newer.
  const ProbeTransition t = table.OnProbe(1, Primary(2), At(10), At(11));
  CHECK(t.primary_changed);
  CHECK_FALSE(t.split_brain);
  CHECK(table.Pick(Role::kPrimary) == 1u);
  CHECK(table.tainted(0));
  // 1 vanishes: 0, still on timeline 1, is stale and is not elected.
  table.OnProbe(1, kDown, At(20), At(21));
  table.OnProbe(1, kDown, At(21), At(22));
  table.OnProbe(0, Primary(1), At(30), At(31));
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  // 0 promoted again later (timeline 3): eligible.
  table.OnProbe(0, Primary(3), At(40), At(41));
  CHECK_FALSE(table.tainted(0));
  CHECK(table.Pick(Role::kPrimary) == 0u);
}

TEST_CASE("a primary fenced with default_transaction_read_only is not writable", "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  table.OnProbe(0, Primary(1), At(0), At(1));
  table.OnProbe(1, Replica(1), At(0), At(1));
  REQUIRE(table.Pick(Role::kPrimary) == 0u);
  table.OnProbe(0, Fenced(1), At(10), At(11));
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  table.OnProbe(1, Primary(2), At(20), At(21));
  CHECK(table.Pick(Role::kPrimary) == 1u);
  CHECK(table.Pick(Role::kReplica) == 0u);  // the fenced server still serves reads
  CHECK_FALSE(table.tainted(0));
}

TEST_CASE("a demoted primary is used as a replica", "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  table.OnProbe(0, Primary(1), At(0), At(1));
  table.OnProbe(1, Replica(1), At(0), At(5));
  table.OnProbe(1, Primary(2), At(10), At(15));  // promoted while 0 still writable
  CHECK(table.Pick(Role::kPrimary) == 1u);       // the newer timeline
  table.OnProbe(0, Replica(2), At(20), At(21));
  CHECK(table.Pick(Role::kPrimary) == 1u);
  CHECK(table.Pick(Role::kReplica) == 0u);
}

TEST_CASE("at start the primary is elected only once every endpoint was probed", "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  // The later endpoint answers first; the first one is on a newer timeline.
  table.OnProbe(1, Primary(1), At(0), At(1));
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  table.OnProbe(0, Primary(2), At(0), At(3));
  CHECK(table.Pick(Role::kPrimary) == 0u);
  CHECK(table.failovers() == 0);  // no primary was routed before the right one
}

TEST_CASE("at start an endpoint that never answers delays the election by probe_timeout at most",
          "[failover]") {
  EndpointTable table(2, FailoverPolicy().probe_timeout(absl::Milliseconds(500)));
  table.OnProbe(1, Primary(), At(0), At(1));
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  table.OnProbe(1, Primary(), At(400), At(401));
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  table.OnProbe(1, Primary(), At(500), At(501));
  CHECK(table.Pick(Role::kPrimary) == 1u);
}

TEST_CASE("an endpoint that was down needs recovery_threshold good probes to come back",
          "[failover]") {
  EndpointTable table(2, FailoverPolicy().failure_threshold(1).recovery_threshold(3));
  table.OnProbe(0, Primary(), At(0), At(1));
  table.OnProbe(1, Replica(), At(0), At(1));
  table.OnProbe(1, kDown, At(10), At(11));
  REQUIRE_FALSE(table.up(1));
  CHECK_FALSE(table.OnProbe(1, Replica(), At(20), At(21)).came_up);
  CHECK_FALSE(table.OnProbe(1, Replica(), At(30), At(31)).came_up);
  CHECK_FALSE(table.up(1));
  CHECK(table.Pick(Role::kReplica) == 0u);  // still the primary's fallback
  // A failure in between starts the count again.
  table.OnProbe(1, kDown, At(40), At(41));
  CHECK_FALSE(table.OnProbe(1, Replica(), At(50), At(51)).came_up);
  CHECK_FALSE(table.OnProbe(1, Replica(), At(60), At(61)).came_up);
  CHECK(table.OnProbe(1, Replica(), At(70), At(71)).came_up);
  CHECK(table.Pick(Role::kReplica) == 1u);
}

TEST_CASE("a primary that restarts alone is elected again", "[failover]") {
  EndpointTable table(2, FailoverPolicy().failure_threshold(1).recovery_threshold(2));
  table.OnProbe(0, Primary(1), At(0), At(1));
  table.OnProbe(1, Replica(1), At(0), At(1));
  table.OnProbe(0, kDown, At(10), At(11));
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  table.OnProbe(0, Primary(1), At(20), At(21));
  table.OnProbe(0, Primary(1), At(30), At(31));
  CHECK(table.Pick(Role::kPrimary) == 0u);
  CHECK_FALSE(table.tainted(0));
}

ProbeResult Lagging(absl::Duration lag) {
  ProbeResult r = Replica();
  r.replay_lag = lag;
  return r;
}

TEST_CASE("a replica beyond max_replica_lag serves no replica reads until it catches up",
          "[failover]") {
  EndpointTable table(3, FailoverPolicy().max_replica_lag(absl::Seconds(1)));
  table.OnProbe(0, Primary(), At(0), At(1));
  table.OnProbe(1, Lagging(absl::Seconds(5)), At(0), At(1));  // the faster one, but behind
  table.OnProbe(2, Lagging(absl::Milliseconds(200)), At(0), At(3));
  CHECK(table.Pick(Role::kReplica) == 2u);
  CHECK(table.Pick(Role::kAny) != std::optional<size_t>(2u));  // kAny is not bounded
  CHECK(table.replica_fallbacks() == 0);

  // Both behind: reads fall back to the primary, counted once.
  table.OnProbe(2, Lagging(absl::Seconds(3)), At(10), At(11));
  CHECK(table.Pick(Role::kReplica) == 0u);
  CHECK(table.replica_fallbacks() == 1);
  table.OnProbe(1, Lagging(absl::Seconds(6)), At(20), At(21));
  CHECK(table.replica_fallbacks() == 1);  // still the same fallback

  // One catches up: reads go back to it; the next fallback is counted again.
  table.OnProbe(1, Lagging(absl::ZeroDuration()), At(30), At(31));
  CHECK(table.Pick(Role::kReplica) == 1u);
  table.OnProbe(1, Lagging(absl::Seconds(2)), At(40), At(41));
  CHECK(table.Pick(Role::kReplica) == 0u);
  CHECK(table.replica_fallbacks() == 2);

  std::vector<EndpointStats> out(3);
  table.Describe(&out);
  CHECK(out[1].replica_lag == absl::Seconds(2));
  CHECK(out[1].lagging);
  CHECK_FALSE(out[0].replica_lag.has_value());
  CHECK_FALSE(out[0].lagging);
}

TEST_CASE("without max_replica_lag, and for an unknown lag, replicas serve however far behind",
          "[failover]") {
  EndpointTable unbounded(2, FailoverPolicy());
  unbounded.OnProbe(0, Primary(), At(0), At(1));
  unbounded.OnProbe(1, Lagging(absl::Hours(5)), At(0), At(1));
  CHECK(unbounded.Pick(Role::kReplica) == 1u);
  CHECK(unbounded.replica_fallbacks() == 0);

  EndpointTable unknown(2, FailoverPolicy().max_replica_lag(absl::Seconds(1)));
  unknown.OnProbe(0, Primary(), At(0), At(1));
  unknown.OnProbe(1, Replica(), At(0), At(1));  // the driver cannot tell (MySQL)
  CHECK(unknown.Pick(Role::kReplica) == 1u);
}

TEST_CASE("with no replica at all, replica reads falling back to the primary count once",
          "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  table.OnProbe(0, Primary(), At(0), At(1));
  CHECK(table.replica_fallbacks() == 0);  // endpoint 1 not probed: no fallback yet
  table.OnProbe(1, kDown, At(0), At(1));
  CHECK(table.Pick(Role::kReplica) == 0u);
  CHECK(table.replica_fallbacks() == 1);
  table.OnProbe(0, Primary(), At(10), At(11));
  CHECK(table.replica_fallbacks() == 1);
}

TEST_CASE("Describe reports roles and health per endpoint", "[failover]") {
  EndpointTable table(3, FailoverPolicy().failure_threshold(1));
  table.OnProbe(0, Primary(), At(0), At(1));
  table.OnProbe(1, Replica(), At(0), At(1));
  std::vector<EndpointStats> out(3);
  table.Describe(&out);
  CHECK(out[0].role == "primary");
  CHECK(out[1].role == "replica");
  CHECK(out[2].role == "unknown");
  CHECK_FALSE(out[2].up);
  CHECK(out[0].up);
}

}  // namespace
}  // namespace internal
}  // namespace dbpool
