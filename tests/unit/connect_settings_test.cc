// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What every driver shares about TLS policies and credentials: the policy's
// own checks, the resolution of a credentials provider's answer, and the
// retry of a connect that raced a password rotation.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "dbpool/credentials.h"
#include "dbpool/driver.h"
#include "dbpool/tls.h"
#include "temp_files.h"

namespace dbpool {
namespace {

using testing::TempFiles;

TEST_CASE("a TLS policy with readable files, or none, is valid", "[tls]") {
  TempFiles files;
  TlsPolicy policy;
  CHECK(policy.Validate().ok());
  policy.ca_file = files.Add("ca.pem");
  policy.cert_file = files.Add("client.pem");
  policy.key_file = files.Add("client.key");
  CHECK(policy.Validate().ok());
}

TEST_CASE("a TLS policy naming an unreadable file is refused, naming the field", "[tls]") {
  TempFiles files;
  TlsPolicy policy;
  policy.ca_file = files.Missing("ca.pem");
  absl::Status status = policy.Validate();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(status.message()) ==
        "dbpool: require_tls(): ca_file \"" + policy.ca_file + "\" is not a readable file");

  policy.ca_file = "";
  policy.cert_file = files.Add("client.pem");
  policy.key_file = files.Missing("client.key");
  status = policy.Validate();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("key_file"));
}

TEST_CASE("a client certificate without its key, or a key alone, is refused", "[tls]") {
  TempFiles files;
  TlsPolicy policy;
  policy.cert_file = files.Add("client.pem");
  CHECK(policy.Validate().code() == absl::StatusCode::kInvalidArgument);
  policy.cert_file = "";
  policy.key_file = files.Add("client.key");
  const absl::Status status = policy.Validate();
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(status.message()), Catch::Contains("cert_file and key_file go together"));
}

TEST_CASE("SystemCaFile names a readable bundle or nothing", "[tls]") {
  const std::string bundle = SystemCaFile();
  if (!bundle.empty()) CHECK(::access(bundle.c_str(), R_OK) == 0);
  CHECK((bundle.empty() || bundle[0] == '/'));
}

TEST_CASE("SystemCaFile finds Debian's bundle where ca-certificates installed it", "[tls]") {
  // scripts/deps.sh installs ca-certificates for the tests, so that the
  // tests which branch on SystemCaFile() take the branch with a bundle.
  constexpr char kDebianBundle[] = "/etc/ssl/certs/ca-certificates.crt";
  if (::access("/etc/debian_version", R_OK) != 0 || ::access(kDebianBundle, R_OK) != 0) {
    WARN("no " << kDebianBundle << " on this machine: nothing to check");
    return;
  }
  CHECK(SystemCaFile() == kDebianBundle);
}

TEST_CASE("an encrypted key file without a passphrase is refused, naming the knob", "[tls]") {
  TempFiles files;
  const std::string pkcs8 = files.Add(
      "pkcs8.key",
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n");
  const std::string traditional = files.Add(
      "rsa.key",
      "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n"
      "\nMIIB\n-----END RSA PRIVATE KEY-----\n");
  const std::string plain =
      files.Add("plain.key", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
  for (const std::string& key : {pkcs8, traditional}) {
    const absl::Status s = CheckKeyFileNeedsNoPrompt("sslkey", key, /*has_passphrase=*/false);
    INFO(s);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(s.message()), Catch::Contains("sslkey \"" + key + "\""));
    CHECK_THAT(std::string(s.message()), Catch::Contains("encrypted"));
    CHECK(CheckKeyFileNeedsNoPrompt("sslkey", key, /*has_passphrase=*/true).ok());
  }
  CHECK(CheckKeyFileNeedsNoPrompt("sslkey", plain, false).ok());
  CHECK(CheckKeyFileNeedsNoPrompt("sslkey", files.Missing("none.key"), false).ok());
  CHECK(CheckKeyFileNeedsNoPrompt("sslkey", "", false).ok());
}

TEST_CASE("without a provider the configured credentials are used", "[credentials]") {
  absl::StatusOr<Credentials> c =
      ResolveCredentials(nullptr, Endpoint{"db", 5432}, Credentials{"app", "pw"});
  REQUIRE(c.ok());
  CHECK(c->user == "app");
  CHECK(c->password == "pw");
}

TEST_CASE("a provider's answer wins; its empty user means the configured one", "[credentials]") {
  Endpoint seen;
  CredentialsProvider provider = [&](const Endpoint& e) -> absl::StatusOr<Credentials> {
    seen = e;
    return Credentials{"", "token-1"};
  };
  absl::StatusOr<Credentials> c =
      ResolveCredentials(provider, Endpoint{"db2", 5433}, Credentials{"app", "old"});
  REQUIRE(c.ok());
  CHECK(c->user == "app");
  CHECK(c->password == "token-1");
  CHECK(seen.host == "db2");
  CHECK(seen.port == 5433);

  provider = [](const Endpoint&) -> absl::StatusOr<Credentials> {
    return Credentials{"iam_user", "token-2"};
  };
  c = ResolveCredentials(provider, Endpoint{"db", 1}, Credentials{"app", "old"});
  REQUIRE(c.ok());
  CHECK(c->user == "iam_user");
  CHECK(c->password == "token-2");
}

TEST_CASE("a provider's error keeps its code and says where it came from", "[credentials]") {
  CredentialsProvider provider = [](const Endpoint&) -> absl::StatusOr<Credentials> {
    return absl::UnavailableError("secret store timed out");
  };
  absl::StatusOr<Credentials> c =
      ResolveCredentials(provider, Endpoint{"db", 1}, Credentials{"app", "pw"});
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(c.status().message()) == "credentials provider: secret store timed out");
}

