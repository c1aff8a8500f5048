// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
//
// The cost of Pool::with_transaction() over a hand-written transaction on
// PostgreSQL, at one thread on one pooled connection (max_size 1, so every
// variant runs on the very same server connection). One transaction is
// three INSERTs into a table of the benchmark's own:
//   hand-written      acquire; BEGIN; 3 INSERTs; COMMIT; release
//   with_transaction  with_transaction(3 INSERTs)
//   id-at-begin       acquire; "BEGIN; SELECT <the id and timeline>" (the
//                     SQL with_transaction() sends on PostgreSQL 13+, by
//                     hand); 3 INSERTs; COMMIT; release: what the id costs
//                     on the server, without the pool's bookkeeping
//   defer_txn_id      with_transaction(3 INSERTs) with
//                     RetryOptions::defer_txn_id: the id asked just before
//                     COMMIT in a round trip of its own
// The variants take turns in short rounds (blocks of transactions, the
// order rotating every round), so drift on a shared machine touches each
// alike; the result is the ratio of with_transaction's time to the
// hand-written one with a 95% confidence interval over the rounds
// (PairedRatioInterval() in bench_util.h). The goal: at most 5% slower;
// "met" when the interval's upper bound is <= 1.05, "not met" when its lower
// bound is above, otherwise "unresolved on this machine".
//
// Round trips per transaction are counted apart, deterministically: libpq's
// trace of one transaction of each variant, counting the messages after
// which the client waits for the server (Query, Sync).
//
// Reads the server from DBPOOL_TEST_PG_* (scripts/bench.sh starts it).
// Flags (bench_util.h): --smoke, --seconds=S (measured time over all
// rounds; default 6), --tsv=PATH ("tx<TAB>key<TAB>value" lines),
// --markdown=PATH.
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench_util.h"
#include "dbpool/postgres.h"

namespace {

using dbpool::PgLease;
using dbpool::PgPool;
using dbpool_bench::NowNs;
using dbpool_bench::RatioInterval;

constexpr char kAppName[] = "dbpool_tx_bench";
constexpr double kGoal = 1.05;
// What PgConnection::begin() sends to a PostgreSQL 13+ server.
constexpr char kBeginWithId[] =
    "BEGIN; SELECT CASE WHEN pg_is_in_recovery() THEN '' ELSE pg_current_xact_id()::text || '@' "
    "|| substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END";

// Runs `sql` on `conn`; the first error.
absl::Status Exec(PGconn* conn, const std::string& sql) {
  PGresult* r = PQexec(conn, sql.c_str());
  absl::Status s = dbpool::PgStatus(r, conn);
  PQclear(r);
  return s;
}

// The benchmark's table and what one transaction writes into it.
class Writes {
 public:
  explicit Writes(std::string table) : table_(std::move(table)) {}
  const std::string& table() const { return table_; }
  // The three INSERTs of one transaction, each a round trip.
  absl::Status Insert3(PGconn* conn) {
    for (int i = 0; i < 3; ++i) {
      if (absl::Status s =
              Exec(conn, absl::StrCat("INSERT INTO ", table_, " VALUES (", ++key_, ", 'dbpool')"));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

 private:
  std::string table_;
  int64_t key_ = 0;
};

// One way to run a transaction; returns its error.
struct Variant {
  std::string name;
  std::function<absl::Status()> run;
};

std::vector<Variant> Variants(const PgPool& pool, Writes& writes) {
  enum Id { kNone, kAtBegin };
  auto by_hand = [&pool, &writes](Id id) -> absl::Status {
    absl::StatusOr<PgLease> lease = pool.acquire();
    if (!lease.ok()) return lease.status();
    PGconn* conn = lease->native();
    absl::Status s = Exec(conn, id == kAtBegin ? kBeginWithId : "BEGIN");
    if (s.ok()) s = writes.Insert3(conn);
    if (s.ok()) s = Exec(conn, "COMMIT");
    if (!s.ok()) (void)Exec(conn, "ROLLBACK");
    return s;
  };
  return {
      {"hand-written", [by_hand] { return by_hand(kNone); }},
      {"with_transaction",
       [&pool, &writes] {
         return pool.with_transaction(
             [&writes](PgLease& lease) { return writes.Insert3(lease.native()); });
       }},
      {"id-at-begin", [by_hand] { return by_hand(kAtBegin); }},
      {"defer_txn_id",
       [&pool, &writes] {
         dbpool::RetryOptions deferred;
         deferred.defer_txn_id = true;
         return pool.with_transaction(
             [&writes](PgLease& lease) { return writes.Insert3(lease.native()); }, deferred);
       }},
  };
}

// Round trips of one transaction of `v`: libpq's trace of it, counting the
// client's Query and Sync messages. `sequence` gets the messages' texts.
absl::StatusOr<int> RoundTrips(const PgPool& pool, const Variant& v, std::string* sequence) {
  std::FILE* trace = std::tmpfile();
  if (trace == nullptr) return absl::InternalError("tmpfile() failed");
  {
    absl::StatusOr<PgLease> lease = pool.acquire();  // max_size 1: v gets this connection
    if (!lease.ok()) {
      std::fclose(trace);
      return lease.status();
    }
    PQtrace(lease->native(), trace);
    PQsetTraceFlags(lease->native(), PQTRACE_SUPPRESS_TIMESTAMPS);
  }
  const absl::Status ran = v.run();
  {
    absl::StatusOr<PgLease> lease = pool.acquire();
    if (lease.ok()) PQuntrace(lease->native());
  }
  std::fflush(trace);
  std::rewind(trace);
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, trace)) > 0;) text.append(buffer, n);
  std::fclose(trace);
  if (!ran.ok()) return ran;
  // Lines: direction, length, message type, contents (tab-separated).
  int trips = 0;
  std::vector<std::string> sent;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const std::vector<absl::string_view> f = absl::StrSplit(line, absl::MaxSplits('\t', 3));
    if (f.size() < 3 || f[0] != "F" || (f[2] != "Query" && f[2] != "Sync")) continue;
    ++trips;
    std::string what = f.size() > 3 ? std::string(f[3]) : std::string(f[2]);
    if (what.size() > 2 && what.front() == ' ' && what[1] == '"') what = what.substr(2);
    if (!what.empty() && what.back() == '"') what.pop_back();
    if (what.size() > 28) what = absl::StrCat(what.substr(0, 25), "...");
    sent.push_back(what);
  }
  *sequence = absl::StrJoin(sent, " → ");
  return trips;
}

