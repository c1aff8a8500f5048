// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// End-to-end PostgreSQL: SELECT 1 and an indexed point read through
//   raw                   libpq on persistent connections (the physical limit)
//   dbpool                PgPool acquire + query + release
//   connect-per-request   PQconnectdb + query + PQfinish
//   pgbouncer             persistent client connections to PgBouncer
//                         (transaction mode), one per thread
//   pgbouncer-per-request a new client connection to PgBouncer per request
//   poco                  Poco::Data::SessionPool, PostgreSQL connector
//   soci                  soci::connection_pool of soci::session (postgresql)
// SELECT 1 at 1, 2, 8 and 32 threads, the point read at 1 and 32, over
// min(threads, 8) server connections; then dbpool's own cost at one thread
// on one connection (RunPaired() in bench_util.h).
//
// Reads the servers from DBPOOL_TEST_PG_* and DBPOOL_TEST_PGBOUNCER_PORT
// (scripts/bench.sh starts them). Flags: see bench_util.h.
#include <libpq-fe.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench_util.h"
#include "dbpool/postgres.h"

#ifdef DBPOOL_BENCH_WITH_POCO
#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/SessionPool.h>
#include <Poco/Exception.h>
#endif
#ifdef DBPOOL_BENCH_WITH_SOCI
#include <soci/connection-pool.h>
#include <soci/into.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/session.h>
#include <soci/use.h>
#endif

namespace {

using dbpool_bench::Case;
using dbpool_bench::Query;
using dbpool_bench::Request;
using dbpool_bench::Variant;

constexpr int kMaxConnections = 8;
constexpr char kAppName[] = "dbpool_bench";

struct Server {
  std::string host;
  int port = 0;
  int pgbouncer_port = 0;
  std::string db;
  std::string user;
  std::string password;

  // A libpq conninfo string for `port` (also what Poco and SOCI take).
  std::string Conninfo(int to_port) const {
    return absl::StrCat("host=", host, " port=", to_port, " dbname=", db, " user=", user,
                        " password=", password, " application_name=", kAppName);
  }
};

PGconn* Connect(const Server& s, int port) {
  const std::string port_text = std::to_string(port);
  const char* keys[] = {"host", "port", "dbname", "user", "password", "application_name", nullptr};
  const char* values[] = {s.host.c_str(),     port_text.c_str(), s.db.c_str(), s.user.c_str(),
                          s.password.c_str(), kAppName,          nullptr};
  return PQconnectdbParams(keys, values, /*expand_dbname=*/0);
}

absl::Status ConnectStatus(PGconn* conn) {
  if (conn == nullptr) return absl::ResourceExhaustedError("PQconnectdbParams returned null");
  return dbpool::PgStatus(conn);
}

// A random key of the kv table (1..1000).
class Keys {
 public:
  explicit Keys(uint32_t seed) : rng_(seed) {}
  int next() { return 1 + static_cast<int>(rng_() % 1000); }

 private:
  std::minstd_rand rng_;
};

// Runs `q` on `conn` and checks it returned one row.
absl::Status RunQuery(PGconn* conn, Query q, Keys& keys) {
  PGresult* r;
  if (q == Query::kSelect1) {
    r = PQexec(conn, "SELECT 1");
  } else {
    char key[16];
    std::snprintf(key, sizeof key, "%d", keys.next());
    const char* params[] = {key};
    r = PQexecParams(conn, "SELECT v FROM kv WHERE k = $1", 1, nullptr, params, nullptr, nullptr,
                     0);
  }
  absl::Status s = dbpool::PgStatus(r, conn);
  if (s.ok() && PQntuples(r) != 1) s = absl::InternalError("expected one row");
  PQclear(r);
  return s;
}

// ---- raw libpq, and persistent PgBouncer client connections ----------------

// Persistent connections opened before the run. Shared ones (more threads
// than connections) are taken under a mutex per connection, thread t using
// connection t % n: a static partition, the least a pool could cost.
class Persistent : public Variant {
 public:
  Persistent(std::string name, const Server& server, int port, bool one_per_thread)
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
      slots_.push_back(std::make_unique<Slot>());
      slots_.back()->conn = Connect(server_, port_);
      if (absl::Status s = ConnectStatus(slots_.back()->conn); !s.ok()) return s;
    }
    shared_ = c.threads > n;
    return absl::OkStatus();
  }
  absl::StatusOr<Request> Worker(int thread, const Case& c, uint32_t seed) override {
    Slot* slot = slots_[static_cast<size_t>(thread) % slots_.size()].get();
    auto keys = std::make_shared<Keys>(seed);
    const Query q = c.query;
    if (!shared_) return Request([slot, keys, q] { return RunQuery(slot->conn, q, *keys); });
    return Request([slot, keys, q] {
      std::lock_guard<std::mutex> lock(slot->mu);
      return RunQuery(slot->conn, q, *keys);
    });
  }
  void Close() override {
    for (const auto& slot : slots_) PQfinish(slot->conn);
    slots_.clear();
  }

 private:
  struct Slot {
    std::mutex mu;
    PGconn* conn = nullptr;
  };
  std::string name_;
  const Server& server_;
  int port_;
  bool one_per_thread_;
  bool shared_ = false;
  std::vector<std::unique_ptr<Slot>> slots_;
};

