#!/usr/bin/env bash
# Build dbpool and run its whole test suite against throwaway PostgreSQL,
# streaming replica, MariaDB and PgBouncer servers on 127.0.0.1; build the
# other configurations (a new machine's, one driver each, the MySQL driver's
# blocking path); then run the suite again under AddressSanitizer +
# UndefinedBehaviorSanitizer and under ThreadSanitizer, fuzz the settings
# parsers, and lint the sources.
#
# Usage: scripts/test.sh [CTEST_ARGS...]     e.g. scripts/test.sh -R pool -V
#
# Stages, in order (each runs even when an earlier one failed):
#   normal  the full build in BUILD_DIR (every optional benchmark peer
#           installed: SOCI, Poco, Google Benchmark) and ctest (CTEST_ARGS apply)
#   configs scripts/configs.sh: no SOCI/Poco (a new machine), PostgreSQL only
#           without Google Benchmark, MySQL only on the blocking code path
#           (its suites run against MariaDB), and a missing driver failing
#           configure
#   asan    scripts/sanitize.sh asan (CTEST_ARGS apply)
#   tsan    scripts/sanitize.sh tsan (CTEST_ARGS apply)
#   fuzz    scripts/fuzz.sh $DBPOOL_FUZZ_SECONDS (10 s per fuzz target)
#   lint    scripts/lint.sh (clang-format and cppcheck)
# The exit status is non-zero when any stage failed; a summary of the stages,
# with ctest's closing lines, ends the output. Each stage's output is also in
# BUILD_DIR/stage-logs/STAGE.log.
#
# Environment: BUILD_DIR (default: <repo>/build), DBPOOL_SERVERS (default: all),
#              DBPOOL_CMAKE_ARGS (extra cmake configure arguments for the
#              normal build), DBPOOL_SKIP_CONFIGS=1 (skip configs),
#              DBPOOL_SKIP_SANITIZERS=1 (skip asan and tsan),
#              DBPOOL_SKIP_FUZZ=1 (skip fuzz), DBPOOL_FUZZ_SECONDS (default 10),
#              DBPOOL_SKIP_LINT=1 (skip lint)
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

stage_logs="$build_dir/stage-logs"
stage_names=()
stage_results=()
stage_times=()
overall=0

# record_stage NAME STATUS SECONDS : remember how a stage ended.
record_stage() {
    stage_names+=("$1")
    if [[ "$2" == skipped* ]]; then
        stage_results+=("$2")
    elif (($2 == 0)); then
        stage_results+=("passed")
    else
        stage_results+=("FAILED (status $2)")
        overall=1
    fi
    stage_times+=("$(printf '%dm%02ds' $(($3 / 60)) $(($3 % 60)))")
}

# run_stage NAME COMMAND... : run a stage, its output also to its log.
run_stage() {
    local name="$1" t0=$SECONDS status=0
    shift
    log "stage $name: $*"
    "$@" 2>&1 | tee "$stage_logs/$name.log" || status=$?
    record_stage "$name" "$status" $((SECONDS - t0))
}

# ctest_closing LOG : ctest's closing lines in LOG (pass rate, total time,
# failed tests), or nothing when ctest did not get that far.
ctest_closing() {
    awk '/tests passed, .* tests failed out of/ { p = 1 }
         p && /^\[dbpool\]/ { exit }
         p && NF { print }' "$1"
}

print_summary() {
    local i closing
    log "summary of the stages:"
    for i in "${!stage_names[@]}"; do
        log "  ${stage_names[$i]}: ${stage_results[$i]} in ${stage_times[$i]}"
        if [[ -f "$stage_logs/${stage_names[$i]}.log" ]]; then
            closing="$(ctest_closing "$stage_logs/${stage_names[$i]}.log")"
            if [[ -n "$closing" ]]; then
                printf '%s\n' "$closing" | sed 's/^/        /' >&2
            fi
            if [[ "${stage_names[$i]}" == fuzz ]]; then
                grep -E '^\[dbpool\]   [a-z_]+_fuzzer: ' "$stage_logs/fuzz.log" \
                    | sed 's/^\[dbpool\] */        /' >&2 || true
            fi
        fi
    done
    if ((overall == 0)); then
        log "all stages passed"
    else
        log "some stage failed"
    fi
}

t0=$SECONDS
log "step 1/4: installing dependencies (with the benchmarks' optional peers)"
bash "$repo_root/scripts/deps.sh" test peers

log "step 2/4: configuring and building in $build_dir"
# (The script's arguments are ctest's, not build targets.)
# shellcheck disable=SC2119
build_project
mkdir -p "$stage_logs"

log "step 3/4: starting test servers"
start_servers

log "step 4/4: running ctest"
status=0
ctest --test-dir "$build_dir" --output-on-failure --timeout 600 "$@" 2>&1 \
    | tee "$stage_logs/normal.log" || status=$?
if ((status == 0)); then
    log "all tests passed"
else
    log "ctest failed with status $status"
fi
record_stage normal "$status" $((SECONDS - t0))
# The other stages start servers of their own.
stop_servers

if [[ "${DBPOOL_SKIP_CONFIGS:-}" == 1 ]]; then
    log "skipping the configs stage (DBPOOL_SKIP_CONFIGS=1)"
    record_stage configs "skipped (DBPOOL_SKIP_CONFIGS=1)" 0
else
    run_stage configs bash "$repo_root/scripts/configs.sh"
fi

if [[ "${DBPOOL_SKIP_SANITIZERS:-}" == 1 ]]; then
    log "skipping the sanitizer stages (DBPOOL_SKIP_SANITIZERS=1)"
    record_stage asan "skipped (DBPOOL_SKIP_SANITIZERS=1)" 0
    record_stage tsan "skipped (DBPOOL_SKIP_SANITIZERS=1)" 0
else
    run_stage asan bash "$repo_root/scripts/sanitize.sh" asan "$@"
    run_stage tsan bash "$repo_root/scripts/sanitize.sh" tsan "$@"
fi

if [[ "${DBPOOL_SKIP_FUZZ:-}" == 1 ]]; then
    log "skipping the fuzz stage (DBPOOL_SKIP_FUZZ=1)"
    record_stage fuzz "skipped (DBPOOL_SKIP_FUZZ=1)" 0
else
    run_stage fuzz bash "$repo_root/scripts/fuzz.sh" "${DBPOOL_FUZZ_SECONDS:-10}"
fi

if [[ "${DBPOOL_SKIP_LINT:-}" == 1 ]]; then
    log "skipping the lint stage (DBPOOL_SKIP_LINT=1)"
    record_stage lint "skipped (DBPOOL_SKIP_LINT=1)" 0
else
    run_stage lint bash "$repo_root/scripts/lint.sh"
fi

print_summary
exit "$overall"
