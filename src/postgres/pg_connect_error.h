// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What a failed PostgreSQL connect means, read from libpq's error text.
//
// libpq reports a failed connect as text only. The driver makes that text
// verbose for the connect (PQERRORS_VERBOSE), so that an error the server
// sent carries its SQLSTATE ("FATAL:  28P01: password authentication
// failed ..."): the code decides, never words of the server's message,
// which a server (or a value quoted in it) can choose freely. Text that
// libpq or OpenSSL wrote itself (a bad option value, an unknown host, a
// certificate that fails verification) has no SQLSTATE; only that text is
// matched against libpq's own phrases.
#ifndef DBPOOL_POSTGRES_PG_CONNECT_ERROR_H_
#define DBPOOL_POSTGRES_PG_CONNECT_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dbpool {
namespace postgres_internal {

struct ConnectFailure {
  absl::StatusCode code = absl::StatusCode::kUnavailable;
  // Waiting cannot heal it (MarkConfigurationError): a certificate that
  // fails verification, a host name that does not exist.
  bool configuration = false;
  // libpq's text as the default verbosity writes it: the SQLSTATEs and
  // LOCATION lines that the verbose mode added are taken out.
  std::string text;
};

// Classifies PQerrorMessage() of a connect made with PQERRORS_VERBOSE.
// The code of a server's error, by SQLSTATE: class 28 (invalid
// authorization) kUnauthenticated; 42501 kPermissionDenied; 3D000 (no such
// database) kNotFound; 22023, 42704 (a bad or unknown setting)
// kInvalidArgument; anything else (53300 too many connections, 57P03
// starting up, ...) kUnavailable. Without one: libpq's own phrases.
ConnectFailure ClassifyConnectFailure(absl::string_view libpq_text);

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_CONNECT_ERROR_H_
