// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// An in-memory driver for unit tests and micro-benchmarks of the pool's own
// logic: no I/O, every behaviour scripted through a FakeServer.
#ifndef DBPOOL_TESTS_SUPPORT_FAKE_DRIVER_H_
#define DBPOOL_TESTS_SUPPORT_FAKE_DRIVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "dbpool/driver.h"
#include "dbpool/pool.h"

namespace dbpool {
namespace testing {

class FakeServer;

// The native handle of a fake connection: what a "query" would touch.
struct FakeConn {
  int id = 0;
  int generation = 0;  // the server's kill_all() count at connect
  FakeServer* server = nullptr;
  std::atomic<bool> in_transaction{false};  // set by a test to leave a txn open
  std::atomic<bool> busy{false};            // a result left unread
  std::atomic<bool> session_dirty{false};   // session state a full reset clears
  std::atomic<int> rollbacks{0};
  std::atomic<int> full_resets{0};
  std::atomic<int> pings{0};

  // What a query on this connection sees: OK, or kUnavailable once the
  // server killed it.
  absl::Status Query();

  // A write of one row: inside a transaction (see begin()/commit() of the
  // fake connection) it waits for COMMIT, else it is applied at once (see
  // FakeServer::applied()). Fails as FakeServer::fail_next_writes() and
  // lose_next_write_replies() script; a lost reply leaves the write applied
  // (outside a transaction), the connection broken, and the status
  // outcome-unknown.
  absl::Status Write();

  // The transaction a fake connection has open: 0 when none or it has no
  // id yet (no Write() in it).
  std::atomic<int64_t> txn{0};
  std::atomic<int> pending_writes{0};
  std::atomic<bool> lost{false};  // the connection died: session_state() is kBroken
};

// A round trip that a test can make hang, as on a stalled socket. kProbe
// is a role probe (DriverConnection::probe()), which also waits while
// FakeServer::block_probes() says so.
enum class FakeOp { kPing, kRollback, kFullReset, kProbe };
inline constexpr int kFakeOps = 4;
enum class Stall {
  kNone,             // answers at once
  kUntilDeadline,    // hangs until released, its deadline (then kDeadlineExceeded) or an
                     // interrupt() (then fails): a stalled socket
  kIgnoringDeadline  // hangs until released, whatever its deadline or interrupt() (a
                     // misbehaving driver)
};

// The server behind fake connections. Thread-safe. Everything a test wants
// to script or observe: refusing connects, blocking them, killing every
// connection, counting open ones.
class FakeServer {
 public:
  // A new server, registered under a unique DSN for Fake::make_driver.
  static std::shared_ptr<FakeServer> Create();
  ~FakeServer();

  // The DSN that makes a Fake pool connect here.
  const std::string& dsn() const { return dsn_; }

  // Make connects fail with `status` (OK: succeed again).
  void set_connect_error(absl::Status status);
  // Make connects block until unblock_connects() (or their deadline).
  void block_connects();
  void unblock_connects();
  // Make closing a connection block until unblock_closes(), as a close on a
  // stalled socket may; closing_connections() counts those blocked.
  void block_closes();
  void unblock_closes();
  int closing_connections() const;
  // Make every ping (and role probe) fail (the server is "gone" for open
  // connections).
  void set_ping_fails(bool fails);
  // Make rollbacks / full resets fail.
  void set_reset_fails(bool fails);
  // Marks every open connection as killed: their queries and pings fail.
  void kill_all();
  // Makes `op` hang as `how` says on every connection without a setting of
  // its own; kNone releases the calls hanging now. A released call answers
  // as it would have (OK, or the failure set_ping_fails() etc. ask for).
  void stall(FakeOp op, Stall how);
  // The same for the connection whose FakeConn::id is `conn_id` only; it
  // wins over the setting for every connection.
  void stall(FakeOp op, int conn_id, Stall how);
  // Calls hanging right now (all ops, all connections).
  int stalled_calls() const;
  // Runs `hook` in every session_state() call (on the pool's release
  // path) once its answer is decided, outside the server's lock, so that
  // what the hook does comes after the state the caller is told; empty:
  // none.
  void set_session_state_hook(std::function<void()> hook);

  // Transactions and writes (FakeConn::Write()).
  // The next `n` writes fail with `status` (not applied).
  void fail_next_writes(int n, absl::Status status);
  // The next `n` autocommitted writes are applied and lose their reply.
  void lose_next_write_replies(int n);
  // The next `n` COMMITs lose their reply: after applying the transaction
  // (`applied` true) or before it reached the server (the transaction rolls
  // back). Either way the connection breaks.
  void lose_next_commit_replies(int n, bool applied);
  // The next `n` COMMITs apply, then answer with an error reply (not
  // applied, as a session terminated right after committing would) and break
  // the connection.
  void fail_next_commits_after_apply(int n);
  // The next `n` questions about a transaction's fate answer "in progress".
  void answer_in_progress(int n);
  // The next `n` such questions answer "unknown" (beyond the horizon).
  void answer_unknown(int n);
  int applied() const;      // rows written and committed (or autocommitted)
  int commits() const;      // COMMITs that applied
  int resolutions() const;  // resolve_txn() calls answered

