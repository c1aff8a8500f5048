// Copyright 2026 The dbpool Authors. Licensed under the Apache License 2.0.
#include "bench_util.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace dbpool_bench {

absl::StatusOr<Flags> ParseFlags(int argc, char** argv, const std::vector<std::string>& extra) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (name == "--smoke" && eq == std::string::npos) {
      flags.smoke = true;
    } else if (name == "--seconds") {
      double s = 0;
      if (!absl::SimpleAtod(value, &s) || s <= 0 || s > 600) {
        return absl::InvalidArgumentError("--seconds: want a number in (0, 600]");
      }
      flags.duration = absl::Seconds(s);
      flags.duration_given = true;
    } else if (name == "--reps") {
      if (!absl::SimpleAtoi(value, &flags.repetitions) || flags.repetitions < 1 ||
          flags.repetitions > 100) {
        return absl::InvalidArgumentError("--reps: want an integer in 1..100");
      }
      flags.repetitions_given = true;
    } else if (name == "--only") {
      flags.only = absl::StrSplit(value, ',', absl::SkipEmpty());
    } else if (name == "--threads" && std::find(extra.begin(), extra.end(), name) == extra.end()) {
      for (absl::string_view t : absl::StrSplit(value, ',', absl::SkipEmpty())) {
        int n = 0;
        if (!absl::SimpleAtoi(t, &n) || n < 1) {
          return absl::InvalidArgumentError("--threads: want a list of positive integers");
        }
        flags.threads.push_back(n);
      }
    } else if (name == "--tsv") {
      flags.tsv_path = value;
    } else if (name == "--markdown") {
      flags.markdown_path = value;
    } else if (std::find(extra.begin(), extra.end(), name) != extra.end()) {
      flags.rest.push_back(arg);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '", arg, "'"));
    }
  }
  if (flags.smoke) {
    flags.repetitions = 1;
    flags.duration = absl::Milliseconds(30);
  }
  return flags;
}

std::string RequireEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    std::fprintf(stderr,
                 "%s is not set: start the servers with scripts/servers.sh (or run "
                 "scripts/bench.sh, which does)\n",
                 name);
    std::exit(2);
  }
  return v;
}

Flags ParseFlagsOrExit(int argc, char** argv, const std::vector<std::string>& extra) {
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv, extra);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s\n", flags.status().ToString().c_str());
    std::exit(2);
  }
  return *std::move(flags);
}

Server ServerFromEnv(const std::string& prefix) {
  Server server;
  server.host = RequireEnv((prefix + "HOST").c_str());
  server.port = std::atoi(RequireEnv((prefix + "PORT").c_str()).c_str());
  server.db = RequireEnv((prefix + "DB").c_str());
  server.user = RequireEnv((prefix + "USER").c_str());
  server.password = RequireEnv((prefix + "PASSWORD").c_str());
  return server;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Percentile(std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  size_t rank = static_cast<size_t>(q * static_cast<double>(v.size()));
  if (rank >= v.size()) rank = v.size() - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank), v.end());
  return static_cast<double>(v[rank]);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int64_t RssKiB() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0;
  int64_t resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int64_t HeapKiB() {
  const struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>((mi.uordblks + mi.hblkhd) / 1024);
}

const char* QueryKey(Query q) { return q == Query::kSelect1 ? "select1" : "point_read"; }

const char* QueryTitle(Query q) {
  return q == Query::kSelect1 ? "SELECT 1" : "indexed read (SELECT v FROM kv WHERE k = $1)";
}

std::vector<Case> EndToEndCases(const Flags& flags, const std::vector<int>& select1_threads,
                                const std::vector<int>& read_threads) {
  constexpr int kMaxConnections = 8;
  const std::vector<int> smoke_threads = {1, 4};
  std::vector<Case> cases;
  for (int t : flags.smoke ? smoke_threads : select1_threads) {
    cases.push_back(Case{Query::kSelect1, t, std::min(t, kMaxConnections)});
  }
  for (int t : flags.smoke ? smoke_threads : read_threads) {
    cases.push_back(Case{Query::kPointRead, t, std::min(t, kMaxConnections)});
  }
  return cases;
}

