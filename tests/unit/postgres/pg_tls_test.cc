// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// require_tls() as libpq keywords, and its conflicts with the keywords of
// option() and the DSN.
#include "postgres/pg_tls.h"

#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "temp_files.h"

namespace dbpool {
namespace postgres_internal {
namespace {

using Keywords = std::vector<std::pair<std::string, std::string>>;
using testing::TempFiles;

// The last value of `key`, or "(unset)".
std::string Value(const Keywords& keywords, const std::string& key) {
  std::string value = "(unset)";
  for (const auto& [k, v] : keywords) {
    if (k == key) value = v;
  }
  return value;
}

TEST_CASE("require_tls sets verify-full, the CA, and no GSSAPI encryption", "[postgres][tls]") {
  TempFiles files;
  TlsPolicy policy;
  policy.ca_file = files.Add("ca.pem");
  policy.cert_file = files.Add("client.pem");
  policy.key_file = files.Add("client.key");
  Keywords keywords = {{"application_name", "app"}};
  REQUIRE(ApplyTlsPolicy(policy, &keywords).ok());
  CHECK(Value(keywords, "sslmode") == "verify-full");
  CHECK(Value(keywords, "sslrootcert") == policy.ca_file);
  CHECK(Value(keywords, "sslcert") == policy.cert_file);
  CHECK(Value(keywords, "sslkey") == policy.key_file);
  CHECK(Value(keywords, "gssencmode") == "disable");
  CHECK(Value(keywords, "application_name") == "app");
}

TEST_CASE("require_tls with TlsVerify::kCa sets verify-ca, unless verify-full is already set",
          "[postgres][tls]") {
  TlsPolicy policy;
  policy.verify = TlsVerify::kCa;
  Keywords keywords = {{"sslrootcert", "/given/ca.pem"}};
  REQUIRE(ApplyTlsPolicy(policy, &keywords).ok());
  CHECK(Value(keywords, "sslmode") == "verify-ca");
  CHECK(Value(keywords, "sslrootcert") == "/given/ca.pem");  // kept: the policy names none

  keywords = {{"sslmode", "verify-full"}, {"sslrootcert", "/given/ca.pem"}};
  REQUIRE(ApplyTlsPolicy(policy, &keywords).ok());
  CHECK(Value(keywords, "sslmode") == "verify-full");
}

TEST_CASE("require_tls refuses a weaker sslmode from option() or the DSN, naming it",
          "[postgres][tls]") {
  for (const char* weak : {"disable", "allow", "prefer", "require"}) {
    Keywords keywords = {{"sslmode", weak}};
    const absl::Status status = ApplyTlsPolicy(TlsPolicy(), &keywords);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(status.message()) ==
          std::string("dbpool: require_tls() conflicts with sslmode=\"") + weak + "\"" +
              " (from option() or the DSN): require_tls() sets sslmode=verify-full; drop the "
              "setting or make it agree");
  }
  Keywords keywords = {{"sslmode", "verify-ca"}};
  CHECK(ApplyTlsPolicy(TlsPolicy(), &keywords).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("require_tls refuses GSSAPI encryption and a different CA file", "[postgres][tls]") {
  TempFiles files;
  Keywords keywords = {{"gssencmode", "require"}};
  absl::Status status = ApplyTlsPolicy(TlsPolicy(), &keywords);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("gssencmode=\"require\""));

  TlsPolicy policy;
  policy.ca_file = files.Add("ca.pem");
  keywords = {{"sslrootcert", "/other/ca.pem"}};
  status = ApplyTlsPolicy(policy, &keywords);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("sslrootcert=\"/other/ca.pem\""));

  keywords = {{"sslrootcert", policy.ca_file}, {"sslmode", "verify-full"}};
  CHECK(ApplyTlsPolicy(policy, &keywords).ok());
}

TEST_CASE("require_tls without a CA file trusts the system's CAs", "[postgres][tls]") {
  Keywords keywords;
  const absl::Status status = ApplyTlsPolicy(TlsPolicy(), &keywords);
  if (PQlibVersion() >= 160000) {
    REQUIRE(status.ok());
    CHECK(Value(keywords, "sslrootcert") == "system");
  } else if (!SystemCaFile().empty()) {
    REQUIRE(status.ok());
    CHECK(Value(keywords, "sslrootcert") == SystemCaFile());
  } else {
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(status.message()), Catch::Contains("ca_file"));
  }
}

TEST_CASE("require_tls checks the policy's files", "[postgres][tls]") {
  TempFiles files;
  TlsPolicy policy;
  policy.ca_file = files.Missing("ca.pem");
  Keywords keywords;
  const absl::Status status = ApplyTlsPolicy(policy, &keywords);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("ca_file"));
}

}  // namespace
}  // namespace postgres_internal
}  // namespace dbpool

namespace dbpool {
namespace postgres_internal {
namespace {

TEST_CASE("a session verifies the server only with sslmode verify-ca or verify-full",
          "[postgres][tls]") {
  // libpq reports a session's settings before it connects too.
  for (const auto& [mode, verifies] : {std::pair<const char*, bool>{"verify-full", true},
                                       {"verify-ca", true},
                                       {"require", false},
                                       {"prefer", false}}) {
    const char* keys[] = {"host", "port", "sslmode", nullptr};
    const char* values[] = {"127.0.0.1", "1", mode, nullptr};
    PGconn* conn = PQconnectStartParams(keys, values, 0);
    REQUIRE(conn != nullptr);
    INFO(mode);
    CHECK(SessionVerifiesServer(conn) == verifies);
    PQfinish(conn);
  }
}

}  // namespace
}  // namespace postgres_internal
}  // namespace dbpool
