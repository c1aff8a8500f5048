// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// What the end-to-end benchmarks share: their command line, the server
// addresses that scripts/servers.sh exports, a timed multi-threaded runner
// that records every request's latency, and the report (a table on stdout, a
// Markdown table with ratios for BENCHMARKS.md, a TSV file for
// scripts/bench.sh).
//
// Vocabulary: a *variant* is one way to reach the server (raw libpq, dbpool,
// connect-per-request, ...); a *case* is a query at a thread count over a
// connection count; a *run* is one variant on one case for a fixed time.
#ifndef DBPOOL_BENCHMARKS_BENCH_UTIL_H_
#define DBPOOL_BENCHMARKS_BENCH_UTIL_H_

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dbpool/pool.h"
#include "dbpool/stats.h"

#ifdef DBPOOL_BENCH_WITH_POCO
#include <Poco/Data/Session.h>
#include <Poco/Data/SessionPool.h>
#include <Poco/Exception.h>
#endif
#ifdef DBPOOL_BENCH_WITH_SOCI
#include <soci/connection-pool.h>
#include <soci/into.h>
#include <soci/session.h>
#include <soci/use.h>
#endif

namespace dbpool_bench {

// Flags
//
// The command line of every end-to-end program:
//   --smoke        a handful of requests per run, one repetition, fewer
//                  thread counts: proves the program works (CI), measures
//                  nothing
//   --seconds=S    measured time of one run. Default: 0.7
//   --reps=N       repetitions; every reported figure is the median over
//                  them. Default: 5
//   --only=A,B     run only these variants (by name)
//   --threads=1,32 run only the cases with these thread counts
//   --tsv=PATH     write one line per result (see WriteTsv())
//   --markdown=PATH  write the Markdown tables
struct Flags {
  bool smoke = false;
  absl::Duration duration = absl::Milliseconds(700);
  bool duration_given = false;  // --seconds was on the command line
  int repetitions = 5;
  bool repetitions_given = false;  // --reps was on the command line
  std::vector<std::string> only;
  std::vector<int> threads;
  std::string tsv_path;
  std::string markdown_path;
  // Flags the program itself understands (name=value), left for it.
  std::vector<std::string> rest;
};

// ParseFlags()
//
// Errors: kInvalidArgument naming the flag. Flags listed in `extra` (by
// name, e.g. "--threads") are passed through in Flags::rest.
absl::StatusOr<Flags> ParseFlags(int argc, char** argv, const std::vector<std::string>& extra = {});

// ParseFlagsOrExit()
//
// ParseFlags(), or the error on stderr and an exit with status 2.
Flags ParseFlagsOrExit(int argc, char** argv, const std::vector<std::string>& extra = {});

// RequireEnv()
//
// The value of an environment variable; exits the program with status 2 and
// a message naming scripts/bench.sh when it is unset (a benchmark never
// passes silently without its server).
std::string RequireEnv(const char* name);

// Server
//
// Where a database server listens and how to log in.
struct Server {
  std::string host;
  int port = 0;
  std::string db;
  std::string user;
  std::string password;
};

// ServerFromEnv()
//
// The server that scripts/servers.sh exports as <prefix>HOST, <prefix>PORT,
// <prefix>DB, <prefix>USER and <prefix>PASSWORD (e.g. prefix
// "DBPOOL_TEST_PG_"); exits as RequireEnv() does when one is unset.
Server ServerFromEnv(const std::string& prefix);

// NowNs()
//
// A steady clock in nanoseconds.
int64_t NowNs();

// Percentile()
//
// The q-th quantile (0..1) of `v` by nearest rank; reorders `v`. 0 when
// empty.
double Percentile(std::vector<int64_t>& v, double q);

// Median()
//
// The median of `v` (mean of the two middle values when even); 0 when empty.
double Median(std::vector<double> v);

// RssKiB()
//
// The resident set size of this process in KiB, from /proc/self/statm.
int64_t RssKiB();

// HeapKiB()
//
// Bytes allocated with malloc and not freed, over all arenas (glibc
// mallinfo2()), in KiB.
int64_t HeapKiB();

// WaitForIdle()
//
// Waits until `pool` (a dbpool Pool) holds `n` idle connections, for up to
// 30 s. Fails at once when a connection attempt failed (kUnavailable with
// the pool's last connect error), so a benchmark without its server stops
// quickly.
template <typename PoolT>
absl::Status WaitForIdle(const PoolT& pool, int n) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (;;) {
    const dbpool::PoolStats stats = pool.stats();
    if (stats.idle >= n) return absl::OkStatus();
    if (stats.connect_failures > 0) {
      return absl::UnavailableError(
          absl::StrCat("could not open the pool's connections: ", stats.last_connect_error));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the pool did not open ", n, " connections: ", dbpool::ToString(stats)));
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
}

// The queries every end-to-end benchmark runs.
enum class Query {
  kSelect1,    // SELECT 1
  kPointRead,  // SELECT v FROM kv WHERE k = <random 1..1000> (primary key)
};
const char* QueryKey(Query q);    // "select1", "point_read"
const char* QueryTitle(Query q);  // for tables

// Keys
//
// Random keys of the kv table (1..1000) for the point read.
class Keys {
 public:
  explicit Keys(uint32_t seed) : rng_(seed) {}
  int next() { return 1 + static_cast<int>(rng_() % 1000); }

 private:
  std::minstd_rand rng_;
};

// Case
//
// One measured configuration. Pooled variants use `connections` server
// connections; per-request variants open one per request.
struct Case {
  Query query = Query::kSelect1;
  int threads = 1;
  int connections = 1;
};

// EndToEndCases()
//
// SELECT 1 at `select1_threads`, then the point read at `read_threads` (both
// at 1 and 4 threads in --smoke mode), each over min(threads, 8) server
// connections.
std::vector<Case> EndToEndCases(const Flags& flags, const std::vector<int>& select1_threads,
                                const std::vector<int>& read_threads);

// One request: acquire + query + release, or connect + query + close, ...
// Returns the error to count (the first one of a run is shown).
using Request = std::function<absl::Status()>;

// Variant
//
// One way to reach the server. Open() and Close() run on the main thread,
// Worker() on each worker thread before the measured time starts.
class Variant {
 public:
  virtual ~Variant() = default;
  // A short name, e.g. "dbpool" (tables, --only, TSV).
  virtual std::string name() const = 0;
  // What the connection column shows, e.g. "8 shared", "1 per thread".
  virtual std::string connections(const Case& c) const = 0;
  // Opens pools or persistent connections for a run of `c`.
  virtual absl::Status Open(const Case& c) = 0;
  // The request loop body of worker `thread` (0-based); `seed` seeds the
  // random keys.
  virtual absl::StatusOr<Request> Worker(int thread, const Case& c, uint32_t seed) = 0;
  // Closes what Open() opened. Called after every worker finished.
  virtual void Close() = 0;
  // Whether every request opens a connection (a run in --smoke mode then
  // makes one request per thread).
  virtual bool per_request() const { return false; }
};

// Variants shared by the end-to-end programs, over a raw client API `Client`:
//   using Traits = ...;  // the dbpool driver traits (dbpool::Postgres, ...)
//   using Conn = typename Traits::Native;
//   // A connected handle, or an error (the handle is then closed).
//   static absl::StatusOr<Conn*> Connect(const Server& server, int port);
//   static void Close(Conn* conn);
//   // Runs `q` on `conn` and checks it returned one row.
//   static absl::Status Run(Conn* conn, Query q, Keys& keys);

// PersistentVariant
//
// Persistent connections opened before the run (to the server, or to a
// pooler in front of it at `port`). Shared ones (more threads than
// connections) are taken under a mutex per connection, thread t using
// connection t % n: a static partition, the least a pool could cost. With
// `one_per_thread`, one connection per thread instead of c.connections.
template <typename Client>
class PersistentVariant : public Variant {
 public:
  using Conn = typename Client::Conn;
  PersistentVariant(std::string name, const Server& server, int port, bool one_per_thread)
      : name_(std::move(name)), server_(server), port_(port), one_per_thread_(one_per_thread) {}

  std::string name() const override { return name_; }
  std::string connections(const Case& c) const override {
    return one_per_thread_
               ? absl::StrCat(c.threads, " (1 client per thread)")
               : absl::StrCat(c.connections, c.threads > c.connections ? " shared" : "");
  }
  absl::Status Open(const Case& c) override {
    const int n = one_per_thread_ ? c.threads : c.connections;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<Conn*> conn = Client::Connect(server_, port_);
      if (!conn.ok()) return conn.status();
      slots_.push_back(std::make_unique<Slot>());
      slots_.back()->conn = *conn;
    }
    shared_ = c.threads > n;
    return absl::OkStatus();
  }
  absl::StatusOr<Request> Worker(int thread, const Case& c, uint32_t seed) override {
    Slot* slot = slots_[static_cast<size_t>(thread) % slots_.size()].get();
    auto keys = std::make_shared<Keys>(seed);
    const Query q = c.query;
    if (!shared_) return Request([slot, keys, q] { return Client::Run(slot->conn, q, *keys); });
    return Request([slot, keys, q] {
      std::lock_guard<std::mutex> lock(slot->mu);
      return Client::Run(slot->conn, q, *keys);
    });
  }
  void Close() override {
    for (const auto& slot : slots_) Client::Close(slot->conn);
    slots_.clear();
  }

 private:
  struct Slot {
    std::mutex mu;
    Conn* conn = nullptr;
  };
  std::string name_;
  const Server& server_;
  int port_;
  bool one_per_thread_;
  bool shared_ = false;
  std::vector<std::unique_ptr<Slot>> slots_;
};

// PerRequestVariant
//
// A new connection (to the server, or to a pooler at `port`) per request:
// connect + query + close.
template <typename Client>
class PerRequestVariant : public Variant {
 public:
  using Conn = typename Client::Conn;
  PerRequestVariant(std::string name, const Server& server, int port)
      : name_(std::move(name)), server_(server), port_(port) {}
  std::string name() const override { return name_; }
  std::string connections(const Case&) const override { return "1 per request"; }
  bool per_request() const override { return true; }
  absl::Status Open(const Case&) override { return absl::OkStatus(); }
  absl::StatusOr<Request> Worker(int, const Case& c, uint32_t seed) override {
    auto keys = std::make_shared<Keys>(seed);
    const Query q = c.query;
    return Request([this, keys, q] {
      absl::StatusOr<Conn*> conn = Client::Connect(server_, port_);
      if (!conn.ok()) return conn.status();
      absl::Status s = Client::Run(*conn, q, *keys);
      Client::Close(*conn);
      return s;
    });
  }
  void Close() override {}

