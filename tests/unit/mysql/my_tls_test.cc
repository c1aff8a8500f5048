// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// require_tls() as ssl_* options of the MySQL client library, and its
// conflicts with the options of option() and the DSN.
#include "mysql/my_tls.h"

#include <catch2/catch.hpp>
#include <string>

#include "dbpool/mysql.h"
#include "mysql/my_compat.h"
#include "temp_files.h"

namespace dbpool {
namespace mysql_internal {
namespace {

using testing::TempFiles;

TEST_CASE("require_tls sets VERIFY_IDENTITY and the policy's files", "[mysql][tls]") {
  TempFiles files;
  TlsPolicy policy;
  policy.ca_file = files.Add("ca.pem");
  policy.cert_file = files.Add("client.pem");
  policy.key_file = files.Add("client.key");
  MyOptions options;
  REQUIRE(ApplyTlsPolicy(policy, &options).ok());
  CHECK(options.ssl_mode == SslMode::kVerifyIdentity);
  CHECK(options.ssl_ca == policy.ca_file);
  CHECK(options.ssl_cert == policy.cert_file);
  CHECK(options.ssl_key == policy.key_file);
  CHECK(RequiresTls(options));  // so the driver checks the cipher after connecting
}

TEST_CASE("require_tls refuses a weaker ssl_mode or an unverified certificate, naming it",
          "[mysql][tls]") {
  for (SslMode weak :
       {SslMode::kDisabled, SslMode::kPreferred, SslMode::kRequired, SslMode::kVerifyCa}) {
    MyOptions options;
    options.ssl_mode = weak;
    const absl::Status status = ApplyTlsPolicy(TlsPolicy(), &options);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(status.message()) ==
          "dbpool: require_tls() conflicts with ssl_mode=\"" + std::string(SslModeName(weak)) +
              "\" (from option() or the DSN): require_tls() sets ssl_mode=VERIFY_IDENTITY; drop "
              "the setting or make it agree");
  }
  MyOptions options;
  options.ssl_verify_server_cert = false;
  const absl::Status status = ApplyTlsPolicy(TlsPolicy(), &options);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("ssl_verify_server_cert=\"false\""));
}

TEST_CASE("require_tls keeps a CA given elsewhere, else a different one conflicts",
          "[mysql][tls]") {
  TempFiles files;
  MyOptions options;
  options.ssl_ca = "/given/ca.pem";
  REQUIRE(ApplyTlsPolicy(TlsPolicy(), &options).ok());
  CHECK(options.ssl_ca == "/given/ca.pem");

  TlsPolicy policy;
  policy.ca_file = files.Add("ca.pem");
  options = MyOptions();
  options.ssl_ca = "/other/ca.pem";
  const absl::Status status = ApplyTlsPolicy(policy, &options);
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("ssl_ca=\"/other/ca.pem\""));
}

TEST_CASE("require_tls without any CA trusts the system bundle", "[mysql][tls]") {
  MyOptions options;
  const absl::Status status = ApplyTlsPolicy(TlsPolicy(), &options);
  if (SystemCaFile().empty()) {
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  } else {
    REQUIRE(status.ok());
    CHECK(options.ssl_ca == SystemCaFile());
  }
}

TEST_CASE("require_tls with TlsVerify::kCa depends on the client library", "[mysql][tls]") {
  TlsPolicy policy;
  policy.verify = TlsVerify::kCa;
  MyOptions options;
  options.ssl_ca = "/given/ca.pem";
  const absl::Status status = ApplyTlsPolicy(policy, &options);
#if defined(DBPOOL_MYSQL_MARIADB_CC)
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("TlsVerify::kFull"));
#else
  REQUIRE(status.ok());
  CHECK(options.ssl_mode == SslMode::kVerifyCa);
#endif
}

TEST_CASE("an encrypted ssl_key fails build(), so OpenSSL never prompts",
          "[mysql][tls][security]") {
  TempFiles files;
  const std::string key = files.Add(
      "client.key",
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n");
  ConnectSettings s;
  s.endpoints = {{"127.0.0.1", 3306}};
  s.options = {{"ssl_key", key}, {"ssl_mode", "REQUIRED"}};
  auto setup = MySql::make_driver(s);
  INFO(setup.status());
  CHECK(setup.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(setup.status().message()), Catch::Contains("ssl_key \"" + key));
}

}  // namespace
}  // namespace mysql_internal
}  // namespace dbpool
