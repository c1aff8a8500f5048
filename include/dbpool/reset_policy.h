// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// dbpool/reset_policy.h
//
// What the pool does to a connection's session when a lease returns it.
#ifndef DBPOOL_RESET_POLICY_H_
#define DBPOOL_RESET_POLICY_H_

#include <string>
#include <utility>

namespace dbpool {

// ResetPolicy
//
// Applied on every return, after the pool's own hygiene: whatever the policy,
// a connection returned inside a transaction is rolled back first, and a
// broken or busy connection (mid-result, pipeline mode) is closed instead of
// being returned. A reset that fails closes the connection.
//
// The default, RollbackOnly(), costs nothing when the connection is idle: the
// transaction state is known locally, without a round trip.
class ResetPolicy {
 public:
  enum class Kind {
    kNone,          // no reset at all (not even the rollback); for trusted callers
    kRollbackOnly,  // roll back an open transaction; the default
    kFull,          // driver's full reset: DISCARD ALL / COM_RESET_CONNECTION
    kSql,           // run custom SQL on every return
  };

  // ResetPolicy::None()
  //
  // Returns connections as they are. The caller promises never to leave a
  // transaction open; a connection that is not idle is still closed.
  static ResetPolicy None() { return ResetPolicy(Kind::kNone, {}); }

  // ResetPolicy::RollbackOnly()
  //
  // Rolls back an open or failed transaction; session settings, prepared
  // statements and temporary tables survive. The default.
  static ResetPolicy RollbackOnly() { return ResetPolicy(Kind::kRollbackOnly, {}); }

  // ResetPolicy::Full()
  //
  // Rolls back, then resets the whole session with the driver's native reset
  // (PostgreSQL `DISCARD ALL`, MySQL `mysql_reset_connection`), then runs the
  // pool's init_sql again. One round trip per return (plus init_sql); never
  // re-authenticates. MySQL keeps the database chosen by a later `USE`.
  static ResetPolicy Full() { return ResetPolicy(Kind::kFull, {}); }

  // ResetPolicy::Sql()
  //
  // Rolls back, then runs `sql` on every return (for example
  // "RESET ALL; DEALLOCATE ALL"), then the pool's init_sql again. Must not be
  // empty.
  static ResetPolicy Sql(std::string sql) { return ResetPolicy(Kind::kSql, std::move(sql)); }

  ResetPolicy() : ResetPolicy(Kind::kRollbackOnly, {}) {}

  Kind kind() const { return kind_; }
  const std::string& sql() const { return sql_; }

 private:
  ResetPolicy(Kind kind, std::string sql) : kind_(kind), sql_(std::move(sql)) {}

  Kind kind_;
  std::string sql_;
};

}  // namespace dbpool

#endif  // DBPOOL_RESET_POLICY_H_
