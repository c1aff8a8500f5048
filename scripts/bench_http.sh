#!/usr/bin/env bash
# Measure examples/asio_http_server on one thread (--mode async: C++20
# coroutines over dbpool::async_acquire()/async_query()) against the same
# server thread-per-request (--mode threads --threads 64): issue 17's goal,
# "the one-thread server at >= 1.0x the throughput of the 64-thread one,
# with less memory". Prints a Markdown section for BENCHMARKS.md on stdout
# ("## Event-loop server (issue 17 goal)"); progress goes to stderr.
#
# Usage: scripts/bench_http.sh [--quick] > docs/benchmarks/event_loop_server.md
#
# Installs what is missing (the core dependencies, libasio-dev, wrk),
# builds the example in Release mode in BUILD_DIR, starts a throwaway
# PostgreSQL server, then runs ROUNDS rounds, each of both modes in
# alternating order (async first in odd rounds); each run is a fresh server
# process (pool max_size 8, filled before it listens), 1 s of wrk to warm
# up, then SECONDS s measured: wrk -t1 -c256 --latency with check.lua
# (every response checked, as in tests/http/run.sh) against
# GET /double/N?sleep_ms=SLEEP_MS. With a server-side delay the pool's 8
# connections are the limit (at most 8 / delay requests/s), not the CPU.
# Where the machine has two CPUs or more, the server runs on CPU 0 and wrk
# on CPU 1 (taskset; PostgreSQL is not pinned). Reported per mode:
# requests/s (mean and 95% confidence interval over the rounds), p99
# latency (mean over rounds), the server's peak resident memory (VmHWM from
# /proc/PID/status at the end of the run) and its VmRSS then; and the ratio
# async/threads of requests/s, paired by round, with its 95% confidence
# interval. The verdict is "met" when that interval's lower bound is >= 1.0
# and the async server's VmHWM is lower, "not met" when the upper bound is
# below 1.0 or its memory is not lower, else "unresolved". Then the same
# rounds without a delay (CPU_SLEEP_MS, default 0; empty: skipped), where
# the CPU is the limit, as a subsection without a verdict. --quick: 2
# rounds of 2 s (a check of the script, not numbers to quote).
#
# Environment: BUILD_DIR (default: <repo>/build-http-bench), ROUNDS (5),
#              SECONDS_PER_RUN (5), SLEEP_MS (2), CONNECTIONS (256),
#              THREADS (64), MAX_SIZE (8), CPU_SLEEP_MS (0), DBPOOL_CMAKE_ARGS.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BUILD_DIR="${BUILD_DIR:-$repo/build-http-bench}"
# shellcheck source=lib/common.sh
source "$repo/scripts/lib/common.sh"
# shellcheck source=../tests/http/server.sh
source "$repo/tests/http/server.sh"

rounds="${ROUNDS:-5}" seconds="${SECONDS_PER_RUN:-5}" quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) rounds=2 seconds=2 quick=1 ;;
        *) die "unknown argument '$arg' (usage: scripts/bench_http.sh [--quick])" ;;
    esac
done
sleep_ms="${SLEEP_MS:-2}" connections="${CONNECTIONS:-256}" threads="${THREADS:-64}"
max_size="${MAX_SIZE:-8}"
cpu_sleep="${CPU_SLEEP_MS-0}"
((rounds >= 2)) || die "ROUNDS must be at least 2 (a confidence interval needs two)"

commit="$(measured_commit)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

log "step 1/4: installing dependencies"
bash "$repo/scripts/deps.sh" demo
need_packages libasio-dev wrk

log "step 2/4: building examples/asio_http_server (Release) in $build_dir"
cmake_extra_args
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DDBPOOL_BUILD_EXAMPLES=ON \
    -DDBPOOL_BUILD_TESTS=OFF -DDBPOOL_BUILD_BENCHMARKS=OFF "${cmake_extra[@]}" >/dev/null \
    || die "cmake configure failed"
cmake --build "$build_dir" -j"$(nproc 2>/dev/null || echo 2)" --target asio_http_server >&2 \
    || die "build failed"
server="$build_dir/examples/asio_http_server"

log "step 3/4: starting PostgreSQL"
DBPOOL_SERVERS=pg start_servers
tmp="$(mktemp -d "${TMPDIR:-/tmp}/dbpool-bench-http.XXXXXX")"
trap 'st=$?; http_server_stop >/dev/null 2>&1 || true; rm -rf "$tmp"; stop_servers; exit "$st"' EXIT

