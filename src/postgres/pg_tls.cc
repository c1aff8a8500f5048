// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Builder::require_tls() for libpq.
#include "postgres/pg_tls.h"

#include <libpq-fe.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "dbpool/driver.h"
#include "postgres/pg_conninfo.h"

namespace dbpool {
namespace postgres_internal {
namespace {

// A file keyword: the policy's value wins when set; a different one already
// there is a conflict; with the policy's empty, any existing value stays.
absl::Status SetFile(PgKeywords* keywords, const char* key, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  const std::string* existing = FindKeyword(*keywords, key);
  if (existing != nullptr && !existing->empty() && *existing != path) {
    return RequireTlsConflict(key, *existing, path);
  }
  SetKeyword(keywords, key, path);
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyTlsPolicy(const TlsPolicy& policy, PgKeywords* keywords) {
  if (absl::Status s = policy.Validate(); !s.ok()) return s;

  const std::string mode = policy.verify == TlsVerify::kFull ? "verify-full" : "verify-ca";
  const std::string* sslmode = FindKeyword(*keywords, "sslmode");
  if (sslmode != nullptr && !sslmode->empty() && *sslmode != mode && *sslmode != "verify-full") {
    return RequireTlsConflict("sslmode", *sslmode, mode);
  }
  if (sslmode == nullptr || sslmode->empty()) SetKeyword(keywords, "sslmode", mode);

  const std::string* gssencmode = FindKeyword(*keywords, "gssencmode");
  if (gssencmode != nullptr && !gssencmode->empty() && *gssencmode != "disable") {
    return RequireTlsConflict("gssencmode", *gssencmode, "disable");
  }
  SetKeyword(keywords, "gssencmode", "disable");

  if (absl::Status s = SetFile(keywords, "sslcert", policy.cert_file); !s.ok()) return s;
  if (absl::Status s = SetFile(keywords, "sslkey", policy.key_file); !s.ok()) return s;
  if (!policy.ca_file.empty()) return SetFile(keywords, "sslrootcert", policy.ca_file);

  const std::string* rootcert = FindKeyword(*keywords, "sslrootcert");
  if (rootcert != nullptr && !rootcert->empty()) return absl::OkStatus();  // given elsewhere
  if (PQlibVersion() >= 160000) {
    SetKeyword(keywords, "sslrootcert", "system");
    return absl::OkStatus();
  }
  std::string bundle = SystemCaFile();
  if (bundle.empty()) {
    return absl::InvalidArgumentError(
        "dbpool: require_tls(): no ca_file given and no system CA bundle found (this libpq "
        "predates sslrootcert=system); set TlsPolicy::ca_file");
  }
  SetKeyword(keywords, "sslrootcert", bundle);
  return absl::OkStatus();
}

}  // namespace postgres_internal
}  // namespace dbpool
