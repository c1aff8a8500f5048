// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Bounding the SCRAM iteration count a server asks for. libpq accepts any
// count of at least 1 and runs the key derivation (PBKDF2, one HMAC per
// iteration) synchronously inside PQconnectPoll(), where no deadline can
// reach it: a server (or a man in the middle of a session without verified
// TLS) asking for 2^31 iterations would hold the connecting thread for
// minutes, and one asking for 1 would weaken the proof against offline
// cracking. libpq 15 has no hook to refuse a count, so the connect loop
// reads the server's SCRAM challenge from the socket (without consuming it)
// before libpq does, and refuses a count outside the bounds below.
//
// Limit: a TLS session's bytes are encrypted, so the check applies to
// plaintext sessions only; under TLS only a server whose certificate
// verifies (require_tls()) can ask for a count.
#ifndef DBPOOL_POSTGRES_PG_SCRAM_GUARD_H_
#define DBPOOL_POSTGRES_PG_SCRAM_GUARD_H_

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace dbpool {
namespace postgres_internal {

// The iteration counts accepted. 4096 is both RFC 7677's floor and the
// PostgreSQL server's default (scram_iterations, PostgreSQL 16+; fixed
// before). The ceiling leaves room for servers hardened well beyond the
// default (password-hashing guides ask for 600,000 PBKDF2-SHA256 rounds)
// while bounding what one connect can cost.
inline constexpr int64_t kMinScramIterations = 4096;
inline constexpr int64_t kMaxScramIterations = 1000000;

// The longest SCRAM server-first-message accepted (a real one is about 100
// bytes: two nonces, a salt and the count).
inline constexpr size_t kMaxScramChallengeBytes = 1024;

// What the bytes at the head of a server's reply say (sans-I/O: a pure
// function of the bytes, tested without sockets).
struct ScramChallengePeek {
  enum class Kind {
    kOther,       // not a SCRAM server-first-message: libpq judges it
    kIncomplete,  // a prefix of one: `need` bytes are needed to judge
    kIterations,  // a complete one asking for `iterations`
    kMalformed,   // one whose count cannot be read, or too long
  };
  Kind kind = Kind::kOther;
  size_t need = 0;
  int64_t iterations = 0;
};

// Reads `head`, the first bytes the server sent after the client's SCRAM
// first message: an AuthenticationSASLContinue message ('R', length, 11,
// "r=<nonce>,s=<salt>,i=<count>") is read the way libpq reads it (the
// count is the third attribute); anything else is kOther.
ScramChallengePeek PeekScramChallenge(absl::string_view head);

// kPermissionDenied (a configuration error: retrying cannot help) when `iterations` is outside
// [kMinScramIterations, kMaxScramIterations]; OK otherwise. The message names the count and the
// bounds.
absl::Status CheckScramIterations(int64_t iterations);

// For the connect loop, called when `conn`'s socket is readable and libpq is
// about to read: while libpq awaits an authentication reply on a plaintext
// session, peeks at the socket (waiting until `deadline` for the rest of a
// challenge that arrived in part) and refuses a SCRAM challenge whose count
// is out of bounds or unreadable. OK otherwise, including a socket error or
// end of file, which libpq then reports. kUnavailable when the rest of a
// challenge does not come by `deadline`; kCancelled once `abort_fd` (see
// WaitForSocket()) is readable first.
absl::Status GuardScramChallenge(PGconn* conn, absl::Time deadline, int abort_fd = -1);

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_SCRAM_GUARD_H_
