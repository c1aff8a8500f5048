// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// MyConnection: session state, round trips and interruption of one MYSQL.
#include "mysql/my_connection.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dbpool/mysql.h"
#include "dbpool/outcome.h"
#include "mysql/my_calls.h"
#include "mysql/my_compat.h"
#include "mysql/my_library.h"
#include "mysql/my_status.h"

namespace dbpool {
namespace mysql_internal {
namespace {

int DuplicateSocket(int fd) {
  if (fd < 0) return -1;
  return ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

// The server status flags of the last OK/EOF packet, without I/O.
unsigned int ServerStatus(MYSQL* mysql) {
#if defined(DBPOOL_MYSQL_MARIADB_CC) && defined(MARIADB_PACKAGE_VERSION_ID)
  unsigned int status = 0;
  if (mariadb_get_infov(mysql, MARIADB_CONNECTION_SERVER_STATUS, &status) == 0) return status;
#endif
  return mysql->server_status;
}

constexpr absl::string_view kProbeRoleSql = "SELECT @@global.read_only, @@global.innodb_read_only";

}  // namespace

bool ReadOnlyValueIsSet(const std::optional<std::string>& value) {
  if (!value.has_value() || value->empty()) return false;
  return *value != "0" && !absl::EqualsIgnoreCase(*value, "OFF");
}

MyConnection::MyConnection(MYSQL* mysql, std::string endpoint,
                           std::vector<std::string> init_commands)
    : mysql_(mysql),
      endpoint_(std::move(endpoint)),
      init_commands_(std::move(init_commands)),
      socket_dup_(DuplicateSocket(SocketOf(mysql))) {}

MyConnection::~MyConnection() {
  EnsureThreadInit();
  // COM_QUIT on a healthy connection is one small write; on a broken one it
  // could wait on a dead peer, so make it fail at once.
  if (broken_.load() && socket_dup_ >= 0) ::shutdown(socket_dup_, SHUT_RDWR);
  mysql_close(mysql_);
  if (socket_dup_ >= 0) ::close(socket_dup_);
}

SessionState MyConnection::session_state() {
  EnsureThreadInit();
  if (broken_.load()) return SessionState::kBroken;
  if (SocketOf(mysql_) < 0 || IsConnectionLossOn(mysql_)) {
    broken_.store(true);
    return SessionState::kBroken;
  }
  if (mysql_->status != MYSQL_STATUS_READY || mysql_more_results(mysql_)) {
    return SessionState::kBusy;
  }
  if (ServerStatus(mysql_) & SERVER_STATUS_IN_TRANS) return SessionState::kInTransaction;
  return SessionState::kIdle;
}

absl::Status MyConnection::Begin(absl::string_view what, absl::Time deadline) const {
  if (broken_.load()) {
    return WithOutcome(absl::UnavailableError(
                           absl::StrCat("dbpool: mysql connection to ", endpoint_, " is broken")),
                       Outcome::kNotApplied);
  }
  if (absl::Now() >= deadline) {
    return absl::DeadlineExceededError(absl::StrCat("dbpool: mysql ", what, " on ", endpoint_,
                                                    ": deadline passed before it began"));
  }
  return absl::OkStatus();
}

absl::Status MyConnection::LastError() {
  const unsigned int err = mysql_errno(mysql_);
  if (err == 0) {
    return absl::UnknownError(
        absl::StrCat("dbpool: mysql call on ", endpoint_, " failed without an error number"));
  }
  if (IsConnectionLossOn(mysql_)) broken_.store(true);
  return MySqlStatus(mysql_);
}

absl::Status MyConnection::Abandoned(absl::string_view what, const absl::Status& wait) {
  broken_.store(true);
  // The command was sent (or partly): what it did is unknown.
  return MarkOutcomeUnknown(absl::Status(
      wait.code(), absl::StrCat("dbpool: mysql ", what, " on ", endpoint_, ": ", wait.message())));
}

absl::Status MyConnection::ping(absl::Time deadline) {
  EnsureThreadInit();
  if (absl::Status s = Begin("ping", deadline); !s.ok()) return s;
  int ret = 0;
  if (absl::Status wait = CallPing(mysql_, deadline, &ret); !wait.ok()) {
    return Abandoned("ping", wait);
  }
  return ret == 0 ? absl::OkStatus() : LastError();
}

absl::Status MyConnection::Query(absl::string_view sql, absl::Time deadline,
                                 std::vector<std::optional<std::string>>* first_row) {
  if (absl::Status s = Begin("query", deadline); !s.ok()) return s;
  int ret = 0;
  if (absl::Status wait = CallRealQuery(mysql_, sql, deadline, &ret); !wait.ok()) {
    return Abandoned("query", wait);
  }
  if (ret != 0) return LastError();
  bool first_result = true;
  for (;;) {
    if (mysql_field_count(mysql_) > 0) {
      MYSQL_RES* result = nullptr;
      if (absl::Status wait = CallStoreResult(mysql_, deadline, &result); !wait.ok()) {
        return Abandoned("reading a result", wait);
      }
      if (result == nullptr) return LastError();
      if (first_row != nullptr && first_result) {
        first_row->clear();
        if (MYSQL_ROW row = mysql_fetch_row(result); row != nullptr) {
          const unsigned int n = mysql_num_fields(result);
          const unsigned long* lengths = mysql_fetch_lengths(result);
          for (unsigned int i = 0; i < n; ++i) {
            if (row[i] == nullptr) {
              first_row->push_back(std::nullopt);
            } else {
              first_row->push_back(std::string(row[i], lengths[i]));
            }
          }
        }
      }
      first_result = false;
      mysql_free_result(result);  // a stored result: no I/O
    }
    if (!mysql_more_results(mysql_)) break;
    int next = 0;
    if (absl::Status wait = CallNextResult(mysql_, deadline, &next); !wait.ok()) {
      return Abandoned("reading the next result", wait);
    }
    if (next > 0) return LastError();
    if (next < 0) break;
  }
  return absl::OkStatus();
}

absl::Status MyConnection::execute(absl::string_view sql, absl::Time deadline) {
  EnsureThreadInit();
  return Query(sql, deadline, nullptr);
}

absl::Status MyConnection::rollback(absl::Time deadline) {
  EnsureThreadInit();
  return Query("ROLLBACK", deadline, nullptr);
}

absl::Status MyConnection::begin(absl::Time deadline) {
  EnsureThreadInit();
  return Query("START TRANSACTION", deadline, nullptr);
}

absl::Status MyConnection::commit(absl::Time deadline) {
  EnsureThreadInit();
  return Query("COMMIT", deadline, nullptr);
}

absl::Status MyConnection::full_reset(absl::Time deadline) {
  EnsureThreadInit();
  if (absl::Status s = Begin("reset", deadline); !s.ok()) return s;
  int ret = 0;
  if (absl::Status wait = CallResetConnection(mysql_, deadline, &ret); !wait.ok()) {
    return Abandoned("reset", wait);
  }
  if (ret != 0) return LastError();
  // The reset dropped what the init_command options set up.
  for (const std::string& sql : init_commands_) {
    if (absl::Status s = Query(sql, deadline, nullptr); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<Role> MyConnection::probe_role(absl::Time deadline) {
  EnsureThreadInit();
  std::vector<std::optional<std::string>> row;
  if (absl::Status s = Query(kProbeRoleSql, deadline, &row); !s.ok()) return s;
  if (row.size() != 2) {
    return absl::UnknownError(absl::StrCat("dbpool: mysql role probe on ", endpoint_,
                                           ": unexpected answer to \"", kProbeRoleSql, "\""));
  }
  return ReadOnlyValueIsSet(row[0]) || ReadOnlyValueIsSet(row[1]) ? Role::kReplica : Role::kPrimary;
}

MyProbeQueries MyProbeQueriesFor(absl::string_view server_info, unsigned long server_version) {
  const bool mariadb = absl::StrContains(server_info, "MariaDB");
  MyProbeQueries q;
  q.read_only = std::string(kProbeRoleSql);
  if (!mariadb && server_version >= 50708)
    absl::StrAppend(&q.read_only, ", @@global.super_read_only");
  if (mariadb) {
    q.replication = "SHOW ALL SLAVES STATUS";
  } else if (server_version >= 80022) {
    q.replication = "SHOW REPLICA STATUS";
  } else {
    q.replication = "SHOW SLAVE STATUS";
  }
  return q;
}

absl::StatusOr<ProbeResult> MyConnection::probe(absl::Time deadline) {
  EnsureThreadInit();
  const char* info = mysql_get_server_info(mysql_);
  const MyProbeQueries queries =
      MyProbeQueriesFor(info == nullptr ? "" : info, mysql_get_server_version(mysql_));
  std::vector<std::optional<std::string>> row;
  if (absl::Status s = Query(queries.read_only, deadline, &row); !s.ok()) return s;
  if (row.size() < 2) {
    return absl::UnknownError(absl::StrCat("dbpool: mysql role probe on ", endpoint_,
                                           ": unexpected answer to \"", queries.read_only, "\""));
  }
  ProbeResult result;
  for (const std::optional<std::string>& flag : row) result.read_only |= ReadOnlyValueIsSet(flag);
  std::vector<std::optional<std::string>> channel;
  if (absl::Status s = Query(queries.replication, deadline, &channel); !s.ok()) {
    // Lost or timed out: the probe failed. Refused (no privilege): unknown.
    if (broken_.load() || s.code() == absl::StatusCode::kDeadlineExceeded) return s;
  } else if (!channel.empty()) {
    result.role = Role::kReplica;
  }
  return result;
}

void MyConnection::interrupt() {
  broken_.store(true);
  if (socket_dup_ >= 0) ::shutdown(socket_dup_, SHUT_RDWR);
}

}  // namespace mysql_internal
}  // namespace dbpool
