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

namespace dbpool {
namespace postgres_internal {
namespace {

using Keywords = std::vector<std::pair<std::string, std::string>>;

// The value of `key` (the last one wins in libpq), or nullptr.
const std::string* Find(const Keywords& keywords, absl::string_view key) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : keywords) {
    if (k == key) found = &v;
  }
  return found;
}

void Set(Keywords* keywords, const std::string& key, std::string value) {
  for (auto it = keywords->begin(); it != keywords->end();) {
    it = it->first == key ? keywords->erase(it) : it + 1;
  }
  keywords->emplace_back(key, std::move(value));
}

absl::Status Conflict(absl::string_view key, absl::string_view value, absl::string_view wanted) {
  return absl::InvalidArgumentError(
      absl::StrCat("dbpool: require_tls() conflicts with ", key, "=", value,
                   " (from option() or the DSN): require_tls() sets ", key, "=", wanted,
                   "; drop the setting or make it agree"));
}

// A file keyword: the policy's value wins when set; a different one already
// there is a conflict; with the policy's empty, any existing value stays.
absl::Status SetFile(Keywords* keywords, const char* key, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  const std::string* existing = Find(*keywords, key);
  if (existing != nullptr && !existing->empty() && *existing != path) {
    return Conflict(key, *existing, path);
  }
  Set(keywords, key, path);
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyTlsPolicy(const TlsPolicy& policy, Keywords* keywords) {
  if (absl::Status s = policy.Validate(); !s.ok()) return s;

  const std::string mode = policy.verify == TlsVerify::kFull ? "verify-full" : "verify-ca";
  const std::string* sslmode = Find(*keywords, "sslmode");
  if (sslmode != nullptr && !sslmode->empty() && *sslmode != mode && *sslmode != "verify-full") {
    return Conflict("sslmode", *sslmode, mode);
  }
  if (sslmode == nullptr || sslmode->empty()) Set(keywords, "sslmode", mode);

  const std::string* gssencmode = Find(*keywords, "gssencmode");
  if (gssencmode != nullptr && !gssencmode->empty() && *gssencmode != "disable") {
    return Conflict("gssencmode", *gssencmode, "disable");
  }
  Set(keywords, "gssencmode", "disable");

  if (absl::Status s = SetFile(keywords, "sslcert", policy.cert_file); !s.ok()) return s;
  if (absl::Status s = SetFile(keywords, "sslkey", policy.key_file); !s.ok()) return s;
  if (!policy.ca_file.empty()) return SetFile(keywords, "sslrootcert", policy.ca_file);

  const std::string* rootcert = Find(*keywords, "sslrootcert");
  if (rootcert != nullptr && !rootcert->empty()) return absl::OkStatus();  // given elsewhere
  if (PQlibVersion() >= 160000) {
    Set(keywords, "sslrootcert", "system");
    return absl::OkStatus();
  }
  std::string bundle = SystemCaFile();
  if (bundle.empty()) {
    return absl::InvalidArgumentError(
        "dbpool: require_tls(): no ca_file given and no system CA bundle found (this libpq "
        "predates sslrootcert=system); set TlsPolicy::ca_file");
  }
  Set(keywords, "sslrootcert", std::move(bundle));
  return absl::OkStatus();
}

}  // namespace postgres_internal
}  // namespace dbpool
