// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Builder::require_tls() for libpq: the TlsPolicy as conninfo keywords.
#ifndef DBPOOL_POSTGRES_PG_TLS_H_
#define DBPOOL_POSTGRES_PG_TLS_H_

#include <libpq-fe.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "dbpool/tls.h"
#include "postgres/pg_conninfo.h"

namespace dbpool {
namespace postgres_internal {

// ApplyTlsPolicy()
//
// Sets sslmode (verify-full, or verify-ca for TlsVerify::kCa), sslrootcert,
// ssl_min_protocol_version=TLSv1.2 (TLSv1.3 given elsewhere stays),
// sslcert, sslkey and gssencmode=disable (so that a GSSAPI-encrypted session
// cannot stand in for a verified TLS one) in `keywords`. A keyword already
// there (from option() or the DSN) must agree: sslmode the same or
// verify-full; a file the same as the policy's, or any when the policy
// leaves it empty. Errors: kInvalidArgument naming the keyword (its value
// quoted, unless the keyword is secret or in `hidden`: see
// PgConnectParams::tainted), or the policy's own problem
// (TlsPolicy::Validate(), no system CA bundle).
using HiddenKeys = absl::flat_hash_set<std::string>;
absl::Status ApplyTlsPolicy(const TlsPolicy& policy, PgKeywords* keywords,
                            const HiddenKeys& hidden = HiddenKeys());

// SessionVerifiesServer()
//
// Whether `conn` (connected or not) runs with sslmode verify-ca or
// verify-full, as libpq reports it (PQconninfo): with require_tls() the
// driver checks it after each connect, beside PQsslInUse(), so that a
// session is verified, not only encrypted.
bool SessionVerifiesServer(PGconn* conn);

// CheckNoSocketEndpoints()
//
// For require_tls(): libpq ignores sslmode on Unix-domain sockets (a host
// starting with '/' or '@'), so such an endpoint would connect, and send
// the password, in plaintext. Errors: kInvalidArgument naming the endpoint.
absl::Status CheckNoSocketEndpoints(const std::vector<Endpoint>& endpoints);

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_TLS_H_
