// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// End-to-end MariaDB: SELECT 1 and an indexed point read through
//   raw                   MYSQL* on persistent connections (the physical limit)
//   dbpool                MySqlPool acquire + query + release
//   connect-per-request   mysql_real_connect + query + mysql_close
//   poco                  Poco::Data::SessionPool, MySQL connector
//   soci                  soci::connection_pool of soci::session (mysql)
// at 1 and 32 threads over min(threads, 8) server connections; then dbpool's
// own cost at one thread on one connection (RunPaired() in bench_util.h). The raw,
// dbpool and per-request variants send the point read as text
// (mysql_real_query); Poco prepares it and SOCI substitutes it client-side,
// as each does by default.
//
// Reads the server from DBPOOL_TEST_MY_* (scripts/bench.sh starts it).
// Flags: see bench_util.h.
#include <mysql.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench_util.h"
#include "dbpool/mysql.h"

#ifdef DBPOOL_BENCH_WITH_POCO
#include <Poco/Data/MySQL/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/SessionPool.h>
#include <Poco/Exception.h>
#include <Poco/Types.h>
#endif
#ifdef DBPOOL_BENCH_WITH_SOCI
#include <soci/connection-pool.h>
#include <soci/into.h>
#include <soci/mysql/soci-mysql.h>
#include <soci/session.h>
#include <soci/use.h>
#endif

namespace {

using dbpool_bench::Case;
using dbpool_bench::Query;
using dbpool_bench::Request;
using dbpool_bench::Variant;

constexpr int kMaxConnections = 8;

struct Server {
  std::string host;
  int port = 0;
  std::string db;
  std::string user;
  std::string password;
};

// A connected MYSQL*, or an error (the handle is then closed).
absl::StatusOr<MYSQL*> Connect(const Server& s) {
  MYSQL* conn = mysql_init(nullptr);
  if (conn == nullptr) return absl::ResourceExhaustedError("mysql_init failed");
  if (mysql_real_connect(conn, s.host.c_str(), s.user.c_str(), s.password.c_str(), s.db.c_str(),
                         static_cast<unsigned>(s.port), nullptr, 0) == nullptr) {
    absl::Status st = dbpool::MySqlStatus(conn);
    mysql_close(conn);
    return st;
  }
  return conn;
}

class Keys {
 public:
  explicit Keys(uint32_t seed) : rng_(seed) {}
  int next() { return 1 + static_cast<int>(rng_() % 1000); }

 private:
  std::minstd_rand rng_;
};

// Runs `q` on `conn` and checks it returned one row.
absl::Status RunQuery(MYSQL* conn, Query q, Keys& keys) {
  char sql[64];
  int n;
  if (q == Query::kSelect1) {
    n = std::snprintf(sql, sizeof sql, "SELECT 1");
  } else {
    n = std::snprintf(sql, sizeof sql, "SELECT v FROM kv WHERE k = %d", keys.next());
  }
  if (mysql_real_query(conn, sql, static_cast<unsigned long>(n)) != 0) {
    return dbpool::MySqlStatus(conn);
  }
  MYSQL_RES* res = mysql_store_result(conn);
  if (res == nullptr) return dbpool::MySqlStatus(conn);
  const bool one = mysql_num_rows(res) == 1;
  mysql_free_result(res);
  return one ? absl::OkStatus() : absl::InternalError("expected one row");
}

// ---- raw -------------------------------------------------------------------

// Persistent connections; shared ones (more threads than connections) are
// taken under a mutex per connection, thread t using connection t % n.
class Raw : public Variant {
 public:
  explicit Raw(const Server& server) : server_(server) {}
  std::string name() const override { return "raw"; }
  std::string connections(const Case& c) const override {
    return absl::StrCat(c.connections, c.threads > c.connections ? " shared" : "");
  }
  absl::Status Open(const Case& c) override {
    for (int i = 0; i < c.connections; ++i) {
      absl::StatusOr<MYSQL*> conn = Connect(server_);
      if (!conn.ok()) return conn.status();
      slots_.push_back(std::make_unique<Slot>());
      slots_.back()->conn = *conn;
    }
    shared_ = c.threads > c.connections;
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
    for (const auto& slot : slots_) mysql_close(slot->conn);
    slots_.clear();
  }

 private:
  struct Slot {
    std::mutex mu;
    MYSQL* conn = nullptr;
  };
  const Server& server_;
  bool shared_ = false;
  std::vector<std::unique_ptr<Slot>> slots_;
};

// ---- connect per request ---------------------------------------------------

class PerRequest : public Variant {
 public:
  explicit PerRequest(const Server& server) : server_(server) {}
  std::string name() const override { return "connect-per-request"; }
  std::string connections(const Case&) const override { return "1 per request"; }
  bool per_request() const override { return true; }
  absl::Status Open(const Case&) override { return absl::OkStatus(); }
  absl::StatusOr<Request> Worker(int, const Case& c, uint32_t seed) override {
    auto keys = std::make_shared<Keys>(seed);
    const Query q = c.query;
    return Request([this, keys, q] {
      absl::StatusOr<MYSQL*> conn = Connect(server_);
      if (!conn.ok()) return conn.status();
      absl::Status s = RunQuery(*conn, q, *keys);
      mysql_close(*conn);
      return s;
    });
  }
  void Close() override {}