namespace {

// A start line for worker threads: they block in wait() until open().
class Gate {
 public:
  void open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

struct WorkerResult {
  std::vector<int64_t> latencies_ns;
  uint64_t errors = 0;
  std::string first_error;
};

}  // namespace

RunStats RunOnce(Variant& variant, const Case& c, absl::Duration duration, int warmup,
                 uint64_t max_requests) {
  RunStats stats;
  if (absl::Status s = variant.Open(c); !s.ok()) {
    stats.errors = 1;
    stats.first_error = absl::StrCat("open: ", s.ToString());
    variant.Close();
    return stats;
  }
  std::vector<WorkerResult> results(static_cast<size_t>(c.threads));
  std::atomic<int> ready{0};
  std::atomic<int> finished{0};
  std::atomic<bool> stop{false};
  Gate gate;
  std::vector<std::thread> threads;
  threads.reserve(results.size());
  for (int t = 0; t < c.threads; ++t) {
    threads.emplace_back([&, t] {
      WorkerResult& r = results[static_cast<size_t>(t)];
      auto fail = [&r](const absl::Status& s) {
        if (r.errors++ == 0) r.first_error = s.ToString();
      };
      absl::StatusOr<Request> request = variant.Worker(t, c, 0x9e3779b9u * (t + 1));
      if (!request.ok()) fail(request.status());
      for (int i = 0; request.ok() && i < warmup; ++i) {
        if (absl::Status s = (*request)(); !s.ok()) fail(s);
      }
      r.latencies_ns.reserve(1 << 14);
      ++ready;
      gate.wait();
      while (request.ok() && !stop.load(std::memory_order_relaxed) &&
             (max_requests == 0 || r.latencies_ns.size() < max_requests)) {
        const int64_t t0 = NowNs();
        absl::Status s = (*request)();
        r.latencies_ns.push_back(NowNs() - t0);
        if (!s.ok()) fail(s);
      }
      ++finished;
    });
  }
  while (ready.load() < c.threads) absl::SleepFor(absl::Milliseconds(1));
  const int64_t start = NowNs();
  gate.open();
  // Sleep in short steps so that a run bounded by max_requests ends early.
  const int64_t end = start + absl::ToInt64Nanoseconds(duration);
  for (int64_t now = start; now < end && finished.load() < c.threads; now = NowNs()) {
    absl::SleepFor(std::min(absl::Milliseconds(5), absl::Nanoseconds(end - now)));
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  const double elapsed_s = static_cast<double>(NowNs() - start) / 1e9;
  variant.Close();

  std::vector<int64_t> all;
  for (WorkerResult& r : results) {
    all.insert(all.end(), r.latencies_ns.begin(), r.latencies_ns.end());
    if (r.errors > 0 && stats.errors == 0) stats.first_error = r.first_error;
    stats.errors += r.errors;
  }
  stats.requests = all.size();
  stats.ops_per_s = static_cast<double>(all.size()) / elapsed_s;
  stats.p50_us = Percentile(all, 0.50) / 1e3;
  stats.p99_us = Percentile(all, 0.99) / 1e3;
  return stats;
}

std::vector<SuiteResult> RunSuite(const std::string& suite,
                                  const std::vector<std::unique_ptr<Variant>>& variants,
                                  const std::vector<Case>& all_cases, const Flags& flags) {
  struct Cell {
    std::vector<RunStats> runs;
  };
  std::vector<Variant*> chosen;
  for (const auto& v : variants) {
    if (flags.only.empty() ||
        std::find(flags.only.begin(), flags.only.end(), v->name()) != flags.only.end()) {
      chosen.push_back(v.get());
    }
  }
  std::vector<Case> cases;
  for (const Case& c : all_cases) {
    if (flags.threads.empty() ||
        std::find(flags.threads.begin(), flags.threads.end(), c.threads) != flags.threads.end()) {
      cases.push_back(c);
    }
  }
  std::vector<std::vector<Cell>> cells(cases.size(), std::vector<Cell>(chosen.size()));
  const int warmup = flags.smoke ? 1 : 20;
  for (int rep = 0; rep < flags.repetitions; ++rep) {
    for (size_t ci = 0; ci < cases.size(); ++ci) {
      const Case& c = cases[ci];
      for (size_t vi = 0; vi < chosen.size(); ++vi) {
        Variant& v = *chosen[vi];
        const bool few = flags.smoke || v.per_request();
        const RunStats s = RunOnce(v, c, flags.duration, few ? 1 : warmup, flags.smoke ? 3 : 0);
        std::fprintf(
            stderr, "[%s] rep %d/%d  %-22s %-10s %3d thr: %10.0f req/s  p50 %8.1f us%s\n",
            suite.c_str(), rep + 1, flags.repetitions, v.name().c_str(), QueryKey(c.query),
            c.threads, s.ops_per_s, s.p50_us,
            s.errors > 0 ? absl::StrCat("  ERRORS ", s.errors, ": ", s.first_error).c_str() : "");
        cells[ci][vi].runs.push_back(s);
      }
    }
  }
  std::vector<SuiteResult> out;
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    for (size_t vi = 0; vi < chosen.size(); ++vi) {
      const std::vector<RunStats>& runs = cells[ci][vi].runs;
      SuiteResult r;
      r.variant = chosen[vi]->name();
      r.connections = chosen[vi]->connections(cases[ci]);
      r.c = cases[ci];
      r.repetitions = static_cast<int>(runs.size());
      std::vector<double> ops;
      std::vector<double> p50;
      std::vector<double> p99;
      for (const RunStats& s : runs) {
        ops.push_back(s.ops_per_s);
        p50.push_back(s.p50_us);
        p99.push_back(s.p99_us);
        r.median.requests += s.requests;
        if (s.errors > 0 && r.median.errors == 0) r.median.first_error = s.first_error;
        r.median.errors += s.errors;
      }
      r.median.ops_per_s = Median(ops);
      r.median.p50_us = Median(p50);
      r.median.p99_us = Median(p99);
      if (r.median.ops_per_s > 0) {
        const auto [lo, hi] = std::minmax_element(ops.begin(), ops.end());
        r.spread_pct = (*hi - *lo) / r.median.ops_per_s * 100;
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

namespace {

// The 0.975 quantile of Student's t with `dof` degrees of freedom
// (Cornish-Fisher expansion around the normal quantile, three terms;
// within 0.2% from 5 degrees of freedom on).
double StudentT975(int dof) {
  const double z = 1.959963984540054;
  const double v = static_cast<double>(dof);
  const double z3 = z * z * z;
  const double z5 = z3 * z * z;
  const double z7 = z5 * z * z;
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v);
}

}  // namespace

RatioInterval PairedRatioInterval(const std::vector<std::pair<int64_t, int64_t>>& pairs) {
  std::vector<double> logs;
  for (const auto& [base, subject] : pairs) {
    if (base > 0 && subject > 0) {
      logs.push_back(std::log(static_cast<double>(subject) / static_cast<double>(base)));
    }
  }
  RatioInterval out;
  out.n = static_cast<int>(logs.size());
  if (logs.empty()) return out;
  double sum = 0;
  for (double l : logs) sum += l;
  const double mean = sum / out.n;
  out.ratio = out.lo = out.hi = std::exp(mean);
  if (out.n < 2) return out;
  double squares = 0;
  for (double l : logs) squares += (l - mean) * (l - mean);
  const double se = std::sqrt(squares / (out.n - 1) / out.n);
  const double half = StudentT975(out.n - 1) * se;
  out.lo = std::exp(mean - half);
  out.hi = std::exp(mean + half);
  return out;
}

void SummarizePairs(const std::vector<std::pair<int64_t, int64_t>>& pairs, int block,
                    PairedResult& out) {
  std::vector<double> ratios;
  int64_t base_total = 0;
  int64_t subject_total = 0;
  for (const auto& [base, subject] : pairs) {
    base_total += base;
    subject_total += subject;
    if (base > 0) ratios.push_back(static_cast<double>(subject) / static_cast<double>(base));
  }
  out.pairs = static_cast<int>(pairs.size());
  if (ratios.empty()) return;
  out.ratio = Median(ratios);
  std::sort(ratios.begin(), ratios.end());
  out.ratio_p25 = ratios[ratios.size() / 4];
  out.ratio_p75 = ratios[ratios.size() * 3 / 4];
  const double n = static_cast<double>(out.pairs) * block;
  out.base_us = static_cast<double>(base_total) / n / 1e3;
  out.subject_us = static_cast<double>(subject_total) / n / 1e3;
}

namespace {

const SuiteResult* Find(const std::vector<SuiteResult>& results, const std::string& variant,
                        const Case& c) {
  for (const SuiteResult& r : results) {
    if (r.variant == variant && r.c.query == c.query && r.c.threads == c.threads) return &r;
  }
  return nullptr;
}

std::string Ratio(double num, double den) {
  if (num <= 0 || den <= 0) return "–";
  const double r = num / den;
  return r >= 10 ? absl::StrFormat("%.0fx", r) : absl::StrFormat("%.2fx", r);
}

std::string Number(double v) {
  return v >= 100 ? absl::StrFormat("%.0f", v) : absl::StrFormat("%.1f", v);
}

}  // namespace

bool WriteReportFiles(const Flags& flags, const std::string& md, const std::string& tsv) {
  bool ok = true;
  if (!flags.markdown_path.empty()) {
    std::ofstream f(flags.markdown_path);
    f << md;
    ok &= static_cast<bool>(f);
  }
  if (!flags.tsv_path.empty()) {
    std::ofstream f(flags.tsv_path);
    f << tsv;
    ok &= static_cast<bool>(f);
  }
  return ok;
}

bool Report(const std::string& suite, const std::string& title,
            const std::vector<SuiteResult>& results, const std::vector<PairedResult>& paired,
            const std::string& baseline, const std::string& subject, const Flags& flags) {
  std::string md;
  std::string tsv;
  std::printf("%s\n", title.c_str());
  for (Query q : {Query::kSelect1, Query::kPointRead}) {
    bool any = false;
    for (const SuiteResult& r : results) any |= r.c.query == q;
    if (!any) continue;
    absl::StrAppend(&md, "\n**", title, " — ", QueryTitle(q), "**\n\n",
                    "| variant | threads | server connections | req/s | p50 µs | p99 µs "
                    "| vs raw (req/s) | dbpool ÷ variant (req/s) | spread | requests | errors |\n",
                    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    std::printf("\n  %s\n  %-22s %7s %-16s %10s %9s %9s %8s %9s %7s %6s\n", QueryTitle(q),
                "variant", "threads", "connections", "req/s", "p50 us", "p99 us", "vs raw",
                "dbpool/x", "spread", "errors");
    for (const SuiteResult& r : results) {
      if (r.c.query != q) continue;
      const SuiteResult* base = Find(results, baseline, r.c);
      const SuiteResult* subj = Find(results, subject, r.c);
      const std::string vs_raw = base ? Ratio(r.median.ops_per_s, base->median.ops_per_s) : "–";
      const std::string vs_subj = subj ? Ratio(subj->median.ops_per_s, r.median.ops_per_s) : "–";
      const std::string spread = absl::StrFormat("%.1f%%", r.spread_pct);
      std::printf("  %-22s %7d %-16s %10.0f %9s %9s %8s %9s %7s %6llu\n", r.variant.c_str(),
                  r.c.threads, r.connections.c_str(), r.median.ops_per_s,
                  Number(r.median.p50_us).c_str(), Number(r.median.p99_us).c_str(), vs_raw.c_str(),
                  vs_subj.c_str(), spread.c_str(),
                  static_cast<unsigned long long>(r.median.errors));
      absl::StrAppend(&md, "| ", r.variant, " | ", r.c.threads, " | ", r.connections, " | ",
                      absl::StrFormat("%.0f", r.median.ops_per_s), " | ", Number(r.median.p50_us),
                      " | ", Number(r.median.p99_us), " | ", vs_raw, " | ", vs_subj, " | ", spread,
                      " | ", r.median.requests, " | ", r.median.errors, " |\n");
      absl::StrAppend(
          &tsv, absl::StrFormat("%s\t%s\t%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.1f\t%llu\t%llu\n", suite,
                                r.variant, QueryKey(q), r.c.threads, r.c.connections,
                                r.median.ops_per_s, r.median.p50_us, r.median.p99_us, r.spread_pct,
                                static_cast<unsigned long long>(r.median.errors),
                                static_cast<unsigned long long>(r.median.requests)));
    }
  }
  if (!paired.empty()) {
    absl::StrAppend(&md, "\n**", title, " — ", subject,
                    "'s own cost, one thread, one connection** (blocks of requests on a lease "
                    "held throughout alternate with blocks that acquire and release around "
                    "every request; ratio: median over block pairs)\n\n"
                    "| query | held µs/request | acquire+release µs/request | time ratio "
                    "| interquartile range | block pairs | errors |\n"
                    "|---|---:|---:|---:|---:|---:|---:|\n");
    std::printf("\n  %s's own cost, one thread, one connection (held vs acquire+release)\n",
                subject.c_str());
    for (const PairedResult& p : paired) {
      std::printf(
          "  %-12s held %.2f us  pooled %.2f us  ratio %.4f (IQR %.3f-%.3f, %d pairs, %llu "
          "errors)\n",
          QueryKey(p.query), p.base_us, p.subject_us, p.ratio, p.ratio_p25, p.ratio_p75, p.pairs,
          static_cast<unsigned long long>(p.errors));
      absl::StrAppend(&md, "| ", QueryTitle(p.query), " | ", absl::StrFormat("%.2f", p.base_us),
                      " | ", absl::StrFormat("%.2f", p.subject_us), " | ",
                      absl::StrFormat("%.3f", p.ratio), " | ",
                      absl::StrFormat("%.3f – %.3f", p.ratio_p25, p.ratio_p75), " | ", p.pairs,
                      " | ", p.errors, " |\n");
      absl::StrAppend(
          &tsv, absl::StrFormat("%s\tpaired\t%s\t1\t1\t%.4f\t%.3f\t%.3f\t%.4f\t%.4f\t%d\n", suite,
                                QueryKey(p.query), p.ratio, p.base_us, p.subject_us, p.ratio_p25,
                                p.ratio_p75, p.pairs));
    }
  }
  std::printf("\n");
  std::fflush(stdout);
  const bool ok = WriteReportFiles(flags, md, tsv);
  if (!ok) std::fprintf(stderr, "could not write the report files\n");
  return ok;
}

uint64_t ErrorCount(const std::vector<SuiteResult>& results,
                    const std::vector<PairedResult>& paired) {
  uint64_t n = 0;
  for (const PairedResult& p : paired) {
    n += p.errors;
    if (p.errors > 0) {
      std::fprintf(stderr, "paired %s: %llu errors, first: %s\n", QueryKey(p.query),
                   static_cast<unsigned long long>(p.errors), p.first_error.c_str());
    }
  }
  std::map<std::string, std::string> shown;
  for (const SuiteResult& r : results) {
    n += r.median.errors;
    if (r.median.errors > 0 && shown.emplace(r.variant, r.median.first_error).second) {
      std::fprintf(stderr, "%s: %llu errors, first: %s\n", r.variant.c_str(),
                   static_cast<unsigned long long>(r.median.errors), r.median.first_error.c_str());
    }
  }
  return n;
}

}  // namespace dbpool_bench
