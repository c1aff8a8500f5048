// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "postgres/pg_conninfo.h"

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dbpool {
namespace postgres_internal {
namespace {

constexpr int kDefaultPort = 5432;

// The password as written in a DSN (URI userinfo, ?password=, or
// password=...), so that messages quoting the DSN can hide it.
std::string PasswordText(absl::string_view dsn) {
  for (absl::string_view scheme : {"postgresql://", "postgres://"}) {
    if (!absl::StartsWith(dsn, scheme)) continue;
    absl::string_view rest = dsn.substr(scheme.size());
    absl::string_view authority = rest.substr(0, rest.find_first_of("/?"));
    const size_t at = authority.rfind('@');
    if (at != absl::string_view::npos) {
      absl::string_view userinfo = authority.substr(0, at);
      const size_t colon = userinfo.find(':');
      if (colon != absl::string_view::npos) return std::string(userinfo.substr(colon + 1));
    }
    const size_t q = rest.find("password=");
    if (q != absl::string_view::npos) {
      absl::string_view value = rest.substr(q + 9);
      return std::string(value.substr(0, value.find('&')));
    }
    return "";
  }
  const size_t k = dsn.find("password");
  if (k == absl::string_view::npos) return "";
  absl::string_view value = absl::StripLeadingAsciiWhitespace(dsn.substr(k + 8));
  if (!absl::ConsumePrefix(&value, "=")) return "";
  value = absl::StripLeadingAsciiWhitespace(value);
  if (absl::ConsumePrefix(&value, "'")) return std::string(value.substr(0, value.find('\'')));
  return std::string(value.substr(0, value.find_first_of(" \t\n")));
}

// libpq's parse error, made one line, with the password hidden and the
// position in the DSN of the first quoted token it names.
std::string DescribeDsnError(absl::string_view dsn, absl::string_view libpq_message) {
  std::string message(absl::StripTrailingAsciiWhitespace(libpq_message));
  absl::StrReplaceAll({{"\n", " "}}, &message);
  const std::string password = PasswordText(dsn);
  std::string position;
  std::vector<absl::string_view> parts = absl::StrSplit(message, '"');
  for (size_t i = 1; i + 1 < parts.size(); i += 2) {
    const absl::string_view token = parts[i];
    if (token.size() < 2 && i + 2 < parts.size()) continue;
    const size_t at = dsn.find(token);
    if (!token.empty() && at != absl::string_view::npos) {
      position = absl::StrCat(" at position ", at);
      break;
    }
  }
  if (position.empty() &&
      (absl::StrContains(message, "unterminated") || absl::StrContains(message, "end of string"))) {
    position = absl::StrCat(" at position ", dsn.size());
  }
  if (!password.empty()) absl::StrReplaceAll({{password, "***"}}, &message);
  return absl::StrCat("dbpool: dsn: ", message, position);
}

absl::Status ParsePort(absl::string_view text, int* port) {
  if (text.empty()) {
    *port = kDefaultPort;
    return absl::OkStatus();
  }
  if (!absl::SimpleAtoi(text, port) || *port < 1 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("dbpool: dsn: port \"", text, "\" is not in the allowed range 1..65535"));
  }
  return absl::OkStatus();
}

absl::Status AddDsnEndpoints(absl::string_view hosts, absl::string_view ports,
                             std::vector<Endpoint>* out) {
  if (hosts.empty()) return absl::OkStatus();
  std::vector<absl::string_view> host_list = absl::StrSplit(hosts, ',');
  std::vector<absl::string_view> port_list = absl::StrSplit(ports, ',');
  if (port_list.size() != 1 && port_list.size() != host_list.size()) {
    return absl::InvalidArgumentError(absl::StrCat("dbpool: dsn: ", host_list.size(), " hosts but ",
                                                   port_list.size(),
                                                   " ports; give one port, or one per host"));
  }
  for (size_t i = 0; i < host_list.size(); ++i) {
    if (host_list[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("dbpool: dsn: host #", i + 1, " of \"", hosts, "\" is empty"));
    }
    Endpoint e;
    e.host = std::string(host_list[i]);
    absl::Status st = ParsePort(port_list.size() == 1 ? port_list[0] : port_list[i], &e.port);
    if (!st.ok()) return st;
    out->push_back(std::move(e));
  }
  return absl::OkStatus();
}

const absl::flat_hash_set<std::string>& KnownKeywords() {
  static const auto* known = [] {
    auto* set = new absl::flat_hash_set<std::string>;
    PQconninfoOption* defaults = PQconndefaults();
    for (PQconninfoOption* o = defaults; o != nullptr && o->keyword != nullptr; ++o) {
      set->insert(o->keyword);
    }
    PQconninfoFree(defaults);
    return set;
  }();
  return *known;
}

void Set(std::vector<std::pair<std::string, std::string>>* kv, absl::string_view key,
         absl::string_view value) {
  for (auto& [k, v] : *kv) {
    if (k == key) {
      v = std::string(value);
      return;
    }
  }
  kv->emplace_back(std::string(key), std::string(value));
}

}  // namespace

absl::StatusOr<PgConnectParams> BuildPgConnectParams(const ConnectSettings& settings) {
  PgConnectParams params;
  params.endpoints = settings.endpoints;
  std::string dsn_hosts, dsn_hostaddrs, dsn_ports;
  if (!settings.dsn.empty()) {
    char* error = nullptr;
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> parsed(
        PQconninfoParse(settings.dsn.c_str(), &error), PQconninfoFree);
    if (parsed == nullptr) {
      const std::string message =
          DescribeDsnError(settings.dsn, error != nullptr ? error : "cannot parse");
      PQfreemem(error);
      return absl::InvalidArgumentError(message);
    }
    for (PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
      if (o->val == nullptr) continue;
      const absl::string_view key = o->keyword;
      if (key == "host") {
        dsn_hosts = o->val;
      } else if (key == "hostaddr") {
        dsn_hostaddrs = o->val;
      } else if (key == "port") {
        dsn_ports = o->val;
      } else {
        Set(&params.keywords, key, o->val);
      }
    }
    absl::Status st = AddDsnEndpoints(dsn_hosts.empty() ? dsn_hostaddrs : dsn_hosts, dsn_ports,
                                      &params.endpoints);
    if (!st.ok()) return st;
  }
  if (!settings.database.empty()) Set(&params.keywords, "dbname", settings.database);
  if (!settings.user.empty()) Set(&params.keywords, "user", settings.user);
  if (!settings.password.empty()) Set(&params.keywords, "password", settings.password);
  for (const auto& [key, value] : settings.options) {
    if (key == "host" || key == "hostaddr" || key == "port") {
      return absl::InvalidArgumentError(
          absl::StrCat("dbpool: option(\"", key, "\"): give servers with endpoint() or dsn()"));
    }
    if (!KnownKeywords().contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dbpool: option(\"", key, "\"): not a libpq connection keyword (see PQconndefaults)"));
    }
    Set(&params.keywords, key, value);
  }
  return params;
}

}  // namespace postgres_internal
}  // namespace dbpool
