// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// A server that asks for an absurd SCRAM iteration count cannot hold a
// connecting thread past its deadline (libpq would run the key derivation
// inside PQconnectPoll(), out of any deadline's reach), nor get a proof made
// with too few. The reading of the challenge without sockets, then the
// driver against a fake server (tests/support/fake_pg_server.h).
#include "postgres/pg_scram_guard.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dbpool/postgres.h"
#include "fake_pg_connect.h"
#include "fake_pg_server.h"

namespace dbpool {
namespace postgres_internal {
namespace {

using Kind = ScramChallengePeek::Kind;

// An AuthenticationSASLContinue message carrying `data`.
std::string Challenge(const std::string& data) {
  std::string out = "R";
  const uint32_t length = static_cast<uint32_t>(data.size() + 8);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
  out += std::string("\0\0\0\x0b", 4);
  return out + data;
}

TEST_CASE("a SCRAM challenge is read the way libpq reads it", "[postgres][security][scram]") {
  const std::string good = Challenge("r=abc,s=c2FsdA==,i=4096");
  ScramChallengePeek peek = PeekScramChallenge(good);
  CHECK(peek.kind == Kind::kIterations);
  CHECK(peek.iterations == 4096);

  // Prefixes wait for the rest: the header first, then the whole message.
  CHECK(PeekScramChallenge(good.substr(0, 1)).kind == Kind::kIncomplete);
  CHECK(PeekScramChallenge(good.substr(0, 5)).need == 9);
  peek = PeekScramChallenge(good.substr(0, 20));
  CHECK(peek.kind == Kind::kIncomplete);
  CHECK(peek.need == good.size());

  // Other messages are libpq's to judge: an error, AuthenticationOk, SASLFinal.
  CHECK(PeekScramChallenge("E\0\0\0\x05x").kind == Kind::kOther);
  CHECK(PeekScramChallenge(std::string("R\0\0\0\x08\0\0\0\0", 9)).kind == Kind::kOther);
  CHECK(PeekScramChallenge(std::string("R\0\0\0\x0c\0\0\0\x0cv=xx", 13)).kind == Kind::kOther);

  // A count libpq's strtol() would take but that is not plain digits, a
  // count out of order or missing, and an oversized message are refused.
  for (const char* data :
       {"r=abc,s=c2FsdA==,i=+99999999", "r=abc,s=c2FsdA==,i= 99999999", "r=abc,s=c2FsdA==,i=",
        "r=abc,i=4096,s=c2FsdA==", "r=abc,s=c2FsdA==", "r=abc,s=c2FsdA==,i=99999999999999999999"}) {
    INFO(data);
    CHECK(PeekScramChallenge(Challenge(data)).kind == Kind::kMalformed);
  }
  CHECK(PeekScramChallenge(Challenge("r=" + std::string(kMaxScramChallengeBytes, 'a'))).kind ==
        Kind::kMalformed);
}

TEST_CASE("SCRAM iteration counts outside the bounds are refused, naming them",
          "[postgres][security][scram]") {
  CHECK(CheckScramIterations(kMinScramIterations).ok());
  CHECK(CheckScramIterations(kMaxScramIterations).ok());
  for (int64_t count :
       {int64_t{1}, kMinScramIterations - 1, kMaxScramIterations + 1, int64_t{2147483647}}) {
    const absl::Status s = CheckScramIterations(count);
    CHECK(s.code() == absl::StatusCode::kPermissionDenied);
    CHECK(absl::StrContains(s.message(), absl::StrCat(count, " SCRAM iterations")));
    CHECK(absl::StrContains(s.message(),
                            absl::StrCat(kMinScramIterations, " to ", kMaxScramIterations)));
  }
}

TEST_CASE("a server asking for 2^31 SCRAM iterations is refused before the key derivation",
          "[postgres][security][scram]") {
  // Without the guard libpq would spend minutes here, past the deadline.
  const bool split = GENERATE(false, true);  // the challenge in one send or two
  INFO("split: " << split);
  testing::FakePgServer server(testing::FakePgServer::Scram{2147483647, split});
  const absl::Status s = testing::ConnectToFakePg(server);
  INFO(s.ToString());
  CHECK(s.code() == absl::StatusCode::kPermissionDenied);
  CHECK(absl::StrContains(s.message(), "2147483647 SCRAM iterations"));
  CHECK_FALSE(server.client_answered_challenge());
}

TEST_CASE("a server asking for one SCRAM iteration gets no proof", "[postgres][security][scram]") {
  testing::FakePgServer server(testing::FakePgServer::Scram{1});
  const absl::Status s = testing::ConnectToFakePg(server);
  INFO(s.ToString());
  CHECK(s.code() == absl::StatusCode::kPermissionDenied);
  CHECK(absl::StrContains(s.message(), "asks for 1 SCRAM iterations"));
  CHECK_FALSE(server.client_answered_challenge());
}

TEST_CASE("a server asking for the default 4096 SCRAM iterations gets its proof",
          "[postgres][security][scram]") {
  const bool split = GENERATE(false, true);
  INFO("split: " << split);
  testing::FakePgServer server(testing::FakePgServer::Scram{4096, split});
  const absl::Status s = testing::ConnectToFakePg(server);
  INFO(s.ToString());
  CHECK(server.client_answered_challenge());
  CHECK(s.code() == absl::StatusCode::kUnauthenticated);  // the fake server's answer
  CHECK(absl::StrContains(s.message(), "password authentication failed"));
}

}  // namespace
}  // namespace postgres_internal
}  // namespace dbpool
