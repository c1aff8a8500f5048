// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Builder::require_tls() against real servers that serve TLS with a CA and
// certificate generated for the test (scripts/servers.sh with "tls"), and
// against the shared servers, which serve no TLS at all.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "harnesses.h"
#include "scratch_servers.h"
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

// H's server with TLS, started on first use (each test case runs in a
// process of its own) and stopped at exit.
template <typename H>
const ScratchServers& TlsServers() {
  static const ScratchServers servers(absl::StrCat(H::kServerName, " tls"));
  return servers;
}

TlsPolicy Trusting(const std::string& ca_file) {
  TlsPolicy policy;
  policy.ca_file = ca_file;
  return policy;
}

// A builder for the TLS server of H at `host` (its certificate names
// "localhost" only), failing fast.
template <typename H>
typename H::PoolType::Builder TlsBuilder(const std::string& host, const std::string& tag) {
  typename H::PoolType::Builder b = H::BaseBuilder(tag);
  b.endpoint(host, TlsServers<H>().Port(H::kPortVariable))
      .acquire_timeout(absl::Seconds(1))
      .connect_timeout(absl::Seconds(5));
  return b;
}

// The first acquire's status. Refused connects are retried until the
// acquire's deadline, so the pools here give up after one second.
template <typename Pool>
absl::Status AcquireStatus(const Pool& pool) {
  absl::Status status = pool.acquire().status();
  UNSCOPED_INFO("acquire: " << status);
  return status;
}

// What each client library (Debian 12's libpq 15 and Connector/C 3.3) says
// when verification fails: a chain to a CA it does not trust, and a
// certificate that does not name the host asked for. Matching these rather
// than the word "certificate" tells the two refusals apart.
template <typename H>
struct Refusal;
#if DBPOOL_TEST_WITH_POSTGRES
template <>
struct Refusal<PgHarness> {
  static constexpr const char* kUntrusted = "certificate verify failed";
  static constexpr const char* kWrongHost = "does not match host name \"127.0.0.1\"";
};
#endif
#if DBPOOL_TEST_WITH_MYSQL
template <>
struct Refusal<MyHarness> {
  static constexpr const char* kUntrusted = "self-signed certificate in certificate chain";
  static constexpr const char* kWrongHost = "Validation of SSL server certificate failed";
};
#endif

// The pool's message carries the client library's reason.
void CheckRefusedFor(const absl::Status& status, const std::string& reason) {
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(std::string(status.message()), Catch::Contains(reason, Catch::CaseSensitive::No));
}

TEMPLATE_TEST_CASE("require_tls with the right CA and host name gives encrypted sessions",
                   "[integration][tls]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = TlsBuilder<H>("localhost", UniqueTag("tls_ok"))
                  .require_tls(Trusting(TlsServers<H>().Get("DBPOOL_TEST_TLS_CA")))
                  .build();
  REQUIRE(pool.ok());
  for (int i = 0; i < 3; ++i) {
    auto lease = pool->acquire();
    REQUIRE(lease.ok());
    absl::StatusOr<std::string> encrypted = H::Query(lease->native(), H::kTlsInUseQuery);
    REQUIRE(encrypted.ok());
    CHECK((*encrypted == "true" || *encrypted == "1"));
    lease->discard();  // the next round opens a new connection
  }
  CHECK(pool->stats().created >= 3);
}

TEMPLATE_TEST_CASE("require_tls refuses a server certificate signed by another CA",
                   "[integration][tls]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = TlsBuilder<H>("localhost", UniqueTag("tls_ca"))
                  .require_tls(Trusting(TlsServers<H>().Get("DBPOOL_TEST_TLS_OTHER_CA")))
                  .build();
  REQUIRE(pool.ok());
  CheckRefusedFor(AcquireStatus(*pool), Refusal<H>::kUntrusted);
  CHECK(pool->stats().created == 0);
  CHECK(pool->stats().in_use == 0);
}

TEMPLATE_TEST_CASE("require_tls refuses a host name the certificate does not name",
                   "[integration][tls]", DBPOOL_HARNESSES) {
  using H = TestType;
  // 127.0.0.1 is the same server, but its certificate names only localhost.
  auto pool = TlsBuilder<H>("127.0.0.1", UniqueTag("tls_host"))
                  .require_tls(Trusting(TlsServers<H>().Get("DBPOOL_TEST_TLS_CA")))
                  .build();
  REQUIRE(pool.ok());
  CheckRefusedFor(AcquireStatus(*pool), Refusal<H>::kWrongHost);
  CHECK(pool->stats().created == 0);
}

