// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The MySQL error-number and SQLSTATE mapping.
#include "mysql/my_status.h"

#include <mysql.h>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dbpool/mysql.h"

namespace dbpool {
namespace mysql_internal {
namespace {

// Error numbers by value: some are missing from one library's headers or
// mean something else in the other server's (4031), so none of the
// constants is needed here.
constexpr unsigned int kErConCount = 1040;
constexpr unsigned int kErDbAccessDenied = 1044;
constexpr unsigned int kErAccessDenied = 1045;
constexpr unsigned int kErBadDb = 1049;
constexpr unsigned int kErServerShutdown = 1053;
constexpr unsigned int kErDupEntry = 1062;
constexpr unsigned int kErParse = 1064;
constexpr unsigned int kErHostIsBlocked = 1129;
constexpr unsigned int kErHostNotPrivileged = 1130;
constexpr unsigned int kErTableAccessDenied = 1142;
constexpr unsigned int kErColumnAccessDenied = 1143;
constexpr unsigned int kErNoSuchTable = 1146;
constexpr unsigned int kErTooManyUserConnections = 1203;
constexpr unsigned int kErLockWaitTimeout = 1205;
constexpr unsigned int kErLockDeadlock = 1213;
constexpr unsigned int kErSpecificAccessDenied = 1227;
constexpr unsigned int kErOptionPreventsStatement = 1290;  // read_only
constexpr unsigned int kErQueryInterrupted = 1317;
constexpr unsigned int kErReadOnlyTransaction = 1792;
constexpr unsigned int kErReadOnlyMode = 1836;
constexpr unsigned int kErConnectionKilled = 1927;          // MariaDB
constexpr unsigned int kErStatementTimeout = 1969;          // MariaDB
constexpr unsigned int kErQueryTimeout = 3024;              // MySQL
constexpr unsigned int kErClientInteractionTimeout = 4031;  // MySQL 8.0.24+

constexpr unsigned int kCrSocketCreate = 2001;
constexpr unsigned int kCrConnection = 2002;
constexpr unsigned int kCrConnHost = 2003;
constexpr unsigned int kCrIpSock = 2004;
constexpr unsigned int kCrUnknownHost = 2005;
constexpr unsigned int kCrServerGone = 2006;
constexpr unsigned int kCrOutOfMemory = 2008;
constexpr unsigned int kCrTcpConnection = 2011;
constexpr unsigned int kCrServerHandshake = 2012;
constexpr unsigned int kCrServerLost = 2013;
constexpr unsigned int kCrCommandsOutOfSync = 2014;
constexpr unsigned int kCrSslConnection = 2026;
constexpr unsigned int kCrServerLostExtended = 2055;
constexpr unsigned int kCrErrNetRead = 5013;   // MariaDB Connector/C
constexpr unsigned int kCrErrNetWrite = 5014;  // MariaDB Connector/C

}  // namespace

bool IsConnectionLoss(unsigned int err) {
  switch (err) {
    case kCrSocketCreate:
    case kCrConnection:
    case kCrConnHost:
    case kCrIpSock:
    case kCrUnknownHost:
    case kCrServerGone:
    case kCrTcpConnection:
    case kCrServerHandshake:
    case kCrServerLost:
    case kCrSslConnection:
    case kCrServerLostExtended:
    case kCrErrNetRead:
    case kCrErrNetWrite:
    case kErServerShutdown:
    case kErConnectionKilled:
    case kErClientInteractionTimeout:
      return true;
    default:
      return false;
  }
}

bool ServerIsMariaDb(MYSQL* mysql) {
  const char* server = mysql_get_server_info(mysql);
  return server != nullptr && absl::StrContains(server, "MariaDB");
}

bool IsConnectionLossOn(MYSQL* mysql) {
  const unsigned int err = mysql_errno(mysql);
  if (err == kErClientInteractionTimeout) return !ServerIsMariaDb(mysql);
  return IsConnectionLoss(err);
}

Outcome MySqlOutcomeFromErrno(unsigned int err) {
  switch (err) {
    case 0:
      return Outcome::kUnclassified;
    // The connection died after the command was written (or while writing
    // it): the server may have run it.
    case kCrServerGone:
    case kCrServerLost:
    case kCrServerLostExtended:
    case kCrErrNetRead:
    case kCrErrNetWrite:
      return Outcome::kUnknown;
    // No connection: nothing reached a server.
    case kCrSocketCreate:
    case kCrConnection:
    case kCrConnHost:
    case kCrIpSock:
    case kCrUnknownHost:
    case kCrTcpConnection:
    case kCrServerHandshake:
    case kCrSslConnection:
      return Outcome::kNotApplied;
    default:
      break;
  }
  // Other client-side errors (2000..2999, Connector/C's 5000..5999) say
  // nothing of the server; every other number came in an error packet: the
  // server refused the statement or rolled it back.
  if ((err >= 2000 && err < 3000) || (err >= 5000 && err < 6000)) return Outcome::kUnclassified;
  return Outcome::kNotApplied;
}

absl::StatusCode StatusCodeFromSqlState(absl::string_view sqlstate) {
  const absl::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08") return absl::StatusCode::kUnavailable;
  if (cls == "23") return absl::StatusCode::kFailedPrecondition;
  if (cls == "40") return absl::StatusCode::kAborted;
  if (cls == "22" || cls == "42") return absl::StatusCode::kInvalidArgument;
  if (cls == "28") return absl::StatusCode::kUnauthenticated;
  return absl::StatusCode::kUnknown;
}

absl::Status MakeMySqlError(unsigned int err, absl::string_view sqlstate, absl::string_view message,
                            absl::string_view context, bool server_is_mariadb) {
  absl::StatusCode code = MySqlStatusFromErrno(err);
  if (err == kErClientInteractionTimeout && server_is_mariadb) {
    code = absl::StatusCode::kUnknown;  // ER_REFERENCED_TRG_DOES_NOT_EXIST there
  } else if (code == absl::StatusCode::kUnknown) {
    code = StatusCodeFromSqlState(sqlstate);
  }
  if (code == absl::StatusCode::kOk) code = absl::StatusCode::kUnknown;  // err 0: a bug
  if (sqlstate.empty()) sqlstate = "HY000";
  absl::Status status(code, absl::StrCat(context, context.empty() ? "" : ": ", message,
                                         " (MySQL error ", err, ", SQLSTATE ", sqlstate, ")"));
  status.SetPayload(kMySqlErrnoPayload, absl::Cord(absl::StrCat(err)));
  return status;
}

}  // namespace mysql_internal

absl::StatusCode MySqlStatusFromErrno(unsigned int err) {
  using mysql_internal::IsConnectionLoss;
  if (err == 0) return absl::StatusCode::kOk;
  if (IsConnectionLoss(err)) return absl::StatusCode::kUnavailable;
  switch (err) {
    case mysql_internal::kErConCount:
    case mysql_internal::kErTooManyUserConnections:
    case mysql_internal::kErHostIsBlocked:
    case mysql_internal::kErOptionPreventsStatement:
    case mysql_internal::kErReadOnlyMode:
    case mysql_internal::kErReadOnlyTransaction:
      return absl::StatusCode::kUnavailable;
    case mysql_internal::kErAccessDenied:
      return absl::StatusCode::kUnauthenticated;
    case mysql_internal::kErDbAccessDenied:
    case mysql_internal::kErTableAccessDenied:
    case mysql_internal::kErColumnAccessDenied:
    case mysql_internal::kErSpecificAccessDenied:
    case mysql_internal::kErHostNotPrivileged:
      return absl::StatusCode::kPermissionDenied;
    case mysql_internal::kErBadDb:
    case mysql_internal::kErNoSuchTable:
      return absl::StatusCode::kNotFound;
    case mysql_internal::kErDupEntry:
      return absl::StatusCode::kAlreadyExists;
    case mysql_internal::kErLockDeadlock:
    case mysql_internal::kErLockWaitTimeout:
      return absl::StatusCode::kAborted;
    case mysql_internal::kErQueryInterrupted:
      return absl::StatusCode::kCancelled;
    case mysql_internal::kErStatementTimeout:
    case mysql_internal::kErQueryTimeout:
      return absl::StatusCode::kDeadlineExceeded;
    case mysql_internal::kErParse:
      return absl::StatusCode::kInvalidArgument;
    case mysql_internal::kCrCommandsOutOfSync:
      return absl::StatusCode::kFailedPrecondition;
    case mysql_internal::kCrOutOfMemory:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::StatusCode::kUnknown;
  }
}

absl::Status MySqlStatus(MYSQL* conn) {
  if (conn == nullptr) return absl::InvalidArgumentError("dbpool: MySqlStatus(): null MYSQL*");
  const unsigned int err = mysql_errno(conn);
  if (err == 0) return absl::OkStatus();
  const char* sqlstate = mysql_sqlstate(conn);
  const char* message = mysql_error(conn);
  return WithOutcome(
      mysql_internal::MakeMySqlError(err, sqlstate != nullptr ? sqlstate : "",
                                     message != nullptr ? message : "",
                                     /*context=*/"", mysql_internal::ServerIsMariaDb(conn)),
      mysql_internal::MySqlOutcomeFromErrno(err));
}

}  // namespace dbpool
