// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/credentials.h
//
// Credentials supplied at connect time, for rotating passwords and
// short-lived tokens (an IAM authentication token, a secret manager's
// current version): set with Builder::credentials().
#ifndef DBPOOL_CREDENTIALS_H_
#define DBPOOL_CREDENTIALS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "dbpool/endpoint.h"

namespace dbpool {

// Credentials
//
// The user and password of one new connection. The password is a secret:
// dbpool never puts it in a message, log line or statistic.
struct Credentials {
  // The user name. Empty: the user of Builder::user() or the DSN.
  std::string user;
  // The password or token. Empty: none (libpq may still read ~/.pgpass).
  std::string password;
};

// CredentialsProvider
//
// Called for every new connection (background opens, reconnects, failover
// probes' connections), from the pool's own threads, possibly from several
// at once: it must be thread-safe. `endpoint` is the server about to be
// connected (tokens are often signed for one host and port). Cache what is
// slow to fetch. Its time counts against connect_timeout: a call that has
// not returned by the connect's deadline fails that connect with
// kUnavailable and goes on, on a thread of its own, unwaited for; until it
// returns, no new call is made and connects fail at once (see
// BoundedCredentialsProvider). So a hung call holds no pool thread and no
// close(), but it may return after the pool has closed: what it uses must
// outlive it (capture shared state by value, not by reference).
//
// An error fails that connect with the same code and the message prefixed
// "credentials provider: "; kUnauthenticated and kPermissionDenied fail
// acquires fast while reconnects back off, like a refused password. Keep
// secrets out of the error's message. An exception it throws is caught and
// fails that connect with kInternal "credentials provider: threw an
// exception (its text is not shown: it may hold a secret)": its what() is
// never shown.
using CredentialsProvider = std::function<absl::StatusOr<Credentials>(const Endpoint& endpoint)>;

// ResolveCredentials()
//
// For driver authors: the user and password of a new connection to
// `endpoint`. `configured` is what the driver resolved from user(),
// password() and the DSN. With a `provider`: its answer, an empty user
// meaning configured.user; its error keeps the code and gets the message
// prefix "credentials provider: "; an exception it throws becomes the
// kInternal error above. Without one: `configured`.
absl::StatusOr<Credentials> ResolveCredentials(const CredentialsProvider& provider,
                                               const Endpoint& endpoint,
                                               const Credentials& configured);

// BoundedCredentialsProvider
//
// For driver authors: a CredentialsProvider whose calls are bounded by a
// deadline, as the pool's drivers call theirs (through
// ConnectWithCredentials() in dbpool/driver.h). Cheap to copy; copies share
// the count of calls still running. Thread-safe.
class BoundedCredentialsProvider {
 public:
  // No provider: Resolve() answers `configured`.
  BoundedCredentialsProvider() = default;
  explicit BoundedCredentialsProvider(CredentialsProvider provider);

  // Whether there is a provider.
  explicit operator bool() const { return static_cast<bool>(provider_); }

  // ResolveCredentials() of the provider, waiting for it until `deadline`.
  // The call runs on a thread of its own (one per call; a connect costs far
  // more), except with an InfiniteFuture() deadline or no provider, when it
  // runs on the caller's. Errors besides ResolveCredentials()':
  // kUnavailable "credentials provider: no answer by the connect deadline"
  // when the call has not returned by `deadline` (it goes on; its answer,
  // when it comes, is wiped and dropped); kUnavailable "credentials
  // provider: an earlier call has not returned" at once, without a call,
  // while such a call is still running, so that a hung provider costs one
  // thread per connect that was waiting on it, not one per retry;
  // kResourceExhausted when no thread can be started.
  absl::StatusOr<Credentials> Resolve(const Endpoint& endpoint, const Credentials& configured,
                                      absl::Time deadline) const;

 private:
  struct Shared;
  CredentialsProvider provider_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace dbpool

#endif  // DBPOOL_CREDENTIALS_H_