// ---- connect per request (to the server or to PgBouncer) -------------------

class PerRequest : public Variant {
 public:
  PerRequest(std::string name, const Server& server, int port)
      : name_(std::move(name)), server_(server), port_(port) {}
  std::string name() const override { return name_; }
  std::string connections(const Case&) const override { return "1 per request"; }
  bool per_request() const override { return true; }
  absl::Status Open(const Case&) override { return absl::OkStatus(); }
  absl::StatusOr<Request> Worker(int, const Case& c, uint32_t seed) override {
    auto keys = std::make_shared<Keys>(seed);
    const Query q = c.query;
    return Request([this, keys, q] {
      PGconn* conn = Connect(server_, port_);
      absl::Status s = ConnectStatus(conn);
      if (s.ok()) s = RunQuery(conn, q, *keys);
      PQfinish(conn);
      return s;
    });
  }
  void Close() override {}

 private:
  std::string name_;
  const Server& server_;
  int port_;
};

// ---- dbpool ----------------------------------------------------------------

class Dbpool : public Variant {
 public:
  explicit Dbpool(const Server& server) : server_(server) {}
  std::string name() const override { return "dbpool"; }
  std::string connections(const Case& c) const override {
    return absl::StrCat(c.connections, " pooled");
  }
  absl::Status Open(const Case& c) override {
    absl::StatusOr<dbpool::PgPool> pool = dbpool::PgPool::Builder()
                                              .endpoint(server_.host, server_.port)
                                              .database(server_.db)
                                              .user(server_.user)
                                              .password(server_.password)
                                              .option("application_name", kAppName)
                                              .name("bench")
                                              .max_size(c.connections)
                                              .min_idle(c.connections)
                                              .acquire_timeout(absl::Seconds(60))
                                              .build();
    if (!pool.ok()) return pool.status();
    pool_ = std::make_unique<dbpool::PgPool>(*std::move(pool));
    return dbpool_bench::WaitForIdle(*pool_, c.connections);
  }
  absl::StatusOr<Request> Worker(int, const Case& c, uint32_t seed) override {
    auto keys = std::make_shared<Keys>(seed);
    const Query q = c.query;
    const dbpool::PgPool* pool = pool_.get();
    return Request([pool, keys, q] {
      absl::StatusOr<dbpool::PgLease> lease = pool->acquire();
      if (!lease.ok()) return lease.status();
      return RunQuery(lease->native(), q, *keys);
    });
  }
  void Close() override {
    if (pool_ != nullptr) pool_->close();
    pool_.reset();
  }
  // The pool while open.
  const auto* pool() const { return pool_.get(); }

 private:
  const Server& server_;
  std::unique_ptr<dbpool::PgPool> pool_;
};

// ---- Poco ------------------------------------------------------------------

#ifdef DBPOOL_BENCH_WITH_POCO
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