 private:
  std::string name_;
  const Server& server_;
  int port_;
};

// DbpoolVariant
//
// A dbpool Pool of c.connections, all opened before the run: acquire +
// query + release. `options` are passed to Builder::option().
template <typename Client>
class DbpoolVariant : public Variant {
 public:
  using PoolT = dbpool::Pool<typename Client::Traits>;
  using Options = std::vector<std::pair<std::string, std::string>>;
  explicit DbpoolVariant(const Server& server, Options options = {})
      : server_(server), options_(std::move(options)) {}
  std::string name() const override { return "dbpool"; }
  std::string connections(const Case& c) const override {
    return absl::StrCat(c.connections, " pooled");
  }
  absl::Status Open(const Case& c) override {
    typename PoolT::Builder builder;
    builder.endpoint(server_.host, server_.port)
        .database(server_.db)
        .user(server_.user)
        .password(server_.password);
    for (const auto& [key, value] : options_) builder.option(key, value);
    absl::StatusOr<PoolT> pool = builder.name("bench")
                                     .max_size(c.connections)
                                     .min_idle(c.connections)
                                     .acquire_timeout(absl::Seconds(60))
                                     .build();
    if (!pool.ok()) return pool.status();
    pool_ = std::make_unique<PoolT>(*std::move(pool));
    return WaitForIdle(*pool_, c.connections);
  }
  absl::StatusOr<Request> Worker(int, const Case& c, uint32_t seed) override {
    auto keys = std::make_shared<Keys>(seed);
    const Query q = c.query;
    const PoolT* pool = pool_.get();
    return Request([pool, keys, q] {
      auto lease = pool->acquire();
      if (!lease.ok()) return lease.status();
      return Client::Run(lease->native(), q, *keys);
    });
  }
  void Close() override {
    if (pool_ != nullptr) pool_->close();
    pool_.reset();
  }
  // The pool while open.
  const PoolT* pool() const { return pool_.get(); }

