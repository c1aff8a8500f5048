// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The election probe's queries per server flavour and version. No server
// needed.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "mysql/my_connection.h"

namespace dbpool {
namespace mysql_internal {
namespace {

TEST_CASE("MySQL 8 is probed for super_read_only and SHOW REPLICA STATUS", "[mysql]") {
  const MyProbeQueries q = MyProbeQueriesFor("8.0.36", 80036);
  CHECK(absl::StrContains(q.read_only, "@@global.read_only"));
  CHECK(absl::StrContains(q.read_only, "@@global.super_read_only"));
  CHECK(q.replication == "SHOW REPLICA STATUS");
}

TEST_CASE("MySQL 5.7 is probed with SHOW SLAVE STATUS", "[mysql]") {
  const MyProbeQueries q = MyProbeQueriesFor("5.7.44-log", 50744);
  CHECK(absl::StrContains(q.read_only, "@@global.super_read_only"));
  CHECK(q.replication == "SHOW SLAVE STATUS");
  CHECK_FALSE(absl::StrContains(MyProbeQueriesFor("5.7.7", 50707).read_only, "super_read_only"));
}

TEST_CASE("MariaDB, which has no super_read_only, is probed with SHOW ALL SLAVES STATUS",
          "[mysql]") {
  const MyProbeQueries q = MyProbeQueriesFor("10.11.6-MariaDB-0+deb12u1", 101106);
  CHECK(absl::StrContains(q.read_only, "@@global.read_only"));
  CHECK_FALSE(absl::StrContains(q.read_only, "super_read_only"));
  CHECK(q.replication == "SHOW ALL SLAVES STATUS");
}

}  // namespace
}  // namespace mysql_internal
}  // namespace dbpool