server_cpu=() wrk_cpu=() pinning="none (fewer than 2 CPUs or no taskset)"
if (($(nproc) >= 2)) && command -v taskset >/dev/null; then
    server_cpu=(taskset -c 0) wrk_cpu=(taskset -c 1)
    pinning="server on CPU 0, wrk on CPU 1 (taskset); PostgreSQL unpinned"
fi

# to_ms VALUE : wrk's latency ("850.00us", "2.31ms", "1.02s") in ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
        else { sub(/s$/, "", v); printf "%.3f", v * 1000 } }'
}

# one_run MODE : a fresh server, 1 s of warm-up, SECONDS measured; appends
# "MODE ROUND RPS P99_MS HWM_KB RSS_KB THREADS" to $results; the query
# sleeps $run_sleep ms.
one_run() {
    local mode="$1" flags=(--mode "$1" --max-size "$max_size") out="$tmp/wrk.out" rps p99 hwm rss nthreads
    [[ "$mode" == threads ]] && flags+=(--threads "$threads")
    http_server_start "$tmp" "$server" "${server_cpu[@]}" -- "${flags[@]}" \
        || die "the $mode server did not start"
    local url="http://127.0.0.1:$http_server_port/double/"
    "${wrk_cpu[@]}" wrk -t1 -c"$connections" -d1s --timeout 10s -s "$repo/tests/http/check.lua" \
        "$url" -- "?sleep_ms=$run_sleep" >"$out" 2>&1 || { cat "$out" >&2; die "$mode: the warm-up run failed"; }
    "${wrk_cpu[@]}" wrk -t1 -c"$connections" -d"${seconds}s" --timeout 10s --latency \
        -s "$repo/tests/http/check.lua" "$url" -- "?sleep_ms=$run_sleep" >"$out" 2>&1 \
        || { cat "$out" >&2; die "$mode: wrk failed"; }
    hwm="$(awk '/^VmHWM:/ { print $2 }' "/proc/$http_server_pid/status")"
    rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$http_server_pid/status")"
    nthreads="$(awk '/^Threads:/ { print $2 }' "/proc/$http_server_pid/status")"
    http_server_stop || die "$mode: the server did not stop cleanly"
    if grep -qE 'Socket errors|Non-2xx' "$out" || ! grep -qE '^check: .* bad=0 errors=0$' "$out"; then
        cat "$out" >&2
        die "$mode: bad responses or errors (see above)"
    fi
    rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
    echo "$mode $round $rps $p99 $hwm $rss $nthreads" >>"$results"
    log "  sleep_ms=$run_sleep, round $round, $mode: $rps requests/s, p99 $p99 ms, VmHWM $hwm kB, VmRSS $rss kB"
}

# measure SLEEP_MS RESULTS : ROUNDS rounds of both modes, alternating.
measure() {
    run_sleep="$1" results="$2"
    : >"$results"
    for ((round = 1; round <= rounds; round++)); do
        if ((round % 2 == 1)); then
            one_run async
            one_run threads
        else
            one_run threads
            one_run async
        fi
    done
}

log "step 4/4: $rounds rounds x 2 modes x ${seconds} s, $connections connections," \
    "pool max_size $max_size, sleep_ms=$sleep_ms${cpu_sleep:+ then $cpu_sleep}; pinning: $pinning"
measure "$sleep_ms" "$tmp/goal"
if [[ -n "$cpu_sleep" ]]; then
    measure "$cpu_sleep" "$tmp/cpu"
fi

# Student's t quantile (two-sided 95%) for df degrees of freedom, in awk.
awk_t='function t95(df) {
    split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086 2.080 2.074 2.069 2.064 2.060 2.056 2.052 2.048 2.045 2.042", t, " ")
    return df <= 30 ? t[df] : 1.96 }'

