// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// PgConnection: one libpq connection as the pool core sees it.
#ifndef DBPOOL_POSTGRES_PG_CONNECTION_H_
#define DBPOOL_POSTGRES_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "dbpool/driver.h"

namespace dbpool {
namespace postgres_internal {

// Owns a PGconn in blocking mode (as users expect). The pool's own round
// trips (ping, rollback, reset, probe) are sent asynchronously and waited on
// with poll(), so none outlives its deadline; one that times out leaves the
// connection marked broken.
class PgConnection final : public DriverConnection {
 public:
  // Takes ownership of an established connection.
  explicit PgConnection(PGconn* conn);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection() override;

  void* native_handle() override { return conn_; }
  SessionState session_state() override;
  absl::Status ping(absl::Time deadline) override;
  absl::Status execute(absl::string_view sql, absl::Time deadline) override;
  absl::Status rollback(absl::Time deadline) override;
  absl::Status full_reset(absl::Time deadline) override;
  absl::StatusOr<Role> probe_role(absl::Time deadline) override;
  void interrupt() override;

 private:
  // Sends `sql` in non-blocking mode within `deadline`, then puts the
  // connection back in blocking mode; on failure the connection is broken.
  absl::Status Send(const std::string& sql, absl::Time deadline);

  // Sends `sql`, waits for every result, and returns the first error; when
  // `first_value` is set, stores the first row's first column in it.
  absl::Status Run(absl::string_view sql, absl::Time deadline, std::string* first_value);

  PGconn* const conn_;
  // A duplicate of libpq's socket, taken at connect, so that interrupt()
  // (any thread, any time) reaches this connection's socket even after
  // libpq closed its own descriptor (it does on a lost connection), whose
  // number may by then belong to another socket or file. -1 if none.
  const int socket_dup_;
  std::atomic<bool> broken_{false};
};

}  // namespace postgres_internal
}  // namespace dbpool

#endif  // DBPOOL_POSTGRES_PG_CONNECTION_H_