const char* Verdict(const RatioInterval& r) {
  if (r.hi <= kGoal) return "met";
  if (r.lo > kGoal) return "not met";
  return "unresolved on this machine";
}

}  // namespace

int main(int argc, char** argv) {
  const dbpool_bench::Flags flags = dbpool_bench::ParseFlagsOrExit(argc, argv);
  const dbpool_bench::Server server = dbpool_bench::ServerFromEnv("DBPOOL_TEST_PG_");
  absl::StatusOr<PgPool> built = PgPool::Builder()
                                     .endpoint(server.host, server.port)
                                     .database(server.db)
                                     .user(server.user)
                                     .password(server.password)
                                     .option("application_name", kAppName)
                                     .name("tx_bench")
                                     .max_size(1)
                                     .min_idle(1)
                                     .acquire_timeout(absl::Seconds(60))
                                     .build();
  if (!built.ok()) {
    std::fprintf(stderr, "pg_tx_bench: %s\n", built.status().ToString().c_str());
    return 1;
  }
  const PgPool pool = *std::move(built);
  if (absl::Status s = dbpool_bench::WaitForIdle(pool, 1); !s.ok()) {
    std::fprintf(stderr, "pg_tx_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  Writes writes(absl::StrCat("tx_bench_", getpid()));
  {
    absl::StatusOr<PgLease> lease = pool.acquire();
    absl::Status s =
        lease.ok() ? Exec(lease->native(), absl::StrCat("CREATE TABLE ", writes.table(),
                                                        " (k bigint PRIMARY KEY, v text NOT NULL)"))
                   : lease.status();
    if (!s.ok()) {
      std::fprintf(stderr, "pg_tx_bench: creating the table: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const std::vector<Variant> variants = Variants(pool, writes);
  const size_t nv = variants.size();

  uint64_t errors = 0;
  std::string first_error;
  auto fail = [&](const absl::Status& s) {
    if (errors++ == 0) first_error = s.ToString();
  };
  // Timed rounds: a block of transactions of each variant, the order
  // rotating.
  const int block = flags.smoke ? 2 : 20;
  const absl::Duration measured = flags.smoke            ? absl::Milliseconds(30)
                                  : flags.duration_given ? flags.duration
                                                         : absl::Seconds(6);
  auto run_block = [&](size_t v) -> int64_t {
    const int64_t t0 = NowNs();
    for (int i = 0; i < block; ++i) {
      if (absl::Status s = variants[v].run(); !s.ok()) fail(s);
    }
    return NowNs() - t0;
  };
  for (size_t v = 0; v < nv; ++v) run_block(v);  // warm up
  // Round trips of one more transaction of each, traced.
  std::vector<int> trips(nv, 0);
  std::vector<std::string> sequences(nv);
  for (size_t v = 0; v < nv; ++v) {
    absl::StatusOr<int> n = RoundTrips(pool, variants[v], &sequences[v]);
    if (n.ok()) {
      trips[v] = *n;
    } else {
      fail(n.status());
    }
  }
  std::vector<std::vector<int64_t>> times(nv);
  const int64_t end = NowNs() + absl::ToInt64Nanoseconds(measured);
  for (size_t round = 0; NowNs() < end || round < 2; ++round) {
    for (size_t i = 0; i < nv; ++i) {
      const size_t v = (round + i) % nv;
      times[v].push_back(run_block(v));
    }
  }
  {
    absl::StatusOr<PgLease> lease = pool.acquire();
    if (lease.ok()) (void)Exec(lease->native(), absl::StrCat("DROP TABLE ", writes.table()));
  }
  pool.close();

  const int rounds = static_cast<int>(times[0].size());
  std::vector<double> mean_us(nv);
  for (size_t v = 0; v < nv; ++v) {
    int64_t total = 0;
    for (int64_t t : times[v]) total += t;
    mean_us[v] = static_cast<double>(total) / (static_cast<double>(rounds) * block) / 1e3;
  }
  auto interval = [&](size_t subject) {
    std::vector<std::pair<int64_t, int64_t>> pairs;
    for (int r = 0; r < rounds; ++r) pairs.emplace_back(times[0][r], times[subject][r]);
    return dbpool_bench::PairedRatioInterval(pairs);
  };
  std::vector<RatioInterval> ratios(nv);
  for (size_t v = 1; v < nv; ++v) ratios[v] = interval(v);
  const RatioInterval& tx = ratios[1];
  const char* verdict = Verdict(tx);

  std::printf(
      "with_transaction over a hand-written transaction (1 thread, 1 connection, "
      "3 INSERTs): %d rounds of %d transactions per variant\n",
      rounds, block);
  for (size_t v = 0; v < nv; ++v) {
    std::printf("  %-17s %8.1f us/transaction  %d round trips: %s\n", variants[v].name.c_str(),
                mean_us[v], trips[v], sequences[v].c_str());
  }
  for (size_t v = 1; v < nv; ++v) {
    std::printf("  %s / hand-written: %.4f (95%% CI %.4f-%.4f)\n", variants[v].name.c_str(),
                ratios[v].ratio, ratios[v].lo, ratios[v].hi);
  }
  std::printf("  goal: with_transaction / hand-written <= %.2f: %s\n", kGoal, verdict);
  if (errors > 0)
    std::fprintf(stderr, "pg_tx_bench: %llu errors; first: %s\n",
                 static_cast<unsigned long long>(errors), first_error.c_str());

  std::string md = absl::StrFormat(
      "%d rounds; in each, a block of %d transactions of every variant, the order rotating "
      "from round to round, all on the same pooled server connection (`max_size(1)`). One "
      "transaction is three `INSERT`s of one row (`PQexec`) into a table with a primary key. "
      "The ratio is the geometric mean over the rounds of the block time ratio to "
      "*hand-written* in the same round, with its 95%% confidence interval (Student's t on the "
      "logarithms). Round trips are counted in libpq's trace of one transaction of each "
      "variant (the client's `Query` and `Sync` messages).\n\n"
      "| variant | µs per transaction | round trips | sent | ratio to hand-written | 95%% "
      "interval |\n|---|---:|---:|---|---:|---:|\n",
      rounds, block);
  for (size_t v = 0; v < nv; ++v) {
    std::string ratio = "1", ci = "–";
    if (v > 0) {
      const RatioInterval& r = ratios[v];
      ratio = absl::StrFormat("%.3f", r.ratio);
      ci = absl::StrFormat("%.3f–%.3f", r.lo, r.hi);
    }
    md += absl::StrFormat("| %s | %.1f | %d | `%s` | %s | %s |\n", variants[v].name, mean_us[v],
                          trips[v], sequences[v], ratio, ci);
  }
  md += absl::StrFormat(
      "\nGoal: `with_transaction()` at most 5%% slower than the hand-written transaction: the "
      "upper bound of the interval at most %.2f (met), its lower bound above (not met), or "
      "neither (unresolved on this machine). Verdict: **%s**.\n",
      kGoal, verdict);
  std::string tsv;
  auto line = [&tsv](const std::string& key, const std::string& value) {
    absl::StrAppend(&tsv, "tx\t", key, "\t", value, "\n");
  };
  line("rounds", std::to_string(rounds));
  line("block", std::to_string(block));
  line("ratio", absl::StrFormat("%.4f", tx.ratio));
  line("ratio_lo", absl::StrFormat("%.4f", tx.lo));
  line("ratio_hi", absl::StrFormat("%.4f", tx.hi));
  line("verdict", verdict);
  const char* keys[] = {"hand", "tx", "at_begin", "deferred"};
  for (size_t v = 0; v < nv; ++v) {
    line(absl::StrCat(keys[v], "_us"), absl::StrFormat("%.2f", mean_us[v]));
    line(absl::StrCat(keys[v], "_round_trips"), std::to_string(trips[v]));
    if (v < 2) continue;
    line(absl::StrCat(keys[v], "_ratio"), absl::StrFormat("%.4f", ratios[v].ratio));
    line(absl::StrCat(keys[v], "_lo"), absl::StrFormat("%.4f", ratios[v].lo));
    line(absl::StrCat(keys[v], "_hi"), absl::StrFormat("%.4f", ratios[v].hi));
  }
  line("errors", std::to_string(errors));
  const bool written = dbpool_bench::WriteReportFiles(flags, md, tsv);
  return errors == 0 && written ? 0 : 1;
}