 private:
  const Server& server_;
  Options options_;
  std::unique_ptr<PoolT> pool_;
};

// Semaphore
//
// A counting semaphore: Poco's SessionPool throws when it is exhausted
// instead of waiting, so callers with more threads than sessions must bound
// themselves.
class Semaphore {
 public:
  explicit Semaphore(int n) : n_(n) {}
  void acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return n_ > 0; });
    --n_;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++n_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_;
};

#ifdef DBPOOL_BENCH_WITH_POCO
// PocoVariant
//
// Poco::Data::SessionPool of the connector named `connector` (registered by
// the caller) with `conninfo`. SELECT 1 is read into a `One`; `point_read`
// is the point read with its placeholder for the key.
template <typename One>
class PocoVariant : public Variant {
 public:
  PocoVariant(std::string connector, std::string conninfo, std::string point_read)
      : connector_(std::move(connector)),
        conninfo_(std::move(conninfo)),
        point_read_(std::move(point_read)) {}
  std::string name() const override { return "poco"; }
  std::string connections(const Case& c) const override {
    return absl::StrCat(c.connections, " pooled");
  }
  absl::Status Open(const Case& c) override {
    try {
      pool_ = std::make_unique<::Poco::Data::SessionPool>(connector_, conninfo_, c.connections,
                                                          c.connections, 600);
      // Open every session now, as the other pools do.
      std::vector<::Poco::Data::Session> open;
      for (int i = 0; i < c.connections; ++i) open.push_back(pool_->get());
    } catch (const ::Poco::Exception& e) {
      return absl::UnavailableError(e.displayText());
    }
    permits_ = std::make_unique<Semaphore>(c.connections);
    return absl::OkStatus();
  }
  absl::StatusOr<Request> Worker(int, const Case& c, uint32_t seed) override {
    auto keys = std::make_shared<Keys>(seed);
    const Query q = c.query;
    return Request([this, keys, q] {
      using ::Poco::Data::Keywords::into;
      using ::Poco::Data::Keywords::now;
      using ::Poco::Data::Keywords::use;
      permits_->acquire();
      absl::Status status;
      try {
        ::Poco::Data::Session session = pool_->get();
        if (q == Query::kSelect1) {
          One one = 0;
          session << "SELECT 1", into(one), now;
          if (one != 1) status = absl::InternalError("SELECT 1 returned no 1");
        } else {
          int k = keys->next();
          std::string v;
          session << point_read_, use(k), into(v), now;
          if (v.empty()) status = absl::InternalError("expected one row");
        }
      } catch (const ::Poco::Exception& e) {
        status = absl::UnknownError(e.displayText());
      }
      permits_->release();
      return status;
    });
  }
  void Close() override {
    if (pool_ != nullptr) pool_->shutdown();
    pool_.reset();
    permits_.reset();
  }

