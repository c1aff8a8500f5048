// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/postgres.h
//
// The PostgreSQL pool over libpq: dbpool::PgPool, dbpool::PgLease, and
// helpers turning libpq results into absl::Status. Link dbpool::postgres.
//
//   absl::StatusOr<dbpool::PgPool> pool = dbpool::PgPool::Builder()
//       .endpoint("127.0.0.1", 5432).database("app").user("app")
//       .password("secret").max_size(16).build();
//   absl::StatusOr<dbpool::PgLease> lease = pool->acquire();
//   PGresult* r = PQexec(lease->native(), "SELECT 1");
#ifndef DBPOOL_POSTGRES_H_
#define DBPOOL_POSTGRES_H_

#include <libpq-fe.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dbpool/driver.h"
#include "dbpool/lease.h"
#include "dbpool/outcome.h"
#include "dbpool/pool.h"

namespace dbpool {

// Postgres
//
// The driver traits behind PgPool. Builder::option() accepts any libpq
// conninfo keyword (see PQconndefaults()); Builder::dsn() any string that
// PQconninfoParse() accepts: "postgresql://user@h1:5432,h2:5433/db?k=v" or
// "host=h1,h2 port=5432,5433 dbname=db". Each host becomes an endpoint; the
// pool, not libpq, walks them and enforces connect_timeout.
struct Postgres {
  using Native = PGconn;
  static absl::StatusOr<DriverSetup> make_driver(const ConnectSettings& settings);
};

using PgPool = Pool<Postgres>;
using PgLease = Lease<Postgres>;

// The payload key under which PgStatus() stores the SQLSTATE.
inline constexpr absl::string_view kSqlStatePayload = "dbpool.sqlstate";

// PgStatus(result, conn)
//
// OK for PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE,
// PGRES_EMPTY_QUERY, PGRES_COPY_*; otherwise a status whose code follows the
// SQLSTATE and whose message holds the server's message and "SQLSTATE xxxxx"
// (also stored as the kSqlStatePayload payload):
//   08xxx, 57P01..57P03, 25006 (read-only), a null result
//                         on a lost connection  -> kUnavailable
//   28P01 / 28000         -> kUnauthenticated / kPermissionDenied
//   42501                 -> kPermissionDenied
//   23505                 -> kAlreadyExists; other 23xxx -> kFailedPrecondition
//   40001, 40P01          -> kAborted (retry the transaction)
//   57014                 -> kCancelled
//   53xxx                 -> kResourceExhausted
//   22xxx, 42xxx          -> kInvalidArgument (42P01, 42883 -> kNotFound)
//   0A000                 -> kUnimplemented; anything else -> kUnknown
// `conn` (optional) gives the message when `result` is null.
//
// Every failure also carries what is known of the command's effect as the
// kOutcomePayload payload (dbpool/outcome.h), which is why `conn` should be
// passed: libpq's state tells a lost reply from a refused command.
//   - outcome unknown (IsOutcomeUnknown() is true; code kUnavailable): a
//     result without SQLSTATE on a connection that is now bad: the command
//     was sent and the connection died before its reply ("server closed the
//     connection unexpectedly"); and SQLSTATE 08007 (transaction resolution
//     unknown).
//   - not applied: any other SQLSTATE, that is an ErrorResponse from the
//     server, which refused the command or rolled it back (25006 read-only,
//     40001, 40P01, 57P01 terminating connection, 23505, ...); and a null
//     `result` on a bad connection: PQexec() refused to send ("no
//     connection to the server"). Connect failures (08001, 08004, 08006
//     reported by a connect) never reach a statement.
//   - unclassified: no SQLSTATE on a good connection (an error of libpq's
//     own), or no `conn` given with a result lacking a SQLSTATE.
absl::Status PgStatus(const PGresult* result, const PGconn* conn = nullptr);

// PgStatus(conn)
//
// OK when the connection is good; kUnavailable with libpq's message if not.
// Unclassified (no kOutcomePayload): it says nothing of any command.
absl::Status PgStatus(const PGconn* conn);

// PgStatusFromSqlState()
//
// The status code PgStatus() uses for a SQLSTATE.
absl::StatusCode PgStatusFromSqlState(absl::string_view sqlstate);

}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_H_
