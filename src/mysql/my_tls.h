// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Builder::require_tls() for the MySQL client library: the TlsPolicy as
// ssl_* options.
#ifndef DBPOOL_MYSQL_MY_TLS_H_
#define DBPOOL_MYSQL_MY_TLS_H_

#include "absl/status/status.h"
#include "dbpool/tls.h"
#include "mysql/my_options.h"

namespace dbpool {
namespace mysql_internal {

// ApplyTlsPolicy()
//
// Sets ssl_mode (VERIFY_IDENTITY, or VERIFY_CA for TlsVerify::kCa), ssl_ca
// (the policy's, else one given by option() or the DSN, else
// SystemCaFile()), ssl_cert and ssl_key in `options`, which FinishOptions()
// has checked. Settings already there must agree: ssl_mode the same or
// stricter, no ssl_verify_server_cert=false, files the same as the
// policy's, no ssl_capath (it would widen the trust to the union) and no
// ssl_cipher (a list can allow null ciphers). The driver then also checks after each connect that
// TLS was negotiated (RequiresTls()). Errors: kInvalidArgument naming the option, TlsVerify::kCa on
// MariaDB Connector/C (which cannot verify a chain without the host name), or the policy's own
// problem.
absl::Status ApplyTlsPolicy(const TlsPolicy& policy, MyOptions* options);

// CheckTlsEnvironment()
//
// kInvalidArgument naming MARIADB_TLS_DISABLE_PEER_VERIFICATION when it is
// set (to anything): MariaDB Connector/C 3.4 and later then skip every
// certificate check while the handshake, and the post-connect cipher
// check, still pass. The driver calls it when the options verify the peer
// (require_tls(), ssl_mode VERIFY_*, ssl_verify_server_cert): at build() and
// again before each connect, since the environment can change.
absl::Status CheckTlsEnvironment();

}  // namespace mysql_internal
}  // namespace dbpool

#endif  // DBPOOL_MYSQL_MY_TLS_H_