 private:
  std::string connector_;
  std::string conninfo_;
  std::string point_read_;
  std::unique_ptr<::Poco::Data::SessionPool> pool_;
  std::unique_ptr<Semaphore> permits_;
};
#endif  // DBPOOL_BENCH_WITH_POCO

#ifdef DBPOOL_BENCH_WITH_SOCI
// SociVariant
//
// soci::connection_pool of soci::session over `backend` with `conninfo`.
// SELECT 1 is read into a `One`.
template <typename One>
class SociVariant : public Variant {
 public:
  SociVariant(const soci::backend_factory& backend, std::string conninfo)
      : backend_(backend), conninfo_(std::move(conninfo)) {}
  std::string name() const override { return "soci"; }
  std::string connections(const Case& c) const override {
    return absl::StrCat(c.connections, " pooled");
  }
  absl::Status Open(const Case& c) override {
    pool_ = std::make_unique<soci::connection_pool>(static_cast<size_t>(c.connections));
    try {
      for (size_t i = 0; i < static_cast<size_t>(c.connections); ++i) {
        pool_->at(i).open(backend_, conninfo_);
      }
    } catch (const std::exception& e) {
      return absl::UnavailableError(e.what());
    }
    return absl::OkStatus();
  }
  absl::StatusOr<Request> Worker(int, const Case& c, uint32_t seed) override {
    auto keys = std::make_shared<Keys>(seed);
    const Query q = c.query;
    soci::connection_pool* pool = pool_.get();
    return Request([pool, keys, q] {
      try {
        soci::session session(*pool);  // lease(); the destructor gives it back
        if (q == Query::kSelect1) {
          One one = 0;
          session << "SELECT 1", soci::into(one);
          if (one != 1) return absl::InternalError("SELECT 1 returned no 1");
        } else {
          int k = keys->next();
          std::string v;
          session << "SELECT v FROM kv WHERE k = :k", soci::use(k), soci::into(v);
          if (v.empty()) return absl::InternalError("expected one row");
        }
      } catch (const std::exception& e) {
        return absl::UnknownError(e.what());
      }
      return absl::OkStatus();
    });
  }
  void Close() override { pool_.reset(); }

