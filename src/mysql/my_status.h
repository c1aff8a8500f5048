// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Turning MySQL client errors into absl::Status (the public helpers are in
// dbpool/mysql.h; these are the pieces the driver and the tests share).
#ifndef DBPOOL_MYSQL_MY_STATUS_H_
#define DBPOOL_MYSQL_MY_STATUS_H_

#include <mysql.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "dbpool/outcome.h"

namespace dbpool {
namespace mysql_internal {

// Whether `err` says the connection is gone (the session cannot be reused).
// 4031 counts (MySQL's idle disconnect); see IsConnectionLossOn().
bool IsConnectionLoss(unsigned int err);

// Whether the server behind a connected handle is MariaDB (from its version
// string; no I/O).
bool ServerIsMariaDb(MYSQL* mysql);

// IsConnectionLoss() for the handle's last error, except 4031 from a
// MariaDB server, where that number is a trigger error.
bool IsConnectionLossOn(MYSQL* mysql);

// The status for one client error: `context` (may be empty, e.g.
// "dbpool: mysql connect to h:3306") + ": " + `message` +
// " (MySQL error <err>, SQLSTATE <sqlstate>)", with the kMySqlErrnoPayload
// payload. The code follows MySqlStatusFromErrno(), or the SQLSTATE class
// when the error number is not known. `server_is_mariadb` turns 4031 into
// kUnknown (it is a trigger error there, not a timeout). `err` must not be 0.
absl::Status MakeMySqlError(unsigned int err, absl::string_view sqlstate, absl::string_view message,
                            absl::string_view context, bool server_is_mariadb = false);

// What is known of the effect of a command that failed with `err` (see
// MySqlStatus()): 2006, 2013, 2055, 5013, 5014 (lost while sending or
// waiting for the reply) -> kUnknown; the connect errors (2001..2005, 2011,
// 2012, 2026) -> kNotApplied; other client errors -> kUnclassified; every
// server error (sent by the server instead of running the statement, or
// after rolling it back: 1290, 1836, 1792, 1213, 1205, 1053, 4031, ...)
// -> kNotApplied.
Outcome MySqlOutcomeFromErrno(unsigned int err);

// The status code for a SQLSTATE class (its first two characters).
absl::StatusCode StatusCodeFromSqlState(absl::string_view sqlstate);

}  // namespace mysql_internal
}  // namespace dbpool

#endif  // DBPOOL_MYSQL_MY_STATUS_H_