class PocoPool : public Variant {
 public:
  explicit PocoPool(const Server& server) : server_(server) {
    ::Poco::Data::PostgreSQL::Connector::registerConnector();
  }
  std::string name() const override { return "poco"; }
  std::string connections(const Case& c) const override {
    return absl::StrCat(c.connections, " pooled");
  }
  absl::Status Open(const Case& c) override {
    try {
      pool_ = std::make_unique<::Poco::Data::SessionPool>(
          "PostgreSQL", server_.Conninfo(server_.port), c.connections, c.connections, 600);
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
          int one = 0;
          session << "SELECT 1", into(one), now;
          if (one != 1) status = absl::InternalError("SELECT 1 returned no 1");
        } else {
          int k = keys->next();
          std::string v;
          session << "SELECT v FROM kv WHERE k = $1", use(k), into(v), now;
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
  const Server& server_;
  std::unique_ptr<::Poco::Data::SessionPool> pool_;
  std::unique_ptr<Semaphore> permits_;
};
#endif  // DBPOOL_BENCH_WITH_POCO

// ---- SOCI ------------------------------------------------------------------

#ifdef DBPOOL_BENCH_WITH_SOCI
class SociPool : public Variant {
 public:
  explicit SociPool(const Server& server) : server_(server) {}
  std::string name() const override { return "soci"; }
  std::string connections(const Case& c) const override {
    return absl::StrCat(c.connections, " pooled");
  }
  absl::Status Open(const Case& c) override {
    pool_ = std::make_unique<soci::connection_pool>(static_cast<size_t>(c.connections));
    try {
      for (size_t i = 0; i < static_cast<size_t>(c.connections); ++i) {
        pool_->at(i).open(soci::postgresql, server_.Conninfo(server_.port));
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
          int one = 0;
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
  const Server& server_;
  std::unique_ptr<soci::connection_pool> pool_;
};
#endif  // DBPOOL_BENCH_WITH_SOCI

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<dbpool_bench::Flags> flags = dbpool_bench::ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s\n", flags.status().ToString().c_str());
    return 2;
  }
  Server server;
  server.host = dbpool_bench::RequireEnv("DBPOOL_TEST_PG_HOST");
  server.port = std::atoi(dbpool_bench::RequireEnv("DBPOOL_TEST_PG_PORT").c_str());
  server.db = dbpool_bench::RequireEnv("DBPOOL_TEST_PG_DB");
  server.user = dbpool_bench::RequireEnv("DBPOOL_TEST_PG_USER");
  server.password = dbpool_bench::RequireEnv("DBPOOL_TEST_PG_PASSWORD");
  server.pgbouncer_port = std::atoi(dbpool_bench::RequireEnv("DBPOOL_TEST_PGBOUNCER_PORT").c_str());

  std::vector<std::unique_ptr<Variant>> variants;
  variants.push_back(std::make_unique<Persistent>("raw", server, server.port, false));
  variants.push_back(std::make_unique<Dbpool>(server));
  variants.push_back(std::make_unique<PerRequest>("connect-per-request", server, server.port));
  variants.push_back(
      std::make_unique<Persistent>("pgbouncer", server, server.pgbouncer_port, true));
  variants.push_back(
      std::make_unique<PerRequest>("pgbouncer-per-request", server, server.pgbouncer_port));
#ifdef DBPOOL_BENCH_WITH_POCO
  variants.push_back(std::make_unique<PocoPool>(server));
#endif
#ifdef DBPOOL_BENCH_WITH_SOCI
  variants.push_back(std::make_unique<SociPool>(server));
#endif

  std::vector<Case> cases;
  const std::vector<int> select1_threads =
      flags->smoke ? std::vector<int>{1, 4} : std::vector<int>{1, 2, 8, 32};
  const std::vector<int> read_threads =
      flags->smoke ? std::vector<int>{1, 4} : std::vector<int>{1, 32};
  for (int t : select1_threads) {
    cases.push_back(Case{Query::kSelect1, t, std::min(t, kMaxConnections)});
  }
  for (int t : read_threads) {
    cases.push_back(Case{Query::kPointRead, t, std::min(t, kMaxConnections)});
  }

  const std::vector<dbpool_bench::SuiteResult> results =
      dbpool_bench::RunSuite("pg", variants, cases, *flags);

  // dbpool's own cost at one thread, on one connection (see RunPaired()).
  std::vector<dbpool_bench::PairedResult> paired;
  if (flags->threads.empty() || flags->threads.front() == 1) {
    Dbpool dbpool(server);
    for (Query q : {Query::kSelect1, Query::kPointRead}) {
      std::fprintf(stderr, "[pg] dbpool's own cost, %s\n", dbpool_bench::QueryKey(q));
      if (absl::Status s = dbpool.Open(Case{q, 1, 1}); !s.ok()) {
        dbpool_bench::PairedResult failed;
        failed.query = q;
        failed.errors = 1;
        failed.first_error = s.ToString();
        paired.push_back(failed);
        dbpool.Close();
        continue;
      }
      Keys keys(7);
      paired.push_back(dbpool_bench::RunPaired(
          *dbpool.pool(), [&keys, q](PGconn* conn) { return RunQuery(conn, q, keys); }, q,
          flags->smoke ? absl::Milliseconds(20) : absl::Milliseconds(1500), flags->smoke ? 2 : 50));
      dbpool.Close();
    }
  }
  const bool written =
      dbpool_bench::Report("pg", "PostgreSQL end to end", results, paired, "raw", "dbpool", *flags);
  const uint64_t errors = dbpool_bench::ErrorCount(results, paired);
  return errors == 0 && written ? 0 : 1;
}