 private:
  const soci::backend_factory& backend_;
  std::string conninfo_;
  std::unique_ptr<soci::connection_pool> pool_;
};
#endif  // DBPOOL_BENCH_WITH_SOCI

// RunStats
//
// One run, or the medians of several.
struct RunStats {
  double ops_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  uint64_t requests = 0;
  uint64_t errors = 0;
  std::string first_error;
};

// RunOnce()
//
// Opens `variant` for `c`, starts `c.threads` workers, lets each make
// `warmup` requests, then measures requests for `duration` (or until each
// thread made `max_requests`, when non-zero) and closes the variant.
RunStats RunOnce(Variant& variant, const Case& c, absl::Duration duration, int warmup,
                 uint64_t max_requests);

// SuiteResult
//
// The medians of one variant on one case over the repetitions.
struct SuiteResult {
  std::string variant;
  std::string connections;  // Variant::connections()
  Case c;
  RunStats median;
  double spread_pct = 0;  // (max - min) / median of ops/s over repetitions
  int repetitions = 0;
};

// RunSuite()
//
// Runs every variant on every case flags.repetitions times. The repetitions
// are the outer loop, so slow drift on a noisy machine touches every variant
// alike. Prints progress to stderr.
std::vector<SuiteResult> RunSuite(const std::string& suite,
                                  const std::vector<std::unique_ptr<Variant>>& variants,
                                  const std::vector<Case>& cases, const Flags& flags);

// PairedResult
//
// The pool's own cost at one thread, measured on one connection: blocks of
// requests on a lease held throughout (a raw persistent connection: the
// pool is not involved) alternate with blocks that acquire and release
// around every request. Both use the very same server connection, so the
// difference is the pool's and nothing else: two separate connections on a
// loaded 2-core machine differ by up to 3x depending on where the scheduler
// puts their server process relative to the client.
struct PairedResult {
  Query query = Query::kSelect1;
  double base_us = 0;     // mean time per request, lease held
  double subject_us = 0;  // ... acquire + query + release
  double ratio = 0;       // median over block pairs of subject time / base time
  double ratio_p25 = 0;   // its interquartile range: how noisy the machine was
  double ratio_p75 = 0;
  int pairs = 0;
  uint64_t errors = 0;
  std::string first_error;
};

// RatioInterval
//
// The ratio of a subject's time to a base's over paired rounds, with a 95%
// confidence interval: the geometric mean of the per-round ratios, and
// exp(mean ± t(0.975, n - 1) × standard error) of their logarithms. Pairs
// whose times are not both positive are left out. With fewer than two
// pairs, lo and hi equal the ratio (no interval).
struct RatioInterval {
  double ratio = 0;
  double lo = 0;
  double hi = 0;
  int n = 0;
};

// PairedRatioInterval()
//
// RatioInterval over `pairs` of (base ns, subject ns).
RatioInterval PairedRatioInterval(const std::vector<std::pair<int64_t, int64_t>>& pairs);

// Summarizes block pairs (base ns, subject ns) into `out`.
void SummarizePairs(const std::vector<std::pair<int64_t, int64_t>>& pairs, int block,
                    PairedResult& out);

