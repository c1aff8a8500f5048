// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// libpq results and connections as absl::Status, by SQLSTATE.
#include "postgres/pg_status.h"

#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "dbpool/postgres.h"

namespace dbpool {
namespace postgres_internal {

Outcome PgOutcome(const char* sqlstate, bool got_result, bool connection_ok) {
  if (sqlstate != nullptr) {
    return absl::string_view(sqlstate) == "08007" ? Outcome::kUnknown : Outcome::kNotApplied;
  }
  if (connection_ok) return Outcome::kUnclassified;
  return got_result ? Outcome::kUnknown : Outcome::kNotApplied;
}

}  // namespace postgres_internal

absl::StatusCode PgStatusFromSqlState(absl::string_view s) {
  using Code = absl::StatusCode;
  if (s.size() != 5) return Code::kUnknown;
  if (absl::StartsWith(s, "08") || s == "57P01" || s == "57P02" || s == "57P03" || s == "25006") {
    return Code::kUnavailable;
  }
  if (s == "28P01") return Code::kUnauthenticated;
  if (absl::StartsWith(s, "28") || s == "42501") return Code::kPermissionDenied;
  if (s == "23505") return Code::kAlreadyExists;
  if (absl::StartsWith(s, "23")) return Code::kFailedPrecondition;
  if (s == "40001" || s == "40P01") return Code::kAborted;
  if (s == "57014") return Code::kCancelled;
  if (absl::StartsWith(s, "53")) return Code::kResourceExhausted;
  if (s == "42P01" || s == "42883") return Code::kNotFound;
  if (absl::StartsWith(s, "22") || absl::StartsWith(s, "42")) return Code::kInvalidArgument;
  if (s == "0A000") return Code::kUnimplemented;
  return Code::kUnknown;
}

absl::Status PgStatus(const PGconn* conn) {
  if (conn == nullptr) return absl::UnavailableError("postgres: no connection");
  if (PQstatus(conn) == CONNECTION_OK) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "postgres: connection lost: ", absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn))));
}

absl::Status PgStatus(const PGresult* result, const PGconn* conn) {
  using postgres_internal::PgOutcome;
  const bool connection_ok = conn == nullptr || PQstatus(conn) == CONNECTION_OK;
  if (result == nullptr) {
    if (!connection_ok) {
      return WithOutcome(PgStatus(conn), PgOutcome(nullptr, /*got_result=*/false, false));
    }
    return absl::UnknownError(absl::StrCat(
        "postgres: no result", conn == nullptr ? "" : ": ",
        conn == nullptr ? "" : absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn))));
  }
  switch (PQresultStatus(result)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_SINGLE_TUPLE:
    case PGRES_EMPTY_QUERY:
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
    case PGRES_PIPELINE_SYNC:
      return absl::OkStatus();
    default:
      break;
  }
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string message(absl::StripTrailingAsciiWhitespace(PQresultErrorMessage(result)));
  if (state == nullptr) {
    // No SQLSTATE: an error raised by libpq itself, usually a lost connection.
    // Without `conn` nothing is known of the connection: unclassified.
    const bool lost = !connection_ok;
    return WithOutcome(
        absl::Status(lost ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnknown,
                     absl::StrCat("postgres: ", message.empty() ? "error" : message)),
        PgOutcome(nullptr, /*got_result=*/true, connection_ok));
  }
  absl::Status status(PgStatusFromSqlState(state),
                      absl::StrCat("postgres: ", message, " (SQLSTATE ", state, ")"));
  status.SetPayload(kSqlStatePayload, absl::Cord(state));
  return WithOutcome(std::move(status), PgOutcome(state, /*got_result=*/true, connection_ok));
}

}  // namespace dbpool
