// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A Patroni cluster of a test's own: scripts/patroni.sh started in a fresh
// directory (etcd, three Patroni nodes with PostgreSQL, HAProxy in front),
// stopped when the object goes. The script is found next to the one in
// DBPOOL_TEST_SERVERS_CTL, or named by DBPOOL_TEST_PATRONI_CTL.
#ifndef DBPOOL_TESTS_SUPPORT_PATRONI_CLUSTER_H_
#define DBPOOL_TESTS_SUPPORT_PATRONI_CLUSTER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "scratch_servers.h"

namespace dbpool {
namespace testing {

class PatroniCluster : public ScratchServers {
 public:
  // Starts the cluster (about 10-15 s); aborts the test run if it cannot.
  PatroniCluster();

  // HAProxy's port (routes to the leader by Patroni's /primary check).
  int haproxy_port() const { return Port("DBPOOL_TEST_PATRONI_HAPROXY_PORT"); }
  // The PostgreSQL ports of the three nodes.
  std::vector<int> node_ports() const;

  // The PostgreSQL port of the current leader (`patroni.sh leader`).
  absl::StatusOr<int> LeaderPort() const;
  // Planned switchover; returns once another node is the writable leader.
  absl::Status Switchover() const { return Ctl("switchover"); }
  // SIGKILL to the leader's postmaster; returns once another node is the
  // writable leader.
  absl::Status KillLeader() const { return Ctl("kill-leader"); }
};

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_PATRONI_CLUSTER_H_
