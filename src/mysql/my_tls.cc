// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Builder::require_tls() for the MySQL client library.
#include "mysql/my_tls.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "dbpool/driver.h"
#include "mysql/my_compat.h"

namespace dbpool {
namespace mysql_internal {
namespace {

// The policy's file wins when set; a different one already there is a
// conflict; with the policy's empty, an existing value stays.
absl::Status SetFile(absl::string_view key, const std::string& path, std::string* option) {
  if (path.empty()) return absl::OkStatus();
  if (!option->empty() && *option != path) return RequireTlsConflict(key, *option, path);
  *option = path;
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckTlsEnvironment() {
  const char* skip = std::getenv("MARIADB_TLS_DISABLE_PEER_VERIFICATION");
  if (skip == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "dbpool: require_tls(): the environment variable MARIADB_TLS_DISABLE_PEER_VERIFICATION is "
      "set, which makes MariaDB Connector/C 3.4 and later accept any certificate; unset it");
}

absl::Status ApplyTlsPolicy(const TlsPolicy& policy, MyOptions* options) {
  if (absl::Status s = policy.Validate(); !s.ok()) return s;
  MyOptions& o = *options;

  const SslMode wanted =
      policy.verify == TlsVerify::kFull ? SslMode::kVerifyIdentity : SslMode::kVerifyCa;
#if defined(DBPOOL_MYSQL_MARIADB_CC)
  if (wanted == SslMode::kVerifyCa) {
    return absl::InvalidArgumentError(
        "dbpool: require_tls(): TlsVerify::kCa is not available with MariaDB Connector/C, "
        "which always checks the host name when it verifies a certificate; use TlsVerify::kFull");
  }
#endif
  if (o.ssl_verify_server_cert.has_value() && !*o.ssl_verify_server_cert) {
    return RequireTlsConflict("ssl_verify_server_cert", "false", "true");
  }
  if (o.ssl_mode != SslMode::kUnset && o.ssl_mode < wanted) {
    return RequireTlsConflict("ssl_mode", SslModeName(o.ssl_mode), SslModeName(wanted));
  }
  if (o.ssl_mode == SslMode::kUnset) o.ssl_mode = wanted;
  // A CA directory widens the policy's trust to the union of both (the
  // library loads both), and a cipher list can allow null ciphers.
  if (!o.ssl_capath.empty()) {
    return RequireTlsConflict("ssl_capath", o.ssl_capath, "(none: use TlsPolicy::ca_file)");
  }
  if (!o.ssl_cipher.empty()) {
    return RequireTlsConflict("ssl_cipher", o.ssl_cipher, "(none: the library's defaults)");
  }

  if (absl::Status s = SetFile("ssl_cert", policy.cert_file, &o.ssl_cert); !s.ok()) return s;
  if (absl::Status s = SetFile("ssl_key", policy.key_file, &o.ssl_key); !s.ok()) return s;
  if (!policy.ca_file.empty()) return SetFile("ssl_ca", policy.ca_file, &o.ssl_ca);
  if (!o.ssl_ca.empty()) return absl::OkStatus();  // given elsewhere
  o.ssl_ca = SystemCaFile();
  if (o.ssl_ca.empty()) {
    return absl::InvalidArgumentError(
        "dbpool: require_tls(): no ca_file given and no system CA bundle found; set "
        "TlsPolicy::ca_file");
  }
  return absl::OkStatus();
}

}  // namespace mysql_internal
}  // namespace dbpool
