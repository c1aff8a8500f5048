// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// Failover on PostgreSQL, side by side: how long writers stay without a
// successful write when the primary is lost and its streaming replica is
// promoted at once, and what they see meanwhile.
//
// Scenarios, each client on servers of its own (ScratchServers "pg replica"):
//   1. the primary is blackholed: it sits behind a FaultProxy switched to
//      kStall (connections neither answered nor closed, as when a host or
//      its network vanishes);
//   2. the primary is killed: `servers.sh pg-stop` (pg_ctl stop -m immediate).
// Right after the fault the replica is promoted (`servers.sh pg-promote`).
//
// Clients, 8 writer threads each, INSERTing unique rows into a table that
// was created (and replicated) before the fault:
//   - dbpool with default settings: a PgPool over [primary, replica],
//     max_size 4, writes through with_retry();
//   - dbpool tuned: the same with FailoverPolicy probe_interval 100ms,
//     probe_timeout 150ms, failure_threshold 2 (docs/failover.md);
//   - a naive libpq client: one connection per thread from a multi-host
//     conninfo with target_session_attrs=read-write; on any error it closes
//     the connection, reconnects and retries the INSERT (50 ms pause after
//     each failure).
//
// Per run: the time from the fault to the first successful write started
// after it, the errors the application code saw (with_retry() results for
// dbpool; failed INSERTs and failed connects for libpq), the writes done in
// a fixed window after the fault, and the writer threads still blocked 10 s
// after being asked to stop. A run waits up to 20 s for its first write
// after the fault. Naive threads stuck in a stalled PQexec() are released at
// the end with shutdown() on their sockets, so the program always ends.
// Timings are reported, never asserted: the exit status is 0 unless a run
// could not be set up (servers, table, pool, writes before the fault).
//
// Flags:
//   --smoke          one short scenario-2 run with default dbpool only
//   --markdown FILE  also write the table (and the run details) to FILE
//   --scenario=1|2   run one scenario only
//   --client=default|tuned|naive   run one client only
//
// Servers come from scripts/servers.sh through DBPOOL_TEST_SERVERS_CTL (set
// by scripts/test.sh and by DIR/env of `servers.sh start DIR`); when it is
// unset, this source tree's scripts/servers.sh is used.
#include <libpq-fe.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dbpool/postgres.h"
#include "fault_proxy.h"
#include "scratch_servers.h"

namespace {

using dbpool::testing::FaultProxy;
using dbpool::testing::ScratchServers;

constexpr int kWriters = 8;
constexpr int kMaxSize = 4;
// Writes that must succeed before the fault, and how long they may take.
constexpr int kWarmupWrites = 50;
constexpr absl::Duration kWarmupTimeout = absl::Seconds(30);
// Steady writing before the fault (the pool has probed both endpoints).
constexpr absl::Duration kSteady = absl::Seconds(1);
// How long writer threads get to return once asked to stop.
constexpr absl::Duration kStopGrace = absl::Seconds(10);
// How long naive threads get after their sockets are shut down.
constexpr absl::Duration kReleaseGrace = absl::Seconds(15);
// The naive client's pause after a failed INSERT or connect.
constexpr absl::Duration kNaivePause = absl::Milliseconds(50);
// The naive client's libpq connect_timeout, in seconds, per host.
constexpr int kNaiveConnectTimeoutSeconds = 5;
// Error messages kept per run for the report.
constexpr size_t kSampleErrors = 3;

enum class Scenario { kBlackhole, kKill };
enum class Client { kDbpoolDefault, kDbpoolTuned, kNaive };

std::string ScenarioName(Scenario s) {
  return s == Scenario::kBlackhole ? "1: primary blackholed" : "2: primary killed";
}

std::string ClientName(Client c) {
  switch (c) {
    case Client::kDbpoolDefault:
      return "dbpool, default";
    case Client::kDbpoolTuned:
      return "dbpool, tuned (100ms/150ms/2)";
    case Client::kNaive:
      return "naive libpq";
  }
  return "?";
}

// The tuned setting that docs/failover.md documents.
dbpool::FailoverPolicy TunedPolicy() {
  return dbpool::FailoverPolicy()
      .probe_interval(absl::Milliseconds(100))
      .probe_timeout(absl::Milliseconds(150))
      .failure_threshold(2);
}

struct Settings {
  bool smoke = false;
  absl::Duration window = absl::Seconds(5);  // writes counted in [fault, fault + window]
  absl::Duration cap = absl::Seconds(20);    // longest wait for the first write after the fault
  std::string markdown_path;
  std::vector<Scenario> scenarios = {Scenario::kBlackhole, Scenario::kKill};
  std::vector<Client> clients = {Client::kDbpoolDefault, Client::kDbpoolTuned, Client::kNaive};
};

std::string FormatMs(absl::Duration d) {
  const double ms = absl::ToDoubleMilliseconds(d);
  if (ms < 10000) return absl::StrFormat("%.0f ms", ms);
  return absl::StrFormat("%.1f s", ms / 1000);
}

std::string FormatSeconds(absl::Duration d) {
  return absl::StrFormat("%.0f s", absl::ToDoubleSeconds(d));
}

// ---- What the writers did ---------------------------------------------------

// Successful writes and errors of one run, from every writer thread.
class Recorder {
 public:
  struct Write {
    absl::Time started;
    absl::Time done;
    int port;  // the server (or proxy) port that took it
  };

