// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "postgres/pg_connect_error.h"

#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace dbpool {
namespace postgres_internal {
namespace {

// In a line libpq wrote for a server's error, "<SEVERITY>:  <SQLSTATE>: ":
// the position just past the SQLSTATE's ": ", and the SQLSTATE.
struct Coded {
  size_t code_at;
  absl::string_view sqlstate;
};

std::optional<Coded> FindSqlstate(absl::string_view line) {
  for (absl::string_view severity : {"FATAL:  ", "ERROR:  ", "PANIC:  "}) {
    const size_t at = line.find(severity);
    if (at == absl::string_view::npos) continue;
    const size_t code_at = at + severity.size();
    if (line.size() < code_at + 7 || line.substr(code_at + 5, 2) != ": ") continue;
    const absl::string_view code = line.substr(code_at, 5);
    bool valid = true;
    for (char c : code) valid = valid && (absl::ascii_isdigit(c) || absl::ascii_isupper(c));
    if (valid) return Coded{code_at, code};
  }
  return std::nullopt;
}

absl::StatusCode CodeOfSqlstate(absl::string_view sqlstate) {
  if (absl::StartsWith(sqlstate, "28")) return absl::StatusCode::kUnauthenticated;
  if (sqlstate == "42501") return absl::StatusCode::kPermissionDenied;
  if (sqlstate == "3D000") return absl::StatusCode::kNotFound;
  if (sqlstate == "22023" || sqlstate == "42704") return absl::StatusCode::kInvalidArgument;
  return absl::StatusCode::kUnavailable;
}

// libpq's (and OpenSSL's) own phrases, for text no server wrote.
absl::StatusCode CodeOfLibpqText(absl::string_view text) {
  if (absl::StrContains(text, "no password supplied") ||
      absl::StrContains(text, "password is required")) {
    return absl::StatusCode::kUnauthenticated;
  }
  if (absl::StrContains(text, "invalid connection option") ||
      (absl::StrContains(text, "invalid ") && absl::StrContains(text, " value"))) {
    return absl::StatusCode::kInvalidArgument;
  }
  return absl::StatusCode::kUnavailable;
}

bool LibpqTextCannotHeal(absl::string_view text) {
  return absl::StrContains(text, "certificate verify failed") ||
         absl::StrContains(text, "does not match host name") ||
         (absl::StrContains(text, "could not translate host name") &&
          !absl::StrContains(text, "Temporary failure"));
}

}  // namespace

ConnectFailure ClassifyConnectFailure(absl::string_view libpq_text) {
  ConnectFailure failure;
  std::optional<absl::StatusCode> server_code;  // the last server error's
  std::vector<std::string> kept;
  std::string own;  // the lines no server wrote
  // A server's error runs from its coded line to the next attempt (libpq
  // starts each with "connection to server ..."): its DETAIL, HINT and any
  // line breaks of its own are the server's text too.
  bool server_text = false;
  for (absl::string_view line : absl::StrSplit(libpq_text, '\n')) {
    if (absl::StartsWith(line, "connection to server ")) server_text = false;
    if (std::optional<Coded> coded = FindSqlstate(line)) {
      server_text = true;
      server_code = CodeOfSqlstate(coded->sqlstate);
      kept.push_back(absl::StrCat(line.substr(0, coded->code_at), line.substr(coded->code_at + 7)));
      continue;
    }
    if (server_text) {
      if (!absl::StartsWith(line, "LOCATION:  ")) kept.emplace_back(line);
      continue;
    }
    absl::StrAppend(&own, line, "\n");
    kept.emplace_back(line);
  }
  failure.text = absl::StrJoin(kept, "\n");
  failure.code = server_code.value_or(CodeOfLibpqText(own));
  failure.configuration = LibpqTextCannotHeal(own);
  return failure;
}

}  // namespace postgres_internal
}  // namespace dbpool