 private:
  const Server& server_;
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
    absl::StatusOr<dbpool::MySqlPool> pool = dbpool::MySqlPool::Builder()
                                                 .endpoint(server_.host, server_.port)
                                                 .database(server_.db)
                                                 .user(server_.user)
                                                 .password(server_.password)
                                                 .name("bench")
                                                 .max_size(c.connections)
                                                 .min_idle(c.connections)
                                                 .acquire_timeout(absl::Seconds(60))
                                                 .build();
    if (!pool.ok()) return pool.status();
    pool_ = std::make_unique<dbpool::MySqlPool>(*std::move(pool));
    return dbpool_bench::WaitForIdle(*pool_, c.connections);
  }
  absl::StatusOr<Request> Worker(int, const Case& c, uint32_t seed) override {
    auto keys = std::make_shared<Keys>(seed);
    const Query q = c.query;
    const dbpool::MySqlPool* pool = pool_.get();
    return Request([pool, keys, q] {
      absl::StatusOr<dbpool::MySqlLease> lease = pool->acquire();
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
  std::unique_ptr<dbpool::MySqlPool> pool_;
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
    ::Poco::Data::MySQL::Connector::registerConnector();
  }
  std::string name() const override { return "poco"; }
  std::string connections(const Case& c) const override {
    return absl::StrCat(c.connections, " pooled");
  }
  absl::Status Open(const Case& c) override {
    const std::string conninfo =
        absl::StrCat("host=", server_.host, ";port=", server_.port, ";user=", server_.user,
                     ";password=", server_.password, ";db=", server_.db, ";auto-reconnect=false");
    try {
      pool_ = std::make_unique<::Poco::Data::SessionPool>("MySQL", conninfo, c.connections,
                                                          c.connections, 600);
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
          ::Poco::Int64 one = 0;
          session << "SELECT 1", into(one), now;
          if (one != 1) status = absl::InternalError("SELECT 1 returned no 1");
        } else {
          int k = keys->next();
          std::string v;
          session << "SELECT v FROM kv WHERE k = ?", use(k), into(v), now;
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
    const std::string conninfo =
        absl::StrCat("host=", server_.host, " port=", server_.port, " dbname=", server_.db,
                     " user=", server_.user, " password=", server_.password);
    pool_ = std::make_unique<soci::connection_pool>(static_cast<size_t>(c.connections));
    try {
      for (size_t i = 0; i < static_cast<size_t>(c.connections); ++i) {
        pool_->at(i).open(soci::mysql, conninfo);
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
          long long one = 0;
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
  server.host = dbpool_bench::RequireEnv("DBPOOL_TEST_MY_HOST");
  server.port = std::atoi(dbpool_bench::RequireEnv("DBPOOL_TEST_MY_PORT").c_str());
  server.db = dbpool_bench::RequireEnv("DBPOOL_TEST_MY_DB");
  server.user = dbpool_bench::RequireEnv("DBPOOL_TEST_MY_USER");
  server.password = dbpool_bench::RequireEnv("DBPOOL_TEST_MY_PASSWORD");
  if (mysql_library_init(0, nullptr, nullptr) != 0) {
    std::fprintf(stderr, "mysql_library_init failed\n");
    return 1;
  }

  std::vector<std::unique_ptr<Variant>> variants;
  variants.push_back(std::make_unique<Raw>(server));
  variants.push_back(std::make_unique<Dbpool>(server));
  variants.push_back(std::make_unique<PerRequest>(server));
#ifdef DBPOOL_BENCH_WITH_POCO
  variants.push_back(std::make_unique<PocoPool>(server));
#endif
#ifdef DBPOOL_BENCH_WITH_SOCI
  variants.push_back(std::make_unique<SociPool>(server));
#endif

  std::vector<Case> cases;
  const std::vector<int> thread_counts =
      flags->smoke ? std::vector<int>{1, 4} : std::vector<int>{1, 32};
  for (Query q : {Query::kSelect1, Query::kPointRead}) {
    for (int t : thread_counts) cases.push_back(Case{q, t, std::min(t, kMaxConnections)});
  }

  const std::vector<dbpool_bench::SuiteResult> results =
      dbpool_bench::RunSuite("mariadb", variants, cases, *flags);

  // dbpool's own cost at one thread, on one connection (see RunPaired()).
  std::vector<dbpool_bench::PairedResult> paired;
  if (flags->threads.empty() || flags->threads.front() == 1) {
    Dbpool dbpool(server);
    for (Query q : {Query::kSelect1, Query::kPointRead}) {
      std::fprintf(stderr, "[mariadb] dbpool's own cost, %s\n", dbpool_bench::QueryKey(q));
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
          *dbpool.pool(), [&keys, q](MYSQL* conn) { return RunQuery(conn, q, keys); }, q,
          flags->smoke ? absl::Milliseconds(20) : absl::Milliseconds(1500), flags->smoke ? 2 : 50));
      dbpool.Close();
    }
  }
  const bool written = dbpool_bench::Report("mariadb", "MariaDB end to end", results, paired, "raw",
                                            "dbpool", *flags);
  const uint64_t errors = dbpool_bench::ErrorCount(results, paired);
  mysql_library_end();
  return errors == 0 && written ? 0 : 1;
}
