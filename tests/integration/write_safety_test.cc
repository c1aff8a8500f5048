// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Writes whose reply is lost, against the real server through the fault
// proxy: with_retry() does not replay them unless told they are
// idempotent, and with_transaction() finds out whether a COMMIT whose reply
// was cut committed.
//
// A COMMIT is held open on the server by a deferred constraint trigger that
// sleeps at COMMIT; the test waits until pg_stat_activity shows the
// statement running, then resets the proxied connection. The server goes
// on and commits; the client sees its connection reset.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "await.h"
#include "dbpool/outcome.h"
#include "fault_proxy.h"
#include "harnesses.h"
#if DBPOOL_TEST_WITH_POSTGRES
#include "postgres/pg_connection.h"
#endif
#include "test_servers.h"

namespace dbpool {
namespace testing {
namespace {

#if DBPOOL_TEST_WITH_POSTGRES

FailoverPolicy PatientRetries() {
  FailoverPolicy p;
  p.max_attempts(30).backoff_initial(absl::Milliseconds(20)).backoff_max(absl::Milliseconds(200));
  return p;
}

// A table of its own, whose INSERTs sleep 0.5 s at COMMIT, and a proxied
// pool to it. Dropped (with every tagged session) at the end.
class SlowCommitTable {
 public:
  explicit SlowCommitTable(const std::string& prefix)
      : tag_(UniqueTag(prefix)), table_(absl::StrCat("ws_", tag_)) {
    REQUIRE(
        admin_
            .Execute(absl::StrCat(
                "CREATE TABLE ", table_, " (k text NOT NULL);", "CREATE FUNCTION ", table_,
                "_slow() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$;",
                "CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON ", table_,
                " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ", table_, "_slow()"))
            .ok());
    auto proxy = FaultProxy::Start(PgHarness::Host(), PgHarness::Port());
    REQUIRE(proxy.ok());
    proxy_ = *std::move(proxy);
    auto pool = PgHarness::BaseBuilder(tag_)
                    .endpoint("127.0.0.1", proxy_->port())
                    .max_size(2)
                    .acquire_timeout(absl::Seconds(5))
                    .failover(PatientRetries())
                    .build();
    REQUIRE(pool.ok());
    pool_ = *std::move(pool);
    auto observer = PgHarness::Builder(UniqueTag("ws_observer")).max_size(1).build();
    REQUIRE(observer.ok());
    observer_ = *std::move(observer);
  }
  ~SlowCommitTable() {
    (void)admin_.KillConnections(tag_);
    (void)admin_.Execute(absl::StrCat("DROP TABLE IF EXISTS ", table_, "; DROP FUNCTION IF EXISTS ",
                                      table_, "_slow()"));
  }

  PgPool& pool() { return *pool_; }
  FaultProxy& proxy() { return *proxy_; }
  const std::string& table() const { return table_; }
  std::string Insert(const std::string& key) const {
    return absl::StrCat("INSERT INTO ", table_, " VALUES ('", key, "')");
  }

  // Committed rows with key `key`, seen from outside the pool.
  int Count(const std::string& key) {
    auto lease = observer_->acquire();
    REQUIRE(lease.ok());
    absl::StatusOr<std::string> n = PgHarness::Query(
        lease->native(), absl::StrCat("SELECT count(*) FROM ", table_, " WHERE k = '", key, "'"));
    REQUIRE(n.ok());
    return std::stoi(*n);
  }

  // Whether a session of the pool runs `sql` now.
  bool Running(const std::string& sql) {
    auto lease = observer_->acquire();
    if (!lease.ok()) return false;
    return PgHarness::Query(lease->native(),
                            absl::StrCat("SELECT count(*) FROM pg_stat_activity "
                                         "WHERE application_name = '",
                                         tag_, "' AND state = 'active' AND query = '",
                                         absl::StrReplaceAll(sql, {{"'", "''"}}), "'"))
               .value_or("0") != "0";
  }

  // Once a session of the pool runs `sql`, resets every proxied connection
  // and forwards again. Call from a thread of its own.
  void CutWhenRunning(const std::string& sql, std::atomic<bool>* cut) {
    // No Catch assertions off the test's thread: `cut` reports the result.
    if (!Await([&] { return Running(sql); })) return;
    const bool reset = proxy_->set_mode(FaultProxy::Mode::kReset).ok();
    *cut = proxy_->set_mode(FaultProxy::Mode::kPass).ok() && reset;
  }

