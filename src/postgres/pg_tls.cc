// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Builder::require_tls() for libpq.
#include "postgres/pg_tls.h"

#include <libpq-fe.h>

#include <memory>
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

bool Hidden(const HiddenKeys& hidden, absl::string_view key) {
  return IsSecretKeyword(key) || hidden.contains(key);
}

// A file keyword: the policy's value wins when set; a different one already
// there is a conflict; with the policy's empty, any existing value stays.
absl::Status SetFile(PgKeywords* keywords, const char* key, const std::string& path,
                     const HiddenKeys& hidden) {
  if (path.empty()) return absl::OkStatus();
  const std::string* existing = FindKeyword(*keywords, key);
  if (existing != nullptr && !existing->empty() && *existing != path) {
    return RequireTlsConflict(key, *existing, path, Hidden(hidden, key));
  }
  SetKeyword(keywords, key, path);
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyTlsPolicy(const TlsPolicy& policy, PgKeywords* keywords,
                            const HiddenKeys& hidden) {
  if (absl::Status s = policy.Validate(); !s.ok()) return s;

  const std::string mode = policy.verify == TlsVerify::kFull ? "verify-full" : "verify-ca";
  const std::string* sslmode = FindKeyword(*keywords, "sslmode");
  if (sslmode != nullptr && !sslmode->empty() && *sslmode != mode && *sslmode != "verify-full") {
    return RequireTlsConflict("sslmode", *sslmode, mode, Hidden(hidden, "sslmode"));
  }
  if (sslmode == nullptr || sslmode->empty()) SetKeyword(keywords, "sslmode", mode);

  const std::string* gssencmode = FindKeyword(*keywords, "gssencmode");
  if (gssencmode != nullptr && !gssencmode->empty() && *gssencmode != "disable") {
    return RequireTlsConflict("gssencmode", *gssencmode, "disable", Hidden(hidden, "gssencmode"));
  }
  SetKeyword(keywords, "gssencmode", "disable");

  // Explicit, so that PGSSLMINPROTOCOLVERSION cannot lower it.
  const std::string* min_version = FindKeyword(*keywords, "ssl_min_protocol_version");
  if (min_version != nullptr && !min_version->empty() && *min_version != "TLSv1.2" &&
      *min_version != "TLSv1.3") {
    return RequireTlsConflict("ssl_min_protocol_version", *min_version, "TLSv1.2",
                              Hidden(hidden, "ssl_min_protocol_version"));
  }
  if (min_version == nullptr || min_version->empty()) {
    SetKeyword(keywords, "ssl_min_protocol_version", "TLSv1.2");
  }

  if (absl::Status s = SetFile(keywords, "sslcert", policy.cert_file, hidden); !s.ok()) return s;
  if (absl::Status s = SetFile(keywords, "sslkey", policy.key_file, hidden); !s.ok()) return s;
  if (!policy.ca_file.empty()) return SetFile(keywords, "sslrootcert", policy.ca_file, hidden);

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

bool SessionVerifiesServer(PGconn* conn) {
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> info(PQconninfo(conn),
                                                                      PQconninfoFree);
  for (PQconninfoOption* o = info.get(); o != nullptr && o->keyword != nullptr; ++o) {
    if (absl::string_view(o->keyword) == "sslmode") {
      const absl::string_view mode = o->val != nullptr ? o->val : "";
      return mode == "verify-full" || mode == "verify-ca";
    }
  }
  return false;
}

absl::Status CheckNoSocketEndpoints(const std::vector<Endpoint>& endpoints) {
  for (const Endpoint& e : endpoints) {
    if (!e.host.empty() && (e.host[0] == '/' || e.host[0] == '@')) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dbpool: require_tls() conflicts with the Unix-domain socket endpoint ",
          QuoteSettingValue(e.host, false),
          ": libpq does not use TLS on sockets; give a host name (or drop require_tls())"));
    }
  }
  return absl::OkStatus();
}

}  // namespace postgres_internal
}  // namespace dbpool
