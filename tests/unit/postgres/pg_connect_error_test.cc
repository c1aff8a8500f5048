// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A failed connect's code comes from the server's SQLSTATE, never from the
// words of its message; libpq's own text is still read for its own
// phrases (a bad option value, an unknown host, a certificate failure).
#include "postgres/pg_connect_error.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dbpool/driver.h"
#include "dbpool/postgres.h"
#include "fake_pg_connect.h"
#include "fake_pg_server.h"

namespace dbpool {
namespace postgres_internal {
namespace {

constexpr absl::string_view kAttempt = "connection to server at \"127.0.0.1\", port 5432 failed: ";

TEST_CASE("a server's SQLSTATE decides a failed connect's code", "[postgres][connect_error]") {
  struct Case {
    const char* sqlstate;
    absl::StatusCode code;
  };
  for (const Case& c : {Case{"28P01", absl::StatusCode::kUnauthenticated},
                        Case{"28000", absl::StatusCode::kUnauthenticated},
                        Case{"42501", absl::StatusCode::kPermissionDenied},
                        Case{"3D000", absl::StatusCode::kNotFound},
                        Case{"22023", absl::StatusCode::kInvalidArgument},
                        Case{"42704", absl::StatusCode::kInvalidArgument},
                        Case{"53300", absl::StatusCode::kUnavailable},
                        Case{"57P03", absl::StatusCode::kUnavailable}}) {
    INFO(c.sqlstate);
    const ConnectFailure f = ClassifyConnectFailure(
        absl::StrCat(kAttempt, "FATAL:  ", c.sqlstate, ": some text\nLOCATION:  f, x.c:1\n"));
    CHECK(f.code == c.code);
    CHECK_FALSE(f.configuration);
    // As the default verbosity would have written it.
    CHECK(f.text == absl::StrCat(kAttempt, "FATAL:  some text\n"));
  }
}

TEST_CASE("words in a server's message decide nothing", "[postgres][connect_error]") {
  // Too many connections, with a message (and a DETAIL, and a line break of
  // its own) that says what a bad password or a certificate failure says.
  const ConnectFailure f = ClassifyConnectFailure(
      absl::StrCat(kAttempt,
                   "FATAL:  53300: password authentication failed for user \"app\"\n"
                   "certificate verify failed\n"
                   "DETAIL:  database \"x\" does not exist; invalid sslmode value\n"));
  CHECK(f.code == absl::StatusCode::kUnavailable);
  CHECK_FALSE(f.configuration);
}

TEST_CASE("libpq's own text is read for libpq's own phrases", "[postgres][connect_error]") {
  CHECK(ClassifyConnectFailure("invalid sslmode value: \"sometimes\"\n").code ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ClassifyConnectFailure("invalid connection option \"bogus\"\n").code ==
        absl::StatusCode::kInvalidArgument);
  CHECK(
      ClassifyConnectFailure(absl::StrCat(kAttempt, "fe_sendauth: no password supplied\n")).code ==
      absl::StatusCode::kUnauthenticated);
  const ConnectFailure tls =
      ClassifyConnectFailure(absl::StrCat(kAttempt, "SSL error: certificate verify failed\n"));
  CHECK(tls.code == absl::StatusCode::kUnavailable);
  CHECK(tls.configuration);
  CHECK(ClassifyConnectFailure(
            "could not translate host name \"nohost\" to address: Name or service not known\n")
            .configuration);
  CHECK_FALSE(ClassifyConnectFailure("could not translate host name \"h\" to address: Temporary "
                                     "failure in name resolution\n")
                  .configuration);
  // A later attempt's own text after a server's refusal of an earlier one.
  const ConnectFailure mixed = ClassifyConnectFailure(
      absl::StrCat(kAttempt, "FATAL:  53300: sorry, too many clients already\n", kAttempt,
                   "SSL error: certificate verify failed\n"));
  CHECK(mixed.code == absl::StatusCode::kUnavailable);
  CHECK(mixed.configuration);
}

// The driver against a fake server that turns the startup away.
absl::Status RefusedWith(const std::string& sqlstate, const std::string& message) {
  testing::FakePgServer server(testing::FakePgServer::Refuse{sqlstate, message});
  return testing::ConnectToFakePg(server);
}

TEST_CASE("the driver codes a refused connect by the server's SQLSTATE, not its words",
          "[postgres][connect_error]") {
  const absl::Status busy =
      RefusedWith("53300",
                  "password authentication failed for user \"app\"\ncertificate verify "
                  "failed");
  INFO(busy.ToString());
  CHECK(busy.code() == absl::StatusCode::kUnavailable);
  CHECK_FALSE(IsConfigurationError(busy));
  CHECK_FALSE(absl::StrContains(busy.message(), "53300"));  // the default text, as before
  CHECK_FALSE(absl::StrContains(busy.message(), "LOCATION"));
  const absl::Status refused = RefusedWith("28P01", "no entry");
  INFO(refused.ToString());
  CHECK(refused.code() == absl::StatusCode::kUnauthenticated);
  CHECK(absl::StrContains(refused.message(), "FATAL:  no entry"));
}

}  // namespace
}  // namespace postgres_internal
}  // namespace dbpool
