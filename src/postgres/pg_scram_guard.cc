// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "postgres/pg_scram_guard.h"

#include <sys/socket.h>

#include <array>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "postgres/pg_socket_wait.h"

namespace dbpool {
namespace postgres_internal {
namespace {

constexpr char kAuthenticationMessage = 'R';
constexpr uint32_t kSaslContinue = 11;      // AuthenticationSASLContinue
constexpr size_t kHeaderBytes = 1 + 4 + 4;  // type, length, authentication code

uint32_t ReadBe32(absl::string_view s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// True when `digits` is a plain decimal count (libpq's strtol would also take
// a sign or leading spaces: such a count is refused rather than guessed).
bool ReadCount(absl::string_view digits, int64_t* count) {
  if (digits.empty() || digits.size() > 12) return false;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(digits, count);
}

}  // namespace

ScramChallengePeek PeekScramChallenge(absl::string_view head) {
  using Kind = ScramChallengePeek::Kind;
  ScramChallengePeek peek;
  if (head.empty() || head[0] != kAuthenticationMessage) return peek;  // kOther
  if (head.size() < kHeaderBytes) {
    peek.kind = Kind::kIncomplete;
    peek.need = kHeaderBytes;
    return peek;
  }
  const uint32_t length = ReadBe32(head, 1);  // counts itself and the code, not the type
  if (ReadBe32(head, 5) != kSaslContinue) return peek;
  if (length < 8 || length - 8 > kMaxScramChallengeBytes) {
    peek.kind = Kind::kMalformed;
    return peek;
  }
  const size_t total = 1 + static_cast<size_t>(length);
  if (head.size() < total) {
    peek.kind = Kind::kIncomplete;
    peek.need = total;
    return peek;
  }
  // "r=<nonce>,s=<salt>,i=<count>": libpq reads the attributes in this order.
  const std::vector<absl::string_view> parts =
      absl::StrSplit(head.substr(kHeaderBytes, total - kHeaderBytes), ',');
  peek.kind = Kind::kMalformed;
  if (parts.size() < 3 || !absl::StartsWith(parts[0], "r=") || !absl::StartsWith(parts[1], "s=") ||
      !absl::StartsWith(parts[2], "i=") || !ReadCount(parts[2].substr(2), &peek.iterations)) {
    return peek;
  }
  peek.kind = Kind::kIterations;
  return peek;
}

absl::Status CheckScramIterations(int64_t iterations) {
  if (iterations >= kMinScramIterations && iterations <= kMaxScramIterations) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "the server asks for ", iterations, " SCRAM iterations; dbpool accepts ", kMinScramIterations,
      " to ", kMaxScramIterations,
      " (fewer weaken the password proof, more would hold this thread past its deadline)"));
}

absl::Status GuardScramChallenge(PGconn* conn, absl::Time deadline, int abort_fd) {
  using Kind = ScramChallengePeek::Kind;
  if (PQstatus(conn) != CONNECTION_AWAITING_RESPONSE || PQsslInUse(conn) == 1) {
    return absl::OkStatus();
  }
  const int fd = PQsocket(conn);
  std::array<char, kHeaderBytes + kMaxScramChallengeBytes> buf{};
  ssize_t seen = 0;
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n <= seen) return absl::OkStatus();  // nothing new: an error or end of file for libpq
    seen = n;
    const ScramChallengePeek peek = PeekScramChallenge(absl::string_view(buf.data(), n));
    switch (peek.kind) {
      case Kind::kOther:
        return absl::OkStatus();
      case Kind::kIterations:
        return CheckScramIterations(peek.iterations);
      case Kind::kMalformed:
        return absl::PermissionDeniedError(
            absl::StrCat("the server's SCRAM challenge is malformed or longer than ",
                         kMaxScramChallengeBytes, " bytes"));
      case Kind::kIncomplete:
        break;
    }
    // Part of a challenge: wait for the rest (poll() reports the socket
    // readable only once SO_RCVLOWAT bytes are there, or at end of file).
    const int need = static_cast<int>(peek.need);
    const int one = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &need, sizeof(need));
    const absl::Status ready = WaitForSocket(fd, SocketReady::kReadable, deadline, abort_fd);
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
    if (ready.code() == absl::StatusCode::kCancelled) return ready;
    if (!ready.ok()) {
      return absl::UnavailableError(
          absl::StrCat("waiting for the rest of the server's SCRAM challenge: ", ready.message()));
    }
  }
}

}  // namespace postgres_internal
}  // namespace dbpool
