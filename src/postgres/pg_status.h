// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The rule behind PgStatus()'s outcome payload, for the driver and tests.
#ifndef DBPOOL_POSTGRES_PG_STATUS_H_
#define DBPOOL_POSTGRES_PG_STATUS_H_

#include "dbpool/outcome.h"

namespace dbpool {
namespace postgres_internal {

// What is known of a failed command's effect, from what libpq left:
//   `sqlstate`       the result's SQLSTATE, or null when it has none
//   `got_result`     libpq produced a result for the command (it was sent)
//   `connection_ok`  PQstatus() is CONNECTION_OK now
// 08007 -> kUnknown; any other SQLSTATE (an ErrorResponse: the server
// refused or rolled back the command) -> kNotApplied; no SQLSTATE on a lost
// connection: kUnknown if a result came back (libpq's "server closed the
// connection unexpectedly" after sending), kNotApplied if not (libpq refused
// to send: "no connection to the server"); no SQLSTATE on a good connection
// (a client-side error) -> kUnclassified.
Outcome PgOutcome(const char* sqlstate, bool got_result, bool connection_ok);

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_STATUS_H_