// RunPaired()
//
// Alternates blocks of `block` requests on `pool` (a Pool of max_size 1)
// for `duration`, which side goes first alternating too. `query(native)`
// runs one query on the native handle. Errors are counted in the result.
template <typename PoolT, typename QueryFn>
PairedResult RunPaired(const PoolT& pool, QueryFn query, Query q, absl::Duration duration,
                       int block) {
  PairedResult out;
  out.query = q;
  auto fail = [&out](const absl::Status& s) {
    if (out.errors++ == 0) out.first_error = s.ToString();
  };
  auto held = [&]() -> int64_t {  // lease taken outside the timed part
    auto lease = pool.acquire();
    if (!lease.ok()) {
      fail(lease.status());
      return 0;
    }
    const int64_t t0 = NowNs();
    for (int i = 0; i < block; ++i) {
      if (absl::Status s = query(lease->native()); !s.ok()) fail(s);
    }
    return NowNs() - t0;
  };
  auto pooled = [&]() -> int64_t {
    const int64_t t0 = NowNs();
    for (int i = 0; i < block; ++i) {
      auto lease = pool.acquire();
      if (!lease.ok()) {
        fail(lease.status());
        continue;
      }
      if (absl::Status s = query(lease->native()); !s.ok()) fail(s);
    }
    return NowNs() - t0;
  };
  for (int i = 0; i < 2; ++i) held(), pooled();  // warm up
  std::vector<std::pair<int64_t, int64_t>> pairs;
  const int64_t end = NowNs() + absl::ToInt64Nanoseconds(duration);
  for (int n = 0; NowNs() < end || n < 2; ++n) {
    if (n % 2 == 0) {
      const int64_t a = held();
      pairs.emplace_back(a, pooled());
    } else {
      const int64_t b = pooled();
      pairs.emplace_back(held(), b);
    }
  }
  SummarizePairs(pairs, block, out);
  return out;
}

// RunOwnCost()
//
// dbpool's own cost at one thread, on one connection: RunPaired() on
// `dbpool` opened for one connection, for each query. Skipped (empty) when
// --threads leaves out one thread. Prints progress to stderr as [suite].
template <typename Client>
std::vector<PairedResult> RunOwnCost(const std::string& suite, DbpoolVariant<Client>& dbpool,
                                     const Flags& flags) {
  std::vector<PairedResult> paired;
  if (!flags.threads.empty() && flags.threads.front() != 1) return paired;
  for (Query q : {Query::kSelect1, Query::kPointRead}) {
    std::fprintf(stderr, "[%s] dbpool's own cost, %s\n", suite.c_str(), QueryKey(q));
    if (absl::Status s = dbpool.Open(Case{q, 1, 1}); !s.ok()) {
      PairedResult failed;
      failed.query = q;
      failed.errors = 1;
      failed.first_error = s.ToString();
      paired.push_back(failed);
      dbpool.Close();
      continue;
    }
    Keys keys(7);
    paired.push_back(RunPaired(
        *dbpool.pool(),
        [&keys, q](typename Client::Conn* conn) { return Client::Run(conn, q, keys); }, q,
        flags.smoke ? absl::Milliseconds(20) : absl::Milliseconds(1500), flags.smoke ? 2 : 50));
    dbpool.Close();
  }
  return paired;
}

// WriteReportFiles()
//
// Writes `md` to --markdown and `tsv` to --tsv, each when given. Returns
// false when a file cannot be written.
bool WriteReportFiles(const Flags& flags, const std::string& md, const std::string& tsv);

// Report()
//
// Prints the results to stdout, and writes the Markdown tables and TSV lines
// when flags ask for them. Ratios are against the variant named `baseline`
// (the raw client) and `subject` (dbpool) on the same case. TSV columns:
//   suite variant query threads connections ops_per_s p50_us p99_us
//   spread_pct errors requests
// and for each paired result:
//   suite "paired" query 1 1 ratio base_us subject_us ratio_p25 ratio_p75 pairs
// Returns false when a file cannot be written.
bool Report(const std::string& suite, const std::string& title,
            const std::vector<SuiteResult>& results, const std::vector<PairedResult>& paired,
            const std::string& baseline, const std::string& subject, const Flags& flags);

// ErrorCount()
//
// All errors over the results; prints the first error of each failing
// variant to stderr.
uint64_t ErrorCount(const std::vector<SuiteResult>& results,
                    const std::vector<PairedResult>& paired);

}  // namespace dbpool_bench

#endif  // DBPOOL_BENCHMARKS_BENCH_UTIL_H_
