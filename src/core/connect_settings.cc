// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What every driver shares about connect settings: the checks of a TLS
// policy's files, endpoint counts, quoting and wiping of secrets, and
// configuration errors.
#include <string.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/user_code.h"
#include "dbpool/credentials.h"
#include "dbpool/driver.h"
#include "dbpool/tls.h"

namespace dbpool {
namespace {

absl::Status CheckReadable(const char* field, const std::string& path) {
  if (path.empty() || ::access(path.c_str(), R_OK) == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("dbpool: require_tls(): ", field, " \"", path, "\" is not a readable file"));
}

}  // namespace

std::string SystemCaFile() {
  static constexpr const char* kBundles[] = {
      "/etc/ssl/certs/ca-certificates.crt",  // Debian, Ubuntu, Arch
      "/etc/pki/tls/certs/ca-bundle.crt",    // RHEL, Fedora
      "/etc/ssl/cert.pem",                   // Alpine, macOS
      "/etc/ssl/ca-bundle.pem",              // SUSE
  };
  for (const char* path : kBundles) {
    if (::access(path, R_OK) == 0) return path;
  }
  return "";
}

absl::Status TlsPolicy::Validate() const {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        "dbpool: require_tls(): cert_file and key_file go together (both or neither)");
  }
  if (absl::Status s = CheckReadable("ca_file", ca_file); !s.ok()) return s;
  if (absl::Status s = CheckReadable("cert_file", cert_file); !s.ok()) return s;
  return CheckReadable("key_file", key_file);
}

absl::Status RequireTlsConflict(absl::string_view key, absl::string_view value,
                                absl::string_view wanted, bool value_is_secret) {
  return absl::InvalidArgumentError(absl::StrCat(
      "dbpool: require_tls() conflicts with ", key, "=", QuoteSettingValue(value, value_is_secret),
      " (from option() or the DSN): require_tls() sets ", key, "=", wanted,
      "; drop the setting or make it agree"));
}

absl::Status CheckKeyFileNeedsNoPrompt(absl::string_view knob, const std::string& path,
                                       bool has_passphrase) {
  if (path.empty() || has_passphrase) return absl::OkStatus();
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::OkStatus();
  std::string head(64 * 1024, '\0');
  file.read(&head[0], static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(file.gcount()));
  // PKCS#8 ("ENCRYPTED PRIVATE KEY") and the traditional PEM encryption
  // header ("Proc-Type: 4,ENCRYPTED", with DEK-Info).
  if (!absl::StrContains(head, "-----BEGIN ENCRYPTED PRIVATE KEY-----") &&
      !absl::StrContains(head, "Proc-Type: 4,ENCRYPTED")) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "dbpool: ", knob, " \"", path,
      "\" holds an encrypted private key and no passphrase is given: OpenSSL would ask for it on "
      "the terminal from a pool thread; give the passphrase (PostgreSQL: option sslpassword) or "
      "use an unencrypted key"));
}

absl::Status CheckEndpointCount(size_t count) {
  if (count <= kMaxEndpoints) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("dbpool: ", count,
                                                 " endpoints (from endpoint() and the DSN); at "
                                                 "most ",
                                                 kMaxEndpoints, " are allowed"));
}

void WipeSecret(std::string* secret) {
  if (!secret->empty()) ::explicit_bzero(&(*secret)[0], secret->size());
}

void ConnectSettings::WipeSecrets() {
  WipeSecret(&password);
  WipeSecret(&dsn);
  for (auto& option : options) WipeSecret(&option.second);
}

std::string QuoteSettingValue(absl::string_view text, bool secret) {
  if (secret) return "(text not shown: it may be part of the password)";
  std::string out = "\"";
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(u, absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string EscapeServerText(absl::string_view text) {
  text = absl::StripTrailingAsciiWhitespace(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char u = static_cast<unsigned char>(text[i]);
    if (u == '\n' || (u == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (u == '\r') ++i;  // "\r\n": one space
      out.push_back(' ');
    } else if (u < 0x20 || u == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(u, absl::kZeroPad2));
    } else {
      out.push_back(static_cast<char>(u));
    }
  }
  return out;
}

namespace {
constexpr absl::string_view kConfigurationErrorPayload = "dbpool/configuration-error";
}  // namespace

absl::Status MarkConfigurationError(absl::Status status) {
  if (!status.ok()) status.SetPayload(kConfigurationErrorPayload, absl::Cord("1"));
  return status;
}

bool IsConfigurationError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
      return true;
    default:
      return !status.ok() && status.GetPayload(kConfigurationErrorPayload).has_value();
  }
}

}  // namespace dbpool