  // Role probes, per endpoint ("host:port"). By default a probe answers a
  // writable primary with no timeline. set_probe() makes probes of
  // connections to `endpoint` answer `result` (an error: the probe fails
  // and the prober reconnects). block_probes() makes them wait until
  // unblock_probes(), their deadline (then kDeadlineExceeded) or an
  // interrupt() (then they fail), as on a stalled socket; blocked_probes()
  // counts those waiting now. good_probes() counts the probes of `endpoint`
  // that answered OK.
  void set_probe(const Endpoint& endpoint, absl::StatusOr<ProbeResult> result);
  void block_probes(const Endpoint& endpoint);
  void unblock_probes(const Endpoint& endpoint);
  int good_probes(const Endpoint& endpoint) const;
  int blocked_probes(const Endpoint& endpoint) const;
  // Makes the connections to `endpoint` open now answer `stale` to probes
  // from now on (a server demoted under them, while its name moved), and
  // returns the highest FakeConn::id among them; later connections answer
  // set_probe()'s result.
  int demote_open_connections(const Endpoint& endpoint, ProbeResult stale);

  int open_connections() const;      // open right now
  int max_open_connections() const;  // the most ever open at once
  int connects() const;              // successful connects so far
  int connect_attempts() const;      // all connect attempts so far

 private:
  friend class FakeDriverImpl;
  friend class FakeConnection;
  friend struct FakeConn;
  FakeServer() = default;

  std::string dsn_;
  mutable absl::Mutex mu_;
  absl::Status connect_error_ ABSL_GUARDED_BY(mu_);
  bool connects_blocked_ ABSL_GUARDED_BY(mu_) = false;
  bool closes_blocked_ ABSL_GUARDED_BY(mu_) = false;
  int closing_ ABSL_GUARDED_BY(mu_) = 0;
  bool ping_fails_ ABSL_GUARDED_BY(mu_) = false;
  bool reset_fails_ ABSL_GUARDED_BY(mu_) = false;
  int generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by kill_all()
  // Hangs the calling op as the stall settings say; returns false when its
  // deadline passed first, or (kUntilDeadline) `*interrupted` became true
  // (set under mu_, so that the wait sees it).
  bool StallIfAsked(FakeOp op, int conn_id, absl::Time deadline,
                    const std::atomic<bool>* interrupted);
  Stall StallFor(FakeOp op, int conn_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Stall stall_all_[kFakeOps] ABSL_GUARDED_BY(mu_) = {Stall::kNone, Stall::kNone, Stall::kNone,
                                                     Stall::kNone};
  absl::flat_hash_map<int, Stall> stall_one_[kFakeOps] ABSL_GUARDED_BY(mu_);
  int stalled_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void()> session_state_hook_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> has_session_state_hook_{false};  // session_state_hook_ is set
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int max_open_ ABSL_GUARDED_BY(mu_) = 0;
  int connects_ ABSL_GUARDED_BY(mu_) = 0;
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_writes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status write_error_ ABSL_GUARDED_BY(mu_);
  int lose_write_replies_ ABSL_GUARDED_BY(mu_) = 0;
  int lose_commit_replies_ ABSL_GUARDED_BY(mu_) = 0;
  bool lost_commits_apply_ ABSL_GUARDED_BY(mu_) = true;
  int fail_commits_after_apply_ ABSL_GUARDED_BY(mu_) = 0;
  int answer_in_progress_ ABSL_GUARDED_BY(mu_) = 0;
  int answer_unknown_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_txn_ ABSL_GUARDED_BY(mu_) = 100;
  std::map<int64_t, bool> txn_committed_ ABSL_GUARDED_BY(mu_);  // ended transactions
  int applied_ ABSL_GUARDED_BY(mu_) = 0;
  int commits_ ABSL_GUARDED_BY(mu_) = 0;
  int resolutions_ ABSL_GUARDED_BY(mu_) = 0;
  struct ProbeScript {
    absl::StatusOr<ProbeResult> result = ProbeResult();
    bool blocked = false;
    int waiting = 0;  // probes blocked now
    int good = 0;
    int stale_up_to = 0;  // connections with an id up to this answer `stale`
    ProbeResult stale;
  };
  // A std::map: a probe keeps a reference to its entry while it waits.
  std::map<std::string, ProbeScript> probes_ ABSL_GUARDED_BY(mu_);
};

// Driver traits: Pool<Fake> is a pool of fake connections. Builder::dsn()
// must be a FakeServer's dsn(); endpoints default to fake:1. A
// Builder::credentials() provider is asked before every connect (its error
// fails the connect).
struct Fake {
  using Native = FakeConn;
  static absl::StatusOr<DriverSetup> make_driver(const ConnectSettings& settings);
};

using FakePool = Pool<Fake>;
using FakeLease = Lease<Fake>;

// The driver and endpoint for `server`, with default settings: for the
// tests that drive a PoolCore or a connection directly.
absl::StatusOr<DriverSetup> FakeSetup(const FakeServer& server);

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_FAKE_DRIVER_H_
