// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// An in-memory driver for unit tests and micro-benchmarks of the pool's own
// logic: no I/O, every behaviour scripted through a FakeServer.
#ifndef DBPOOL_TESTS_SUPPORT_FAKE_DRIVER_H_
#define DBPOOL_TESTS_SUPPORT_FAKE_DRIVER_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
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
  // Make every ping fail (the server is "gone" for open connections).
  void set_ping_fails(bool fails);
  // Make rollbacks / full resets fail.
  void set_reset_fails(bool fails);
  // Marks every open connection as killed: their queries and pings fail.
  void kill_all();

  // Role probes, per endpoint ("host:port"). By default a probe answers a
  // writable primary with no timeline. set_probe() makes probes of
  // connections to `endpoint` answer `result` (an error: the probe fails
  // and the prober reconnects). block_probes() makes them wait until
  // unblock_probes() or their deadline (then kDeadlineExceeded).
  // good_probes() counts the probes of `endpoint` that answered OK.
  void set_probe(const Endpoint& endpoint, absl::StatusOr<ProbeResult> result);
  void block_probes(const Endpoint& endpoint);
  void unblock_probes(const Endpoint& endpoint);
  int good_probes(const Endpoint& endpoint) const;
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
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  int max_open_ ABSL_GUARDED_BY(mu_) = 0;
  int connects_ ABSL_GUARDED_BY(mu_) = 0;
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
  struct ProbeScript {
    absl::StatusOr<ProbeResult> result = ProbeResult();
    bool blocked = false;
    int good = 0;
    int stale_up_to = 0;  // connections with an id up to this answer `stale`
    ProbeResult stale;
  };
  // A std::map: a probe keeps a reference to its entry while it waits.
  std::map<std::string, ProbeScript> probes_ ABSL_GUARDED_BY(mu_);
};

// Driver traits: Pool<Fake> is a pool of fake connections. Builder::dsn()
// must be a FakeServer's dsn(); endpoints default to fake:1.
struct Fake {
  using Native = FakeConn;
  static absl::StatusOr<DriverSetup> make_driver(const ConnectSettings& settings);
};

using FakePool = Pool<Fake>;
using FakeLease = Lease<Fake>;

}  // namespace testing
}  // namespace dbpool

#endif  // DBPOOL_TESTS_SUPPORT_FAKE_DRIVER_H_
