// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// MySQL error number and SQLSTATE -> absl::Status mapping. No server needed.
#include "mysql/my_status.h"

#include <mysql.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "dbpool/mysql.h"
#include "mysql/my_connection.h"
#include "mysql/my_library.h"

namespace dbpool {
namespace mysql_internal {
namespace {

TEST_CASE("MySQL error numbers map to the documented status codes", "[mysql][status]") {
  using C = absl::StatusCode;
  const std::pair<unsigned int, C> kCases[] = {
      {0, C::kOk},
      // Connection loss and server going away.
      {2001, C::kUnavailable},
      {2002, C::kUnavailable},
      {2003, C::kUnavailable},
      {2004, C::kUnavailable},
      {2005, C::kUnavailable},
      {2006, C::kUnavailable},
      {2011, C::kUnavailable},
      {2012, C::kUnavailable},
      {2013, C::kUnavailable},
      {2026, C::kUnavailable},
      {2055, C::kUnavailable},
      {5013, C::kUnavailable},
      {5014, C::kUnavailable},
      {1053, C::kUnavailable},
      {1927, C::kUnavailable},
      {4031, C::kUnavailable},
      // Overload.
      {1040, C::kUnavailable},
      {1203, C::kUnavailable},
      {1129, C::kUnavailable},
      // Read-only server or transaction: the failover layer moves on.
      {1290, C::kUnavailable},
      {1836, C::kUnavailable},
      {1792, C::kUnavailable},
      // Credentials and privileges.
      {1045, C::kUnauthenticated},
      {1044, C::kPermissionDenied},
      {1142, C::kPermissionDenied},
      {1143, C::kPermissionDenied},
      {1227, C::kPermissionDenied},
      {1130, C::kPermissionDenied},
      // Statements.
      {1049, C::kNotFound},
      {1146, C::kNotFound},
      {1062, C::kAlreadyExists},
      {1213, C::kAborted},
      {1205, C::kAborted},
      {1317, C::kCancelled},
      {1969, C::kDeadlineExceeded},
      {3024, C::kDeadlineExceeded},
      {1064, C::kInvalidArgument},
      {2014, C::kFailedPrecondition},
      {2008, C::kResourceExhausted},
      // Anything else.
      {1048, C::kUnknown},
      {1105, C::kUnknown},
      {9999, C::kUnknown},
  };
  for (const auto& [err, code] : kCases) {
    INFO("errno " << err);
    CHECK(MySqlStatusFromErrno(err) == code);
  }
}

TEST_CASE("only errors that lose the session count as connection loss", "[mysql][status]") {
  for (unsigned int err : {2002u, 2003u, 2006u, 2013u, 2055u, 1053u, 1927u, 4031u}) {
    INFO("errno " << err);
    CHECK(IsConnectionLoss(err));
  }
  // Still connected: overload refusals before the session, read-only
  // refusals and statement errors leave it usable (or never had one).
  for (unsigned int err : {0u, 1040u, 1045u, 1062u, 1213u, 1290u, 1836u, 2014u}) {
    INFO("errno " << err);
    CHECK_FALSE(IsConnectionLoss(err));
  }
}

TEST_CASE("a MySQL error keeps its number and SQLSTATE in the message and the number as payload",
          "[mysql][status]") {
  const absl::Status status =
      MakeMySqlError(1146, "42S02", "Table 'app.t' doesn't exist", /*context=*/"");
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(status.message() == "Table 'app.t' doesn't exist (MySQL error 1146, SQLSTATE 42S02)");
  const auto payload = status.GetPayload(kMySqlErrnoPayload);
  REQUIRE(payload.has_value());
  CHECK(std::string(*payload) == "1146");
  CHECK(kMySqlErrnoPayload == "dbpool.mysql_errno");
}

TEST_CASE("a MySQL error with context names it before the client's message", "[mysql][status]") {
  const absl::Status status =
      MakeMySqlError(1045, "28000", "Access denied for user 'app'@'10.0.0.1' (using password: YES)",
                     "dbpool: mysql connect to 127.0.0.1:3306");
  CHECK(status.code() == absl::StatusCode::kUnauthenticated);
  CHECK(status.message() ==
        "dbpool: mysql connect to 127.0.0.1:3306: Access denied for user 'app'@'10.0.0.1' "
        "(using password: YES) (MySQL error 1045, SQLSTATE 28000)");
}

TEST_CASE("an unknown error number falls back on its SQLSTATE class", "[mysql][status]") {
  using C = absl::StatusCode;
  const std::pair<const char*, C> kCases[] = {
      {"08S01", C::kUnavailable},     {"23000", C::kFailedPrecondition},
      {"40001", C::kAborted},         {"42S22", C::kInvalidArgument},
      {"22003", C::kInvalidArgument}, {"28000", C::kUnauthenticated},
      {"HY000", C::kUnknown},         {"", C::kUnknown},
  };
  for (const auto& [sqlstate, code] : kCases) {
    INFO("SQLSTATE " << sqlstate);
    CHECK(MakeMySqlError(1048, sqlstate, "m", "").code() == code);
  }
  // A known number wins over the SQLSTATE class.
  CHECK(MakeMySqlError(1062, "23000", "dup", "").code() == C::kAlreadyExists);
  // An empty SQLSTATE is shown as HY000.
  CHECK(MakeMySqlError(9999, "", "m", "").message() == "m (MySQL error 9999, SQLSTATE HY000)");
}

TEST_CASE("error 4031 is a timeout disconnect from MySQL but not from MariaDB", "[mysql][status]") {
  CHECK(MakeMySqlError(4031, "HY000", "m", "", /*server_is_mariadb=*/false).code() ==
        absl::StatusCode::kUnavailable);
  CHECK(MakeMySqlError(4031, "HY000", "m", "", /*server_is_mariadb=*/true).code() ==
        absl::StatusCode::kUnknown);
}

TEST_CASE("MySqlStatus is OK on a handle without an error and rejects a null handle",
          "[mysql][status]") {
  REQUIRE(EnsureLibraryInit().ok());
  EnsureThreadInit();
  MYSQL* mysql = mysql_init(nullptr);
  REQUIRE(mysql != nullptr);
  CHECK(MySqlStatus(mysql).ok());
  mysql_close(mysql);
  CHECK(MySqlStatus(nullptr).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("read_only values other than 0, OFF, empty and NULL mean a replica", "[mysql][status]") {
  CHECK_FALSE(ReadOnlyValueIsSet(std::nullopt));
  CHECK_FALSE(ReadOnlyValueIsSet(std::string("")));
  CHECK_FALSE(ReadOnlyValueIsSet(std::string("0")));
  CHECK_FALSE(ReadOnlyValueIsSet(std::string("OFF")));
  CHECK_FALSE(ReadOnlyValueIsSet(std::string("off")));
  CHECK(ReadOnlyValueIsSet(std::string("1")));
  CHECK(ReadOnlyValueIsSet(std::string("ON")));
  CHECK(ReadOnlyValueIsSet(std::string("NO_LOCK")));
  CHECK(ReadOnlyValueIsSet(std::string("NO_LOCK_NO_ADMIN")));
}

TEST_CASE("MySQL errors say whether the statement may have run", "[mysql][status][outcome]") {
  // Lost while sending or awaiting the reply: it may have run.
  for (unsigned int err : {2006u, 2013u, 2055u, 5013u, 5014u}) {
    INFO("errno " << err);
    CHECK(MySqlOutcomeFromErrno(err) == Outcome::kUnknown);
    const absl::Status s =
        WithOutcome(MakeMySqlError(err, "HY000", "lost", ""), MySqlOutcomeFromErrno(err));
    CHECK(s.code() == absl::StatusCode::kUnavailable);
    CHECK(IsOutcomeUnknown(s));
  }
  // Refused by the server (read-only, deadlock, lock wait timeout, shutdown,
  // idle disconnect, duplicate key, ...) or never connected: not applied.
  for (unsigned int err : {1290u, 1836u, 1792u, 1213u, 1205u, 1053u, 1927u, 4031u, 1062u, 1146u,
                           1040u, 2001u, 2002u, 2003u, 2005u, 2011u, 2012u, 2026u}) {
    INFO("errno " << err);
    CHECK(MySqlOutcomeFromErrno(err) == Outcome::kNotApplied);
  }
  // Other client errors say nothing of the server.
  for (unsigned int err : {0u, 2014u, 2008u}) {
    INFO("errno " << err);
    CHECK(MySqlOutcomeFromErrno(err) == Outcome::kUnclassified);
  }
  // The transaction-retry class keeps its code.
  CHECK(MySqlStatusFromErrno(1213) == absl::StatusCode::kAborted);
  CHECK(MySqlStatusFromErrno(1205) == absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace mysql_internal
}  // namespace dbpool