  // Waits until no session of the pool runs `sql` (the old backend
  // finished its COMMIT).
  bool AwaitDone(const std::string& sql) {
    return Await([&] { return !Running(sql); });
  }

 private:
  PgHarness::Admin admin_;
  const std::string tag_;
  const std::string table_;
  std::unique_ptr<FaultProxy> proxy_;
  std::optional<PgPool> pool_;
  std::optional<PgPool> observer_;
};

TEST_CASE("a write whose reply is cut is outcome-unknown and not replayed by with_retry",
          "[integration][postgres][outcome]") {
  SlowCommitTable t("ws_retry");
  const std::string insert = t.Insert("once");
  std::atomic<bool> cut{false};
  std::thread cutter([&] { t.CutWhenRunning(insert, &cut); });
  int calls = 0;
  const absl::Status status = t.pool().with_retry([&](PgLease& lease) {
    ++calls;
    return PgHarness::Query(lease.native(), insert).status();
  });
  cutter.join();
  REQUIRE(cut);
  INFO(status);
  CHECK(IsOutcomeUnknown(status));
  CHECK(status.code() == absl::StatusCode::kUnavailable);
  CHECK(calls == 1);
  REQUIRE(t.AwaitDone(insert));
  CHECK(t.Count("once") == 1);  // it did commit, exactly once
}

TEST_CASE("with_retry with idempotent runs fn again after a write's reply is cut",
          "[integration][postgres][outcome]") {
  SlowCommitTable t("ws_idem");
  const std::string insert = t.Insert("again");
  std::atomic<bool> cut{false};
  std::thread cutter([&] { t.CutWhenRunning(insert, &cut); });
  RetryOptions retry;
  retry.idempotent = true;  // a lie for a plain INSERT: the test counts the replay
  int calls = 0;
  const absl::Status status = t.pool().with_retry(
      [&](PgLease& lease) {
        ++calls;
        return PgHarness::Query(lease.native(), insert).status();
      },
      retry);
  cutter.join();
  REQUIRE(cut);
  INFO(status);
  CHECK(status.ok());
  CHECK(calls == 2);
  REQUIRE(t.AwaitDone(insert));
  CHECK(t.Count("again") == 2);
}

// A COMMIT whose reply is cut, through with_transaction(fn, retry): resolved
// as committed, fn not run again.
void CheckCutCommitResolved(const std::string& prefix, const RetryOptions& retry) {
  SlowCommitTable t(prefix);
  const std::string insert = t.Insert("resolved");
  std::atomic<bool> cut{false};
  std::thread cutter([&] { t.CutWhenRunning("COMMIT", &cut); });
  int calls = 0;
  const absl::StatusOr<int> got = t.pool().with_transaction(
      [&](PgLease& lease) -> absl::StatusOr<int> {
        ++calls;
        absl::Status s = PgHarness::Query(lease.native(), insert).status();
        if (!s.ok()) return s;
        return 7;
      },
      retry);
  cutter.join();
  REQUIRE(cut);
  INFO(got.status());
  REQUIRE(got.ok());
  CHECK(*got == 7);
  CHECK(calls == 1);
  CHECK(t.Count("resolved") == 1);
  const PoolStats s = t.pool().stats();
  CHECK(s.commits_resolved_committed == 1);
  CHECK(s.commits_resolved_aborted == 0);
  CHECK(s.commits_unresolved == 0);
}

TEST_CASE("with_transaction resolves a COMMIT whose reply is cut without running fn again",
          "[integration][postgres][outcome]") {
  CheckCutCommitResolved("ws_txn", RetryOptions());
}

TEST_CASE("with_transaction with defer_txn_id resolves a cut COMMIT as exactly",
          "[integration][postgres][outcome]") {
  RetryOptions retry;
  retry.defer_txn_id = true;
  CheckCutCommitResolved("ws_defer", retry);
}

TEST_CASE("with_transaction assigns an xid at BEGIN unless defer_txn_id",
          "[integration][postgres][outcome]") {
  auto pool = PgHarness::Builder(UniqueTag("ws_assign")).max_size(1).build();
  REQUIRE(pool.ok());
  auto assigned = [&](bool defer) {
    RetryOptions retry;
    retry.defer_txn_id = defer;
    const absl::StatusOr<std::string> got = pool->with_transaction(
        [](PgLease& lease) {
          return PgHarness::Query(lease.native(),
                                  "SELECT (pg_current_xact_id_if_assigned() IS NOT NULL)::text");
        },
        retry);
    REQUIRE(got.ok());
    return *got;
  };
  CHECK(assigned(false) == "true");
  CHECK(assigned(true) == "false");  // a transaction that only reads keeps none
  CHECK(assigned(false) == "true");  // and the next one on the connection takes it again
}

TEST_CASE("with_transaction runs fn again when the connection is cut before COMMIT",
          "[integration][postgres][outcome]") {
  SlowCommitTable t("ws_before");
  const std::string insert = t.Insert("rerun");
  const std::string sleep = "SELECT pg_sleep(30)";
  std::atomic<bool> cut{false};
  std::thread cutter([&] { t.CutWhenRunning(sleep, &cut); });
  int calls = 0;
  const absl::Status status = t.pool().with_transaction([&](PgLease& lease) {
    absl::Status s = PgHarness::Query(lease.native(), insert).status();
    if (!s.ok()) return s;
    if (++calls == 1) return PgHarness::Query(lease.native(), sleep).status();  // cut here
    return absl::OkStatus();
  });
  cutter.join();
  REQUIRE(cut);
  INFO(status);
  CHECK(status.ok());
  CHECK(calls == 2);
  CHECK(t.Count("rerun") == 1);  // the first transaction never committed
  CHECK(t.pool().stats().commits_resolved_committed == 0);
}

TEST_CASE("with_transaction commits, rolls back on error, and returns fn's value",
          "[integration][postgres]") {
  SlowCommitTable t("ws_plain");
  const absl::StatusOr<std::string> got =
      t.pool().with_transaction([&](PgLease& lease) -> absl::StatusOr<std::string> {
        absl::Status s = PgHarness::Query(lease.native(), t.Insert("kept")).status();
        if (!s.ok()) return s;
        return PgHarness::Query(lease.native(), "SELECT 'value'");
      });
  REQUIRE(got.ok());
  CHECK(*got == "value");
  CHECK(t.Count("kept") == 1);
  const absl::Status failed = t.pool().with_transaction([&](PgLease& lease) {
    absl::Status s = PgHarness::Query(lease.native(), t.Insert("dropped")).status();
    if (!s.ok()) return s;
    return PgHarness::Query(lease.native(), "SELECT 1/0").status();
  });
  CHECK(failed.code() == absl::StatusCode::kInvalidArgument);
  CHECK(t.Count("dropped") == 0);
  // An error inside fn that fn does not return: COMMIT would roll back and
  // answer OK; with_transaction says so instead.
  const absl::Status ignored = t.pool().with_transaction([&](PgLease& lease) {
    (void)PgHarness::Query(lease.native(), t.Insert("ignored"));
    (void)PgHarness::Query(lease.native(), "SELECT 1/0");
    return absl::OkStatus();
  });
  CHECK(ignored.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(t.Count("ignored") == 0);
  CHECK(t.pool().stats().in_use == 0);
}

// A connection of the driver's own, to call its transaction verbs; to the
// server at `port` (default: the primary).
std::unique_ptr<postgres_internal::PgConnection> DriverConnectionToServer(int port = 0) {
  const std::string info = absl::StrCat(
      "host=", PgHarness::Host(), " port=", port == 0 ? PgHarness::Port() : port,
      " dbname=", RequireEnv("DBPOOL_TEST_PG_DB"), " user=", RequireEnv("DBPOOL_TEST_PG_USER"),
      " password=", RequireEnv("DBPOOL_TEST_PG_PASSWORD"), " application_name=ws_driver");
  PGconn* c = PQconnectdb(info.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  return std::make_unique<postgres_internal::PgConnection>(c);
}

TEST_CASE("PostgreSQL resolves a transaction id by its fate and trusts it only on its timeline",
          "[integration][postgres][outcome]") {
  auto conn = DriverConnectionToServer();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  REQUIRE(conn->execute("CREATE TEMP TABLE ws_fate (k int)", deadline).ok());

  auto write = [&](bool commit) -> std::string {
    REQUIRE(conn->begin(deadline).ok());
    REQUIRE(conn->execute("INSERT INTO ws_fate VALUES (1)", deadline).ok());
    absl::StatusOr<std::optional<std::string>> id = conn->current_txn_id(deadline);
    REQUIRE(id.ok());
    REQUIRE(id->has_value());
    REQUIRE((commit ? conn->commit(deadline) : conn->rollback(deadline)).ok());
    return **id;
  };
  const std::string committed = write(true);
  const std::string aborted = write(false);
  INFO(committed << " " << aborted);
  auto other = DriverConnectionToServer();
  auto fate = [&](const std::string& id) {
    absl::StatusOr<TxnResolution> r = other->resolve_txn(id, deadline);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(fate(committed).status == TxnStatus::kCommitted);
  CHECK(fate(aborted).status == TxnStatus::kAborted);

  // On another timeline (the server was promoted since), "committed" may be
  // a reused id: not trusted.
  const std::string xid = committed.substr(0, committed.find('@'));
  const TxnResolution elsewhere = fate(xid + "@7FFFFFFF");
  CHECK(elsewhere.status == TxnStatus::kUnknown);
  CHECK_THAT(elsewhere.detail, Catch::Contains("timeline"));
  // An id the server never assigned.
  const TxnResolution future = fate("999999999999@" + committed.substr(committed.find('@') + 1));
  CHECK(future.status == TxnStatus::kUnknown);
  CHECK_THAT(future.detail, Catch::Contains("never assigned"));
  // Anything else is refused, never spliced into SQL.
  CHECK(other->resolve_txn("1; DROP TABLE x", deadline).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

// The first row's first column of `sql` on the driver connection's handle.
std::string ValueOf(postgres_internal::PgConnection& conn, const std::string& sql) {
  absl::StatusOr<std::string> value =
      PgHarness::Query(static_cast<PGconn*>(conn.native_handle()), sql);
  REQUIRE(value.ok());
  return *value;
}

TEST_CASE("PostgreSQL takes the transaction id with BEGIN, in the same round trip",
          "[integration][postgres][outcome]") {
  auto conn = DriverConnectionToServer();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  REQUIRE(conn->execute("CREATE TEMP TABLE ws_begin (k int)", deadline).ok());

  REQUIRE(conn->begin(deadline).ok());
  // Known before any statement ran, and without asking the server again: a
  // round trip with a deadline already past would fail.
  absl::StatusOr<std::optional<std::string>> id = conn->current_txn_id(absl::InfinitePast());
  INFO(id.status());
  REQUIRE(id.ok());
  REQUIRE(id->has_value());
  // It is the id the transaction's writes carry (xmin: its low 32 bits).
  const std::string xmin = ValueOf(*conn, "INSERT INTO ws_begin VALUES (1) RETURNING xmin::text");
  const std::string xid = (*id)->substr(0, (*id)->find('@'));
  CHECK(std::to_string(std::stoull(xid) % (uint64_t{1} << 32)) == xmin);
  REQUIRE(conn->commit(deadline).ok());

  // A transaction that writes nothing gets one too (the price of taking it
  // with BEGIN), and its COMMIT resolves as committed.
  REQUIRE(conn->begin(deadline).ok());
  absl::StatusOr<std::optional<std::string>> reader = conn->current_txn_id(absl::InfinitePast());
  REQUIRE(reader.ok());
  REQUIRE(reader->has_value());
  CHECK(**reader != **id);
  CHECK(ValueOf(*conn, "SELECT count(*) FROM ws_begin") == "1");
  REQUIRE(conn->commit(deadline).ok());
  auto other = DriverConnectionToServer();
  absl::StatusOr<TxnResolution> fate = other->resolve_txn(**reader, deadline);
  REQUIRE(fate.ok());
  CHECK(fate->status == TxnStatus::kCommitted);
}

TEST_CASE(
    "PostgreSQL with a deferred id asks for it before COMMIT, only once the transaction wrote",
    "[integration][postgres][outcome]") {
  auto conn = DriverConnectionToServer();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  REQUIRE(conn->execute("CREATE TEMP TABLE ws_deferred (k int)", deadline).ok());
  REQUIRE(conn->begin_deferring_txn_id(deadline).ok());
  absl::StatusOr<std::optional<std::string>> none = conn->current_txn_id(deadline);
  INFO(none.status());
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  const std::string xmin =
      ValueOf(*conn, "INSERT INTO ws_deferred VALUES (1) RETURNING xmin::text");
  absl::StatusOr<std::optional<std::string>> id = conn->current_txn_id(deadline);
  REQUIRE(id.ok());
  REQUIRE(id->has_value());
  const std::string xid = (*id)->substr(0, (*id)->find('@'));
  CHECK(std::to_string(std::stoull(xid) % (uint64_t{1} << 32)) == xmin);
  REQUIRE(conn->commit(deadline).ok());
  auto other = DriverConnectionToServer();
  absl::StatusOr<TxnResolution> fate = other->resolve_txn(**id, deadline);
  REQUIRE(fate.ok());
  CHECK(fate->status == TxnStatus::kCommitted);
}

TEST_CASE("PostgreSQL takes no transaction id on a hot standby, whose transactions cannot write",
          "[integration][postgres][outcome]") {
  const char* port = std::getenv("DBPOOL_TEST_PG_REPLICA_PORT");
  if (port == nullptr) {
    WARN("DBPOOL_TEST_PG_REPLICA_PORT is unset (no replica started): not checked");
    return;
  }
  auto conn = DriverConnectionToServer(std::stoi(port));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  REQUIRE(conn->begin(deadline).ok());
  absl::StatusOr<std::optional<std::string>> none = conn->current_txn_id(deadline);
  INFO(none.status());
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  CHECK(ValueOf(*conn, "SELECT pg_is_in_recovery()::text") == "true");
  REQUIRE(conn->commit(deadline).ok());
  REQUIRE(conn->begin_deferring_txn_id(deadline).ok());
  absl::StatusOr<std::optional<std::string>> deferred = conn->current_txn_id(deadline);
  INFO(deferred.status());
  REQUIRE(deferred.ok());
  CHECK_FALSE(deferred->has_value());
  REQUIRE(conn->commit(deadline).ok());
}

#endif  // DBPOOL_TEST_WITH_POSTGRES

#if DBPOOL_TEST_WITH_MYSQL

TEST_CASE("a MySQL statement whose reply is cut is outcome-unknown and not replayed",
          "[integration][mysql][outcome]") {
  auto proxy = FaultProxy::Start(MyHarness::Host(), MyHarness::Port());
  REQUIRE(proxy.ok());
  const std::string tag = UniqueTag("ws_my");
  auto pool =
      MyHarness::BaseBuilder(tag).endpoint("127.0.0.1", (*proxy)->port()).max_size(2).build();
  REQUIRE(pool.ok());
  auto observer = MyHarness::Builder(UniqueTag("ws_my_observer")).max_size(1).build();
  REQUIRE(observer.ok());
  const std::string sleep = absl::StrCat("SELECT SLEEP(30) AS ", tag);
  std::atomic<bool> cut{false};
  std::thread cutter([&] {
    const bool running = Await([&] {
      auto lease = observer->acquire();
      if (!lease.ok()) return false;
      return MyHarness::Query(lease->native(),
                              absl::StrCat("SELECT count(*) FROM information_schema.PROCESSLIST "
                                           "WHERE INFO = '",
                                           sleep, "'"))
                 .value_or("0") != "0";
    });
    if (!running) return;  // no Catch assertions off the test's thread
    const bool reset = (*proxy)->set_mode(FaultProxy::Mode::kReset).ok();
    cut = (*proxy)->set_mode(FaultProxy::Mode::kPass).ok() && reset;
  });
  int calls = 0;
  absl::Status raw;
  const absl::Status status = pool->with_retry([&](MySqlLease& lease) {
    ++calls;
    if (mysql_query(lease.native(), sleep.c_str()) == 0) {
      MYSQL_RES* r = mysql_store_result(lease.native());
      if (r != nullptr) mysql_free_result(r);
      return absl::OkStatus();
    }
    raw = MySqlStatus(lease.native());
    return raw;
  });
  cutter.join();
  REQUIRE(cut);
  INFO(raw << " / " << status);
  CHECK(raw.code() == absl::StatusCode::kUnavailable);
  CHECK(IsOutcomeUnknown(raw));  // 2013: lost during the query
  CHECK(IsOutcomeUnknown(status));
  CHECK(calls == 1);
  // The server's side sleeps on; end it.
  auto lease = observer->acquire();
  REQUIRE(lease.ok());
  absl::StatusOr<std::string> id = MyHarness::Query(
      lease->native(),
      absl::StrCat("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = '", sleep, "'"));
  if (id.ok() && !id->empty()) (void)MyHarness::Query(lease->native(), "KILL " + *id);
}

#endif  // DBPOOL_TEST_WITH_MYSQL

}  // namespace
}  // namespace testing
}  // namespace dbpool