#if DBPOOL_TEST_WITH_POSTGRES
TEMPLATE_TEST_CASE(
    "a certificate that fails verification fails acquires at once, not at acquire_timeout",
    "[integration][tls]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = TlsBuilder<H>("127.0.0.1", UniqueTag("tls_fast"))
                  .acquire_timeout(absl::Seconds(20))
                  .require_tls(Trusting(TlsServers<H>().Get("DBPOOL_TEST_TLS_CA")))
                  .build();
  REQUIRE(pool.ok());
  for (int i = 0; i < 2; ++i) {
    const absl::Time start = absl::Now();
    const absl::Status status = pool->acquire().status();
    INFO("acquire #" << i << ": " << status);
    CheckRefusedFor(status, Refusal<H>::kWrongHost);
    CHECK(IsConfigurationError(status));  // marked by the driver: waiting cannot heal it
    CHECK(absl::Now() - start < absl::Seconds(5));
  }
  const absl::Status ping = pool->ping();
  CHECK(IsConfigurationError(ping));
}

TEMPLATE_TEST_CASE("require_tls with host names unchecked accepts the certificate by address",
                   "[integration][tls]", PgHarness) {
  using H = TestType;
  TlsPolicy policy = Trusting(TlsServers<H>().Get("DBPOOL_TEST_TLS_CA"));
  policy.verify = TlsVerify::kCa;
  auto pool = TlsBuilder<H>("127.0.0.1", UniqueTag("tls_ca_only")).require_tls(policy).build();
  REQUIRE(pool.ok());
  auto lease = pool->acquire();
  REQUIRE(lease.ok());
  CHECK(H::Query(lease->native(), H::kTlsInUseQuery).value_or("") == "true");
}
#endif

TEMPLATE_TEST_CASE("require_tls by default trusts the system CAs, not the test CA",
                   "[integration][tls]", DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = TlsBuilder<H>("localhost", UniqueTag("tls_system")).require_tls().build();
  if (SystemCaFile().empty()) {  // no system bundle: refused at build(), naming ca_file
    REQUIRE_FALSE(pool.ok());
    CHECK_THAT(std::string(pool.status().message()), Catch::Contains("ca_file"));
    return;
  }
  REQUIRE(pool.ok());
  CheckRefusedFor(AcquireStatus(*pool), Refusal<H>::kUntrusted);  // the test CA is not a system one
}

TEMPLATE_TEST_CASE("require_tls refuses a server that offers no TLS", "[integration][tls]",
                   DBPOOL_HARNESSES) {
  using H = TestType;
  // The shared servers serve plaintext only.
  auto pool = H::Builder(UniqueTag("tls_none"))
                  .acquire_timeout(absl::Seconds(1))
                  .require_tls(Trusting(TlsServers<H>().Get("DBPOOL_TEST_TLS_CA")))
                  .build();
  REQUIRE(pool.ok());
  CheckRefusedFor(AcquireStatus(*pool), "SSL");
  CHECK(pool->stats().created == 0);
  // The same pool without require_tls connects: the refusal is TLS's doing.
  auto plain = H::Builder(UniqueTag("tls_none_plain")).build();
  REQUIRE(plain.ok());
  CHECK(AcquireStatus(*plain).ok());
}

TEMPLATE_TEST_CASE("require_tls refuses a weaker TLS setting at build()", "[integration][tls]",
                   DBPOOL_HARNESSES) {
  using H = TestType;
  auto pool = H::Builder(UniqueTag("tls_weak"))
                  .option(H::kWeakTlsKey, H::kWeakTlsValue)
                  .require_tls(Trusting(TlsServers<H>().Get("DBPOOL_TEST_TLS_CA")))
                  .build();
  REQUIRE_FALSE(pool.ok());
  CHECK(pool.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(pool.status().message()),
             Catch::Contains(H::kWeakTlsKey) && Catch::Contains("require_tls()"));
}

#if DBPOOL_TEST_WITH_MYSQL
TEST_CASE("MySQL ssl_mode=REQUIRED refuses a server without TLS instead of falling back",
          "[integration][tls][mysql]") {
  // Connector/C 3.3 alone would connect in plaintext here; the driver checks
  // the negotiated cipher after connecting.
  auto pool = MyHarness::Builder(UniqueTag("tls_required"))
                  .option("ssl_mode", "REQUIRED")
                  .acquire_timeout(absl::Seconds(1))
                  .build();
  REQUIRE(pool.ok());
  const absl::Status status = AcquireStatus(*pool);
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK_THAT(std::string(status.message()), Catch::Contains("did not negotiate TLS"));
}
#endif

}  // namespace
}  // namespace testing
}  // namespace dbpool
