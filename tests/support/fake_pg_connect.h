// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// One connect of the PostgreSQL driver to a FakePgServer, as user "app"
// with a password, for the tests of what the driver makes of its answers.
#ifndef DBPOOL_TESTS_SUPPORT_FAKE_PG_CONNECT_H_
#define DBPOOL_TESTS_SUPPORT_FAKE_PG_CONNECT_H_

#include <catch2/catch.hpp>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dbpool/driver.h"
#include "dbpool/postgres.h"
#include "fake_pg_server.h"

namespace dbpool {
namespace testing {

inline constexpr char kFakePgPassword[] = "Pa55-Secret-w0rd";

// The connect's status (20 s deadline).
inline absl::Status ConnectToFakePg(const FakePgServer& server) {
  REQUIRE(server.port() > 0);
  ConnectSettings settings;
  settings.endpoints = {{"127.0.0.1", server.port()}};
  settings.user = "app";
  settings.password = kFakePgPassword;
  auto setup = Postgres::make_driver(settings);
  REQUIRE(setup.ok());
  return setup->driver->connect(setup->endpoints[0], absl::Now() + absl::Seconds(20)).status();
}

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_FAKE_PG_CONNECT_H_
