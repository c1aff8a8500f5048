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

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "dbpool/stats.h"

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

// RequireEnv()
//
// The value of an environment variable; exits the program with status 2 and
// a message naming scripts/bench.sh when it is unset (a benchmark never
// passes silently without its server).
std::string RequireEnv(const char* name);

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

// Case
//
// One measured configuration. Pooled variants use `connections` server
// connections; per-request variants open one per request.
struct Case {
  Query query = Query::kSelect1;
  int threads = 1;
  int connections = 1;
};

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