# summarise RESULTS SLEEP_MS goal|cpu : the Markdown for one measurement.
summarise() {
    awk -v commit="$commit" -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" -v loadavg="$load_before" \
        -v cpus="$(nproc)" -v pinning="$pinning" -v rounds="$rounds" -v seconds="$seconds" \
        -v conns="$connections" -v threads="$threads" -v max_size="$max_size" \
        -v sleep_ms="$2" -v part="$3" -v quick="$quick" "$awk_t"'
    { mode = $1; r = $2
      rps[mode, r] = $3; p99[mode, r] = $4; hwm[mode, r] = $5; rss[mode, r] = $6; nth[mode, r] = $7 }
    function mean(a, m,   s, i) { s = 0; for (i = 1; i <= rounds; i++) s += a[m, i]; return s / rounds }
    function half(a, m,   mu, s, i) {
        mu = mean(a, m); s = 0
        for (i = 1; i <= rounds; i++) s += (a[m, i] - mu) ^ 2
        return t95(rounds - 1) * sqrt(s / (rounds - 1)) / sqrt(rounds) }
    function maxof(a, m,   x, i) { x = 0; for (i = 1; i <= rounds; i++) if (a[m, i] > x) x = a[m, i]; return x }
    END {
        for (i = 1; i <= rounds; i++) ratio["r", i] = rps["async", i] / rps["threads", i]
        rm = mean(ratio, "r"); rh = half(ratio, "r"); lo = rm - rh; hi = rm + rh
        less_memory = mean(hwm, "async") < mean(hwm, "threads")
        if (lo >= 1.0 && less_memory) verdict = "met"
        else if (hi < 1.0 || !less_memory) verdict = "not met"
        else verdict = "unresolved"
        limit = sleep_ms > 0 ? sprintf("so the pool is the limit (at most %d requests/s), not the CPU", 1000 * max_size / sleep_ms) : "and no delay: the CPU (the one the server runs on) is the limit"
        if (part == "goal") {
            printf "## Event-loop server (issue 17 goal)\n\n"
            printf "Written by `scripts/bench_http.sh` at commit %s, %s; %d CPUs, load average before: %s.%s\n\n", commit, date, cpus, loadavg, quick ? " **--quick: a check of the script, not numbers to quote.**" : ""
            printf "`examples/asio_http_server` (Release) on one thread (`--mode async`: one `io_context`, a C++20 coroutine per connection over `dbpool::async_acquire()` and `dbpool::async_query()`) against the same server thread-per-request (`--mode threads --threads %d`: workers take readable connections from one epoll set and block in `acquire()` and `PQexecParams()`). ", threads
            printf "wrk -t1 -c%d --latency, every response checked (`tests/http/check.lua`), against `GET /double/N?sleep_ms=%d` (`SELECT $1::bigint * 2 FROM pg_sleep(...)`); pool `max_size(%d)`, %s. ", conns, sleep_ms, max_size, limit
            printf "%d rounds, modes alternating, each a fresh server process: 1 s warm-up, then %d s measured. Pinning: %s. The pool runs background threads of its own in both modes (opening connections, handing them over, maintenance); \"one thread\" is the one thread that serves HTTP, and the Threads column counts them all (/proc/PID/status at the end of a run).\n\n", rounds, seconds, pinning
        } else {
            printf "### The same without a server-side delay (not the setting of the goal)\n\n"
            printf "`GET /double/N?sleep_ms=%d`, %s; otherwise as above.\n\n", sleep_ms, limit
        }
        printf "| Server | Threads | Requests/s (mean, 95%% CI) | p99 latency (mean) | VmHWM (mean, max) | VmRSS at end (mean) |\n"
        printf "|---|---|---|---|---|---|\n"
        split("async threads", ms, " ")
        label["async"] = "one thread, coroutines"; label["threads"] = threads " threads"
        for (k = 1; k <= 2; k++) {
            m = ms[k]
            printf "| %s | %d | %.0f ± %.0f | %.2f ms | %.1f MiB, %.1f MiB | %.1f MiB |\n", label[m], maxof(nth, m), mean(rps, m), half(rps, m), mean(p99, m), mean(hwm, m) / 1024, maxof(hwm, m) / 1024, mean(rss, m) / 1024
        }
        printf "\nRatio async/threads of requests/s (paired by round): %.3f, 95%% CI [%.3f, %.3f]. Peak memory (VmHWM, mean): %.1f MiB against %.1f MiB (%+.1f%%), %s.\n\n", rm, lo, hi, mean(hwm, "async") / 1024, mean(hwm, "threads") / 1024, 100 * (mean(hwm, "async") / mean(hwm, "threads") - 1), less_memory ? "lower for the one-thread server" : "NOT lower for the one-thread server"
        if (part == "goal")
            printf "**Goal (one thread >= 1.0x the 64-thread throughput, with less memory): %s.**\n\n", verdict
        printf "| Round | async req/s | threads req/s | ratio | async p99 | threads p99 | async VmHWM | threads VmHWM |\n"
        printf "|---|---|---|---|---|---|---|---|\n"
        for (i = 1; i <= rounds; i++)
            printf "| %d | %.0f | %.0f | %.3f | %.2f ms | %.2f ms | %.1f MiB | %.1f MiB |\n", i, rps["async", i], rps["threads", i], ratio["r", i], p99["async", i], p99["threads", i], hwm["async", i] / 1024, hwm["threads", i] / 1024
    }' "$1"
}

summarise "$tmp/goal" "$sleep_ms" goal
if [[ -n "$cpu_sleep" ]]; then
    echo
    summarise "$tmp/cpu" "$cpu_sleep" cpu
fi
log "done"