// A connect that records the passwords it was given and accepts only
// `accepted`.
struct RecordingConnect {
  explicit RecordingConnect(std::string accepted, absl::Status other_error = absl::OkStatus())
      : accepted(std::move(accepted)), other_error(std::move(other_error)) {}

  std::string accepted;
  absl::Status other_error;  // returned instead, when set
  std::vector<std::string> tried;

  absl::StatusOr<std::unique_ptr<DriverConnection>> operator()(const Credentials& c) {
    tried.push_back(c.password);
    if (!other_error.ok()) return other_error;
    if (c.password != accepted) return absl::UnauthenticatedError("password refused");
    return std::unique_ptr<DriverConnection>();  // a null connection stands for success
  }
};

absl::StatusOr<std::unique_ptr<DriverConnection>> Connect(const CredentialsProvider& provider,
                                                          RecordingConnect* connect) {
  return ConnectWithCredentials(provider, Endpoint{"db", 1}, Credentials{"app", "configured"},
                                "ctx", [connect](const Credentials& c) { return (*connect)(c); });
}

TEST_CASE("a connect that raced a rotation is retried once with the provider's new answer",
          "[credentials]") {
  int calls = 0;
  CredentialsProvider provider = [&](const Endpoint&) -> absl::StatusOr<Credentials> {
    ++calls;
    return Credentials{"", calls == 1 ? "old" : "new"};  // rotated after the first call
  };
  RecordingConnect connect("new");
  CHECK(Connect(provider, &connect).ok());
  CHECK(connect.tried == std::vector<std::string>{"old", "new"});
}

TEST_CASE("a refused password is not retried when the provider's answer is the same",
          "[credentials]") {
  CredentialsProvider provider = [](const Endpoint&) -> absl::StatusOr<Credentials> {
    return Credentials{"", "wrong"};
  };
  RecordingConnect connect("right");
  const absl::Status status = Connect(provider, &connect).status();
  CHECK(status.code() == absl::StatusCode::kUnauthenticated);
  CHECK(connect.tried == std::vector<std::string>{"wrong"});
}

TEST_CASE("only refused credentials are retried, and only with a provider", "[credentials]") {
  int calls = 0;
  CredentialsProvider provider = [&](const Endpoint&) -> absl::StatusOr<Credentials> {
    ++calls;
    return Credentials{"", calls == 1 ? "old" : "new"};
  };
  RecordingConnect unreachable("new", absl::UnavailableError("refused"));
  CHECK(Connect(provider, &unreachable).status().code() == absl::StatusCode::kUnavailable);
  CHECK(unreachable.tried.size() == 1);

  RecordingConnect fixed("other");
  CHECK(Connect(nullptr, &fixed).status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(fixed.tried == std::vector<std::string>{"configured"});
}

TEST_CASE("a provider's error is prefixed with the driver's context", "[credentials]") {
  CredentialsProvider provider = [](const Endpoint&) -> absl::StatusOr<Credentials> {
    return absl::PermissionDeniedError("no token for you");
  };
  RecordingConnect connect("x");
  const absl::Status status = Connect(provider, &connect).status();
  CHECK(status.code() == absl::StatusCode::kPermissionDenied);
  CHECK(std::string(status.message()) == "ctx: credentials provider: no token for you");
  CHECK(connect.tried.empty());
}

}  // namespace
}  // namespace dbpool
