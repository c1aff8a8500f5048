// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/tls.h
//
// TlsPolicy: the transport security every connection of a pool must have,
// set with Builder::require_tls(). With it, a connection is either
// encrypted and verified as asked, or it is not made: no setting, server or
// man in the middle can downgrade it to plaintext.
#ifndef DBPOOL_TLS_H_
#define DBPOOL_TLS_H_

#include <string>

#include "absl/status/status.h"

namespace dbpool {

// TlsVerify
//
// How much of the server's certificate is checked.
enum class TlsVerify {
  // The certificate chains to a trusted CA and names the host the pool
  // connected to (the endpoint's host: list endpoints by the names in the
  // certificates, or put IP addresses in them). The default.
  kFull,
  // The certificate chains to a trusted CA; the host name is not checked.
  // Protects against eavesdropping and against servers without a
  // certificate of that CA, not against one server impersonating another.
  // MariaDB Connector/C cannot check a chain without the host name: build()
  // refuses kCa there (kInvalidArgument).
  kCa,
};

// TlsPolicy
//
// What Builder::require_tls() asks of every connection. The files are read
// when each connection is made, so renewed certificates are picked up by new
// connections. build() checks that they are readable.
struct TlsPolicy {
  // The PEM file of the CA certificates trusted to sign server
  // certificates. Empty (the default): the system's trust store
  // (sslrootcert=system with libpq 16 and later, else SystemCaFile(); build()
  // fails when there is none).
  std::string ca_file;

  // A client certificate and its private key (PEM), for servers that
  // authenticate clients by certificate. Both or neither. Default: none.
  std::string cert_file;
  std::string key_file;

  // What is checked of the server certificate. Default: TlsVerify::kFull.
  TlsVerify verify = TlsVerify::kFull;

  // Checks the policy alone (not against a driver's other settings): every
  // named file readable, cert_file and key_file both or neither.
  // kInvalidArgument naming the field and the file.
  absl::Status Validate() const;
};

// SystemCaFile()
//
// The system's CA bundle: the first readable one of the usual places
// (Debian/Ubuntu, RHEL/Fedora, Alpine, SUSE), or "" when there is none.
// What an empty TlsPolicy::ca_file means where the client library has no
// "system trust store" setting of its own.
std::string SystemCaFile();

}  // namespace dbpool

#endif  // DBPOOL_TLS_H_
