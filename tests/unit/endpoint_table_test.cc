// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The failover layer's decisions as a pure state machine: probe results in,
// routing and transitions out.
#include "failover/endpoint_table.h"

#include <catch2/catch.hpp>

#include "absl/status/status.h"

namespace dbpool {
namespace internal {
namespace {

const absl::Time t0 = absl::FromUnixSeconds(1000);
absl::Time At(int ms) { return t0 + absl::Milliseconds(ms); }
const absl::Status kDown = absl::UnavailableError("probe failed");

TEST_CASE("nothing is routed before the first probes answer", "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  CHECK_FALSE(table.Pick(Role::kPrimary).has_value());
  CHECK_FALSE(table.Pick(Role::kReplica).has_value());
  CHECK_FALSE(table.Pick(Role::kAny).has_value());
}

TEST_CASE("roles route primary and replica requests to their endpoints", "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  table.OnProbe(0, Role::kReplica, At(0), At(1));
  table.OnProbe(1, Role::kPrimary, At(0), At(2));
  CHECK(table.Pick(Role::kPrimary) == 1u);
  CHECK(table.Pick(Role::kReplica) == 0u);
  CHECK(table.Pick(Role::kAny) == 0u);  // the lower probe latency
}

TEST_CASE("a replica request waits for unprobed endpoints, then falls back to the primary",
          "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  table.OnProbe(0, Role::kPrimary, At(0), At(1));
  CHECK_FALSE(table.Pick(Role::kReplica).has_value());  // endpoint 1 may be a replica
  table.OnProbe(1, kDown, At(0), At(1));
  CHECK(table.Pick(Role::kReplica) == 0u);
}

TEST_CASE("an endpoint goes down only after failure_threshold failed probes", "[failover]") {
  EndpointTable table(2, FailoverPolicy().failure_threshold(3));
  table.OnProbe(0, Role::kPrimary, At(0), At(1));
  table.OnProbe(1, Role::kReplica, At(0), At(1));
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
  table.OnProbe(0, Role::kPrimary, At(0), At(1));
  table.OnProbe(0, kDown, At(10), At(20));
  table.OnProbe(0, Role::kPrimary, At(30), At(40));
  CHECK_FALSE(table.suspect(0));
  CHECK_FALSE(table.OnProbe(0, kDown, At(50), At(60)).went_down);
}

TEST_CASE("a promoted replica becomes the primary and the failover is counted", "[failover]") {
  EndpointTable table(2, FailoverPolicy().failure_threshold(1));
  table.OnProbe(0, Role::kPrimary, At(0), At(1));
  table.OnProbe(1, Role::kReplica, At(0), At(1));
  CHECK(table.failovers() == 0);
  table.OnProbe(0, kDown, At(100), At(200));
  CHECK(table.time_without_primary(At(300)) == absl::Milliseconds(100));
  const ProbeTransition t = table.OnProbe(1, Role::kPrimary, At(400), At(500));
  CHECK(t.primary_changed);
  CHECK(table.Pick(Role::kPrimary) == 1u);
  CHECK(table.failovers() == 1);
  CHECK(table.time_without_primary(At(10000)) == absl::Milliseconds(300));
}

TEST_CASE("the routed primary is sticky when a second writable endpoint appears", "[failover]") {
  EndpointTable table(2, FailoverPolicy().failure_threshold(1));
  table.OnProbe(0, Role::kPrimary, At(0), At(1));
  table.OnProbe(1, Role::kReplica, At(0), At(1));
  table.OnProbe(0, kDown, At(10), At(20));
  table.OnProbe(1, Role::kPrimary, At(30), At(40));
  // The old primary returns, still writable: it does not take writes back.
  const ProbeTransition t = table.OnProbe(0, Role::kPrimary, At(50), At(60));
  CHECK(t.came_up);
  CHECK_FALSE(t.primary_changed);
  CHECK(table.Pick(Role::kPrimary) == 1u);
}

TEST_CASE("a demoted primary is used as a replica", "[failover]") {
  EndpointTable table(2, FailoverPolicy());
  table.OnProbe(0, Role::kPrimary, At(0), At(1));
  table.OnProbe(1, Role::kReplica, At(0), At(5));
  table.OnProbe(1, Role::kPrimary, At(10), At(15));  // promoted while 0 still writable
  CHECK(table.Pick(Role::kPrimary) == 0u);           // sticky
  const ProbeTransition t = table.OnProbe(0, Role::kReplica, At(20), At(21));
  CHECK(t.primary_changed);
  CHECK(table.Pick(Role::kPrimary) == 1u);
  CHECK(table.Pick(Role::kReplica) == 0u);
}

TEST_CASE("Describe reports roles and health per endpoint", "[failover]") {
  EndpointTable table(3, FailoverPolicy().failure_threshold(1));
  table.OnProbe(0, Role::kPrimary, At(0), At(1));
  table.OnProbe(1, Role::kReplica, At(0), At(1));
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
