#!/usr/bin/env bash
# Measure failover on PostgreSQL with benchmarks/failover_bench: dbpool with
# its default failover settings and tuned ones, against a naive libpq client
# (reconnect and retry on any error), while the primary is blackholed or
# killed and its streaming replica promoted at once (the method is in
# failover_bench.cc and docs/failover.md, "Measured"). Prints a Markdown
# report on stdout for docs/benchmarks/failover.md; progress goes to stderr.
#
# Usage: scripts/bench_failover.sh [--quick] > docs/benchmarks/failover.md
#
# Installs what is missing (the test set: servers and test libraries),
# builds failover_bench (Release, with the test support it needs) in
# BUILD_DIR, then runs it RUNS times; each run goes through every scenario
# and client, each on a fresh primary and replica of its own. Figures are
# reported, never judged here: the table is per run, so that the spread
# between runs shows. --quick: one smoke run (a check of the script, not
# numbers to quote).
#
# Environment: BUILD_DIR (default: <repo>/build-failover-bench), RUNS (3),
#              DBPOOL_CMAKE_ARGS.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BUILD_DIR="${BUILD_DIR:-$repo/build-failover-bench}"
# shellcheck source=lib/common.sh
source "$repo/scripts/lib/common.sh"

runs="${RUNS:-3}" quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) runs=1 quick=1 ;;
        *) die "unknown argument '$arg' (usage: scripts/bench_failover.sh [--quick])" ;;
    esac
done
((runs >= 1)) || die "RUNS must be at least 1"

commit="$(measured_commit)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

log "step 1/3: installing dependencies"
bash "$repo/scripts/deps.sh" test

log "step 2/3: building failover_bench (Release) in $build_dir"
cmake_extra_args
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DDBPOOL_BUILD_TESTS=ON \
    -DDBPOOL_BUILD_BENCHMARKS=ON "${cmake_extra[@]}" >/dev/null || die "cmake configure failed"
cmake --build "$build_dir" -j"$(nproc 2>/dev/null || echo 2)" --target failover_bench >&2 \
    || die "build failed"
bench="$build_dir/benchmarks/failover_bench"
[[ -x "$bench" ]] || die "$bench was not built (it needs the PostgreSQL driver and the tests)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
args=()
((quick)) && args=(--smoke)
for ((r = 1; r <= runs; r++)); do
    log "step 3/3: run $r of $runs (about a minute and a half each; the servers are the bench's own)"
    "$bench" "${args[@]}" --markdown "$work/run$r.md" >"$work/run$r.log" 2>&1 \
        || { cat "$work/run$r.log" >&2; die "failover_bench failed in run $r"; }
done

cat <<HEADER
## Failover (PostgreSQL)

Written by \`scripts/bench_failover.sh\` at commit $commit, $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs, load average before: $load_before.$( ((quick)) && echo " **Smoke run only (--quick): not numbers to quote.**")

\`benchmarks/failover_bench\` (Release), $runs run(s). In each run, for each scenario and client, a fresh PostgreSQL primary and streaming replica on loopback; 8 writer threads insert unique rows for a second, then the fault, and at once \`pg-promote\` of the replica. Scenario 1 blackholes the primary (clients reach it through a fault proxy that stops forwarding and holds every connection open); scenario 2 kills it (\`pg_ctl stop -m immediate\`). Clients: *dbpool, default* (\`PgPool\` over [primary, replica], \`max_size(4)\`, writes through \`with_retry()\`, default \`FailoverPolicy\`); *dbpool, tuned* (the same with \`probe_interval(100ms)\`, \`probe_timeout(150ms)\`, \`failure_threshold(2)\`); *naive libpq* (one connection per thread from a multi-host conninfo with \`target_session_attrs=read-write\`; on any error it reconnects and retries after 50 ms). "First write after fault" is from the fault to the first successful write started after it; "errors surfaced" are the failures the application code saw (\`with_retry()\` results for dbpool, which are outcome-unknown writes that were in flight at the fault: \`with_retry()\` does not run a non-idempotent write again; failed INSERTs and connects for libpq); the window is 5 s after the fault; "blocked" counts writer threads that had not returned 10 s after being asked to stop. Timings are on a shared machine: read the spread across runs.
HEADER
for ((r = 1; r <= runs; r++)); do
    printf '\n### Run %d\n\n' "$r"
    cat "$work/run$r.md"
done
log "done"
