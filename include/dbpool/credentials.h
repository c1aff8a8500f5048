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
#include <string>

#include "absl/status/statusor.h"
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
// slow to fetch: the pool cannot interrupt a call, so a provider that hangs
// holds a pool thread past connect_timeout until it returns.
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

}  // namespace dbpool

#endif  // DBPOOL_CREDENTIALS_H_