  void AddWrite(absl::Time started, absl::Time done, int port) {
    absl::MutexLock lock(&mu_);
    writes_.push_back(Write{started, done, port});
    if (started > fault_ && done < first_after_fault_) first_after_fault_ = done;
  }

  // Keeps the first few distinct messages, on one line each.
  void AddError(const std::string& message) {
    std::string line =
        absl::StrJoin(absl::StrSplit(message, absl::ByAnyChar(" \t\n"), absl::SkipEmpty()), " ");
    absl::MutexLock lock(&mu_);
    ++errors_;
    if (samples_.size() < kSampleErrors &&
        std::find(samples_.begin(), samples_.end(), line) == samples_.end()) {
      samples_.push_back(std::move(line));
    }
  }

  // From now on, writes started after `fault` count as writes after the fault.
  void MarkFault(absl::Time fault) {
    absl::MutexLock lock(&mu_);
    fault_ = fault;
  }

  size_t writes() const {
    absl::MutexLock lock(&mu_);
    return writes_.size();
  }
  // When the first write started after the fault was done (InfiniteFuture: none).
  absl::Time first_after_fault() const {
    absl::MutexLock lock(&mu_);
    return first_after_fault_;
  }
  int64_t errors() const {
    absl::MutexLock lock(&mu_);
    return errors_;
  }
  std::vector<std::string> samples() const {
    absl::MutexLock lock(&mu_);
    return samples_;
  }
  // When the last write done by `t` was done (InfinitePast: none).
  absl::Time LastDoneBy(absl::Time t) const {
    absl::MutexLock lock(&mu_);
    absl::Time last = absl::InfinitePast();
    for (const Write& w : writes_) {
      if (w.done <= t) last = std::max(last, w.done);
    }
    return last;
  }
  // Writes started after `from` and done by `until`.
  std::vector<Write> WritesBetween(absl::Time from, absl::Time until) const {
    absl::MutexLock lock(&mu_);
    std::vector<Write> out;
    for (const Write& w : writes_) {
      if (w.started > from && w.done <= until) out.push_back(w);
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Write> writes_ ABSL_GUARDED_BY(mu_);
  absl::Time fault_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Time first_after_fault_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  int64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> samples_ ABSL_GUARDED_BY(mu_);
};

// ---- Writer threads ---------------------------------------------------------

// State shared by one run's writer threads and the main thread. Threads hold
// it by shared_ptr, so a thread that has to be left behind stays valid.
struct Shared {
  struct Slot {
    std::atomic<bool> done{false};  // the thread is about to return
    absl::Mutex mu;
    int fd ABSL_GUARDED_BY(mu) = -1;  // naive client: the socket in use, -1 if none
  };

  std::atomic<bool> stop{false};
  // Set before the main thread shuts sockets down: errors after it are ours.
  std::atomic<bool> releasing{false};
  std::array<Slot, kWriters> slots;
  Recorder recorder;
  std::string conninfo;  // naive client
};

std::string InsertSql(int writer, int seq) {
  return absl::StrCat("INSERT INTO failover_writes (writer, seq) VALUES (", writer, ", ", seq, ")");
}

void DbpoolWriter(dbpool::PgPool pool, std::shared_ptr<Shared> shared, int writer) {
  for (int seq = 0; !shared->stop.load(); ++seq) {
    const std::string sql = InsertSql(writer, seq);
    int port = 0;
    const absl::Time started = absl::Now();
    const absl::Status status = pool.with_retry([&](dbpool::PgLease& lease) -> absl::Status {
      port = lease.endpoint().port;
      PGresult* r = PQexec(lease.native(), sql.c_str());
      absl::Status s = dbpool::PgStatus(r, lease.native());
      PQclear(r);
      return s;
    });
    if (status.ok()) {
      shared->recorder.AddWrite(started, absl::Now(), port);
    } else {
      shared->recorder.AddError(status.ToString());
    }
  }
  shared->slots[writer].done = true;
}

void NaiveWriter(std::shared_ptr<Shared> shared, int writer) {
  Shared::Slot& slot = shared->slots[writer];
  const auto record_error = [&](const std::string& what, const char* message) {
    if (!shared->releasing) shared->recorder.AddError(absl::StrCat(what, ": ", message));
  };
  PGconn* conn = nullptr;
  int seq = 0;
  while (!shared->stop) {
    if (conn == nullptr) {
      PGconn* fresh = PQconnectdb(shared->conninfo.c_str());
      if (PQstatus(fresh) != CONNECTION_OK) {
        record_error("connect", PQerrorMessage(fresh));
        PQfinish(fresh);
        absl::SleepFor(kNaivePause);
        continue;
      }
      absl::MutexLock lock(&slot.mu);
      slot.fd = PQsocket(fresh);
      conn = fresh;
    }
    const std::string sql = InsertSql(writer, seq);
    const absl::Time started = absl::Now();
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
      int port = 0;
      if (!absl::SimpleAtoi(PQport(conn), &port)) port = 0;
      shared->recorder.AddWrite(started, absl::Now(), port);
      PQclear(r);
      ++seq;
      continue;
    }
    // A unique violation means an earlier attempt of this row committed.
    const char* sqlstate = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (sqlstate != nullptr && std::strcmp(sqlstate, "23505") == 0) ++seq;
    record_error("INSERT", PQerrorMessage(conn));
    PQclear(r);
    {
      absl::MutexLock lock(&slot.mu);
      slot.fd = -1;
    }
    PQfinish(conn);
    conn = nullptr;
    absl::SleepFor(kNaivePause);
  }
  if (conn != nullptr) {
    {
      absl::MutexLock lock(&slot.mu);
      slot.fd = -1;
    }
    PQfinish(conn);
  }
  slot.done = true;
}

// Threads left running because they never returned (the program then ends
// with _Exit rather than destroying what they may still touch).
std::atomic<int> g_abandoned_threads{0};

// One run's writer threads. The destructor stops them.
class WriterGroup {
 public:
  explicit WriterGroup(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  WriterGroup(const WriterGroup&) = delete;
  WriterGroup& operator=(const WriterGroup&) = delete;
  ~WriterGroup() { Stop(); }

  template <typename Fn>
  void Start(Fn&& body) {
    for (int w = 0; w < kWriters; ++w) threads_.emplace_back(body, shared_, w);
  }

  // The result of Stop().
  struct Stopped {
    int blocked = 0;    // threads not returned kStopGrace after being asked to stop
    int released = 0;   // of those, returned after shutdown() of their sockets
    int abandoned = 0;  // of those, still running (left detached)
  };

  // Asks the threads to stop and waits kStopGrace for them. Then shuts down
  // the sockets that naive threads registered and waits kReleaseGrace more;
  // threads still running then are detached. Idempotent.
  Stopped Stop() {
    if (threads_.empty()) return stopped_;
    shared_->stop = true;
    WaitDone(kStopGrace);
    stopped_.blocked = kWriters - Done();
    if (stopped_.blocked > 0) {
      shared_->releasing = true;
      for (Shared::Slot& slot : shared_->slots) {
        absl::MutexLock lock(&slot.mu);
        if (slot.fd >= 0) ::shutdown(slot.fd, SHUT_RDWR);
      }
      WaitDone(kReleaseGrace);
      stopped_.abandoned = kWriters - Done();
      stopped_.released = stopped_.blocked - stopped_.abandoned;
    }
    for (int w = 0; w < kWriters; ++w) {
      if (shared_->slots[w].done) {
        threads_[w].join();
      } else {
        threads_[w].detach();
        ++g_abandoned_threads;
      }
    }
    threads_.clear();
    return stopped_;
  }

 private:
  int Done() const {
    int n = 0;
    for (const Shared::Slot& slot : shared_->slots) n += slot.done ? 1 : 0;
    return n;
  }
  void WaitDone(absl::Duration grace) const {
    const absl::Time deadline = absl::Now() + grace;
    while (Done() < kWriters && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  }

  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
  Stopped stopped_;
};

// ---- Servers ----------------------------------------------------------------

struct Credentials {
  std::string db;
  std::string user;
  std::string password;
};

std::string Quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string Conninfo(const Credentials& c, const std::string& host_ports) {
  return absl::StrCat(host_ports, " dbname=", Quote(c.db), " user=", Quote(c.user),
                      " password=", Quote(c.password),
                      " connect_timeout=", kNaiveConnectTimeoutSeconds);
}

// The first row's first column of `sql` on `conn`.
absl::StatusOr<std::string> QueryValue(PGconn* conn, const char* sql) {
  PGresult* r = PQexec(conn, sql);
  absl::Status status = dbpool::PgStatus(r, conn);
  std::string value;
  if (status.ok() && PQntuples(r) > 0) value = PQgetvalue(r, 0, 0);
  PQclear(r);
  if (!status.ok()) return status;
  return value;
}

// Creates failover_writes on the primary and waits until the replica has it.
absl::Status CreateWritesTable(const Credentials& c, int primary_port, int replica_port) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> primary(
      PQconnectdb(Conninfo(c, absl::StrCat("host=127.0.0.1 port=", primary_port)).c_str()),
      PQfinish);
  if (absl::Status s = dbpool::PgStatus(primary.get()); !s.ok()) return s;
  absl::StatusOr<std::string> created =
      QueryValue(primary.get(),
                 "CREATE TABLE failover_writes (writer int, seq int, PRIMARY KEY (writer, seq))");
  if (!created.ok()) return created.status();

  std::unique_ptr<PGconn, void (*)(PGconn*)> replica(
      PQconnectdb(Conninfo(c, absl::StrCat("host=127.0.0.1 port=", replica_port)).c_str()),
      PQfinish);
  if (absl::Status s = dbpool::PgStatus(replica.get()); !s.ok()) return s;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (;;) {
    absl::StatusOr<std::string> there =
        QueryValue(replica.get(), "SELECT to_regclass('failover_writes') IS NOT NULL");
    if (!there.ok()) return there.status();
    if (*there == "t") return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError("failover_writes did not reach the replica in 30 s");
    }
    absl::SleepFor(absl::Milliseconds(20));  // polling the replica's replay
  }
}

// ---- One run ----------------------------------------------------------------

struct RunResult {
  Scenario scenario = Scenario::kKill;
  Client client = Client::kDbpoolDefault;
  absl::Status error;  // not OK: the run could not be set up; nothing below is valid
  absl::Duration first_write = absl::InfiniteDuration();  // infinite: none within the cap
  int64_t errors = 0;
  std::vector<std::string> sample_errors;
  size_t window_writes = 0;
  WriterGroup::Stopped stopped;
  // Details.
  double writes_per_second_before = 0;
  absl::Duration fault_command = absl::ZeroDuration();  // how long the kill command took
  absl::Duration promoted = absl::ZeroDuration();       // from the fault to pg-promote returning
  absl::Duration last_before = absl::ZeroDuration();    // from the last write before the fault
  uint64_t failovers_before = 0;  // dbpool: failovers counted before the fault (flapping)
  size_t after_on_replica = 0;    // writes in the window on the replica
  std::string pool_stats;         // dbpool: failover fields of PoolStats
};

std::string DescribeStats(const dbpool::PoolStats& s) {
  std::vector<std::string> endpoints;
  for (const dbpool::EndpointStats& e : s.endpoints) {
    endpoints.push_back(absl::StrCat(e.endpoint, " ", e.up ? "up" : "down", " ", e.role));
  }
  return absl::StrCat(
      "failovers=", s.failovers, " last_detection_time=", FormatMs(s.last_detection_time),
      " time_without_primary=", FormatMs(s.time_without_primary),
      " closed_evicted=", s.closed_evicted, " endpoints=[", absl::StrJoin(endpoints, ", "), "]");
}

void RunOne(Scenario scenario, Client client, const Settings& settings, RunResult* out) {
  out->scenario = scenario;
  out->client = client;
  std::fprintf(stderr, "[failover] scenario %s, %s: starting servers\n",
               ScenarioName(scenario).c_str(), ClientName(client).c_str());
  ScratchServers servers("pg replica");  // aborts the program if they cannot start
  const Credentials creds{servers.Get("DBPOOL_TEST_PG_DB"), servers.Get("DBPOOL_TEST_PG_USER"),
                          servers.Get("DBPOOL_TEST_PG_PASSWORD")};
  const int primary_port = servers.Port("DBPOOL_TEST_PG_PORT");
  const int replica_port = servers.Port("DBPOOL_TEST_PG_REPLICA_PORT");
  if (absl::Status s = CreateWritesTable(creds, primary_port, replica_port); !s.ok()) {
    out->error = s;
    return;
  }

  // Clients reach the primary through the proxy in scenario 1.
  std::unique_ptr<FaultProxy> proxy;
  int first_port = primary_port;
  if (scenario == Scenario::kBlackhole) {
    absl::StatusOr<std::unique_ptr<FaultProxy>> started =
        FaultProxy::Start("127.0.0.1", primary_port);
    if (!started.ok()) {
      out->error = started.status();
      return;
    }
    proxy = *std::move(started);
    first_port = proxy->port();
  }

  std::optional<dbpool::PgPool> pool;
  auto shared = std::make_shared<Shared>();
  if (client == Client::kNaive) {
    shared->conninfo =
        Conninfo(creds, absl::StrCat("host=127.0.0.1,127.0.0.1 port=", first_port, ",",
                                     replica_port, " target_session_attrs=read-write"));
  } else {
    dbpool::PgPool::Builder builder;
    builder.endpoint("127.0.0.1", first_port)
        .endpoint("127.0.0.1", replica_port)
        .database(creds.db)
        .user(creds.user)
        .password(creds.password)
        .name("failover_bench")
        .max_size(kMaxSize);
    if (client == Client::kDbpoolTuned) builder.failover(TunedPolicy());
    absl::StatusOr<dbpool::PgPool> built = builder.build();
    if (!built.ok()) {
      out->error = built.status();
      return;
    }
    pool = *std::move(built);
  }

  WriterGroup writers(shared);
  if (client == Client::kNaive) {
    writers.Start(NaiveWriter);
  } else {
    writers.Start([handle = *pool](std::shared_ptr<Shared> s, int w) {
      DbpoolWriter(handle, std::move(s), w);
    });
  }

  // Writes flow, then settle for a moment.
  const absl::Time warmup_deadline = absl::Now() + kWarmupTimeout;
  while (shared->recorder.writes() < static_cast<size_t>(kWarmupWrites)) {
    if (absl::Now() > warmup_deadline) {
      const std::vector<std::string> samples = shared->recorder.samples();
      out->error = absl::DeadlineExceededError(
          absl::StrCat("fewer than ", kWarmupWrites, " writes before the fault in ",
                       FormatSeconds(kWarmupTimeout),
                       samples.empty() ? "" : absl::StrCat("; first error: ", samples[0])));
      return;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  const absl::Time steady_from = absl::Now();
  const size_t writes_at_steady = shared->recorder.writes();
  absl::SleepFor(kSteady);
  out->writes_per_second_before =
      static_cast<double>(shared->recorder.writes() - writes_at_steady) /
      absl::ToDoubleSeconds(absl::Now() - steady_from);

  if (pool.has_value()) out->failovers_before = pool->stats().failovers;

  // The fault, then the promotion at once.
  std::fprintf(stderr, "[failover] scenario %s, %s: fault\n", ScenarioName(scenario).c_str(),
               ClientName(client).c_str());
  const absl::Time fault_issued = absl::Now();
  if (scenario == Scenario::kBlackhole) {
    if (absl::Status s = proxy->set_mode(FaultProxy::Mode::kStall); !s.ok()) {
      out->error = s;
      return;
    }
  } else {
    if (absl::Status s = servers.Ctl("pg-stop"); !s.ok()) {
      out->error = s;
      return;
    }
  }
  const absl::Time fault = absl::Now();
  out->fault_command = fault - fault_issued;
  out->last_before = fault - shared->recorder.LastDoneBy(fault);
  shared->recorder.MarkFault(fault);
  if (absl::Status s = servers.Ctl("pg-promote"); !s.ok()) {
    out->error = s;
    return;
  }
  out->promoted = absl::Now() - fault;

  // Watch for the window, and for the first write up to the cap.
  for (;;) {
    const absl::Time now = absl::Now();
    if (now >= fault + settings.cap) break;
    if (now >= fault + settings.window &&
        shared->recorder.first_after_fault() != absl::InfiniteFuture()) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (pool.has_value()) out->pool_stats = DescribeStats(pool->stats());
  std::fprintf(stderr, "[failover] scenario %s, %s: stopping writers\n",
               ScenarioName(scenario).c_str(), ClientName(client).c_str());
  out->stopped = writers.Stop();

  absl::Time first = absl::InfiniteFuture();
  for (const Recorder::Write& w : shared->recorder.WritesBetween(fault, fault + settings.cap)) {
    first = std::min(first, w.done);
  }
  if (first != absl::InfiniteFuture()) out->first_write = first - fault;
  const std::vector<Recorder::Write> in_window =
      shared->recorder.WritesBetween(fault, fault + settings.window);
  out->window_writes = in_window.size();
  for (const Recorder::Write& w : in_window) out->after_on_replica += w.port == replica_port;
  out->errors = shared->recorder.errors();
  out->sample_errors = shared->recorder.samples();
  // Destroyed in reverse: writers (already stopped), pool, proxy, servers.
}

// ---- Report -----------------------------------------------------------------

std::string Table(const std::vector<RunResult>& results, const Settings& settings) {
  std::string md = absl::StrCat(
      "| scenario | client | first write after fault | errors surfaced | writes in window (",
      FormatSeconds(settings.window), ") | threads blocked at end |\n",
      "|---|---|---:|---:|---:|---|\n");
  for (const RunResult& r : results) {
    if (!r.error.ok()) {
      absl::StrAppend(&md, "| ", ScenarioName(r.scenario), " | ", ClientName(r.client),
                      " | not run: ", r.error.message(), " | | | |\n");
      continue;
    }
    std::string first;
    if (r.first_write != absl::InfiniteDuration()) {
      first = FormatMs(r.first_write);
    } else if (r.stopped.blocked > 0) {
      first = absl::StrCat("hung for > ", FormatSeconds(settings.cap));
    } else {
      first = absl::StrCat("none within ", FormatSeconds(settings.cap));
    }
    std::string blocked = absl::StrCat(r.stopped.blocked, " of ", kWriters);
    if (r.stopped.released > 0) {
      absl::StrAppend(&blocked, " (", r.stopped.released, " released by shutdown())");
    }
    if (r.stopped.abandoned > 0) absl::StrAppend(&blocked, " (", r.stopped.abandoned, " left)");
    absl::StrAppend(&md, "| ", ScenarioName(r.scenario), " | ", ClientName(r.client), " | ", first,
                    " | ", r.errors, " | ", r.window_writes, " | ", blocked, " |\n");
  }
  return md;
}

std::string Details(const std::vector<RunResult>& results) {
  std::string md;
  for (const RunResult& r : results) {
    if (!r.error.ok()) continue;
    absl::StrAppend(&md, "- ", ScenarioName(r.scenario), ", ", ClientName(r.client), ": ",
                    absl::StrFormat("%.0f", r.writes_per_second_before),
                    " writes/s before the fault; ");
    if (r.scenario == Scenario::kKill) {
      absl::StrAppend(&md, "pg-stop took ", FormatMs(r.fault_command), "; ");
    }
    absl::StrAppend(&md, "last write before the fault ", FormatMs(r.last_before),
                    " before it; pg-promote returned ", FormatMs(r.promoted), " after the fault; ",
                    r.after_on_replica, " of ", r.window_writes,
                    " writes in the window on the promoted replica");
    if (r.failovers_before > 0) {
      absl::StrAppend(&md, "; ", r.failovers_before, " failovers before the fault (flapping)");
    }
    if (!r.pool_stats.empty()) absl::StrAppend(&md, "; stats: ", r.pool_stats);
    if (!r.sample_errors.empty()) {
      std::vector<std::string> quoted;
      for (std::string e : r.sample_errors) {
        std::replace(e.begin(), e.end(), '|', '/');
        std::replace(e.begin(), e.end(), '`', '\'');
        quoted.push_back(absl::StrCat("`", e, "`"));
      }
      absl::StrAppend(&md, "; first errors: ", absl::StrJoin(quoted, ", "));
    }
    absl::StrAppend(&md, "\n");
  }
  return md;
}

int Usage() {
  std::fprintf(stderr,
               "usage: failover_bench [--smoke] [--markdown FILE] [--scenario=1|2]\n"
               "                      [--client=default|tuned|naive]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--smoke") {
      settings.smoke = true;
    } else if (arg == "--markdown" && i + 1 < argc) {
      settings.markdown_path = argv[++i];
    } else if (arg.rfind("--markdown=", 0) == 0) {
      settings.markdown_path = arg.substr(std::strlen("--markdown="));
    } else if (arg == "--scenario=1" || arg == "--scenario=2") {
      settings.scenarios = {arg.back() == '1' ? Scenario::kBlackhole : Scenario::kKill};
    } else if (arg == "--client=default") {
      settings.clients = {Client::kDbpoolDefault};
    } else if (arg == "--client=tuned") {
      settings.clients = {Client::kDbpoolTuned};
    } else if (arg == "--client=naive") {
      settings.clients = {Client::kNaive};
    } else {
      return Usage();
    }
  }
  if (settings.smoke) settings.window = absl::Seconds(1);
#ifdef DBPOOL_SOURCE_DIR
  // ScratchServers runs scripts/servers.sh through this variable.
  const std::string ctl = absl::StrCat("bash ", DBPOOL_SOURCE_DIR, "/scripts/servers.sh");
  setenv("DBPOOL_TEST_SERVERS_CTL", ctl.c_str(), /*overwrite=*/0);
#endif

  std::vector<std::pair<Scenario, Client>> plan;
  if (settings.smoke) {
    plan.emplace_back(Scenario::kKill, Client::kDbpoolDefault);
  } else {
    for (Scenario s : settings.scenarios) {
      for (Client c : settings.clients) {
        plan.emplace_back(s, c);
      }
    }
  }

  std::vector<RunResult> results(plan.size());
  bool failed = false;
  for (size_t i = 0; i < plan.size(); ++i) {
    RunOne(plan[i].first, plan[i].second, settings, &results[i]);
    if (!results[i].error.ok()) {
      failed = true;
      std::fprintf(stderr, "[failover] scenario %s, %s could not run: %s\n",
                   ScenarioName(plan[i].first).c_str(), ClientName(plan[i].second).c_str(),
                   results[i].error.ToString().c_str());
    }
  }

  const std::string md =
      absl::StrCat("**Failover: ", kWriters, " writer threads, the replica promoted right after ",
                   "the fault", settings.smoke ? " (smoke run)" : "", "**\n\n",
                   Table(results, settings), "\n", Details(results));
  std::printf("\n%s", md.c_str());
  int status = failed ? 1 : 0;
  if (!settings.markdown_path.empty()) {
    std::ofstream file(settings.markdown_path);
    file << md;
    if (!file) {
      std::fprintf(stderr, "cannot write %s\n", settings.markdown_path.c_str());
      status = 1;
    }
  }
  std::fflush(stdout);
  std::fflush(stderr);
  // Threads that never returned may still touch run state: end without
  // running destructors.
  if (g_abandoned_threads > 0) std::_Exit(status);
  return status;
}
