#!/usr/bin/env bash
# The pool's own cost, counted in instructions: one acquire+release cycle on
# one thread over the in-memory fake driver (benchmarks/pool_micro_bench.cc,
# --count=VARIANT), for dbpool with one endpoint, dbpool with two endpoints
# (the failover layer on; the second endpoint answers as a replica), the
# textbook mutex pool and SOCI's connection_pool (when built with SOCI).
# Prints progress lines on stderr and a markdown table on stdout, headed by
# the commit and whether the tree was clean.
#
# Usage: scripts/callgrind.sh [--build-dir DIR] [--cycles N] [--check FILE]
#   --build-dir DIR  use the pool_micro_bench already built in DIR (default:
#                    configure and build it into $BUILD_DIR or build/, as
#                    scripts/test.sh does: RelWithDebInfo)
#   --cycles N       cycles of the shorter run (default 1000)
#   --check FILE     also compare with the budget in FILE (see
#                    benchmarks/instruction_budget.txt): exit 1 when a
#                    variant it names costs more than its budget, 77 (ctest's
#                    "skipped") when valgrind is missing or the build is not
#                    the one the budget is for
#
# How a cycle is counted, exactly: valgrind --tool=callgrind with
# --toggle-collect='*RunCycles*' counts only the instructions executed inside
# RunCycles(), the plain loop of cycles, and in what it calls (the pool's
# background threads sleep meanwhile: probes run hourly here and min_idle is
# reached; callgrind_annotate on the output shows none of their functions,
# nor start-up or teardown). What remains is
# the loop's entry and exit and the first cycle's one-off costs (a
# thread-local's first use, cold lazy binding through the PLT). Those cancel
# in the difference of two runs with N and 2N cycles: Ir(2N) - Ir(N) is the
# cost of N cycles in the steady state, divided by N (rounded in the table,
# to three decimals in the progress lines). Instruction counts do not depend
# on the machine's load, so a result repeats run to run within a fraction of
# an instruction per cycle: the textbook pool and SOCI give whole numbers;
# dbpool's background threads (openers, housekeeper, probers), which run at
# times of their own, now and then change which slot a claim finds first, a
# few instructions over thousands of cycles, far below a budget's margin.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
    sed -n '10,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

given_build_dir=""
cycles=1000
check=""
while (($# > 0)); do
    case "$1" in
        --build-dir) given_build_dir="${2:?--build-dir needs a directory}"; shift 2 ;;
        --cycles) cycles="${2:?--cycles needs a number}"; shift 2 ;;
        --check) check="${2:?--check needs a file}"; shift 2 ;;
        -h | --help) usage ;;
        *) log "unknown argument: $1"; usage ;;
    esac
done
[[ "$cycles" =~ ^[1-9][0-9]*$ ]] || die "--cycles: want a positive integer, not '$cycles'"

skip() {
    log "SKIPPED: $*"
    exit 77
}

if ! command -v valgrind >/dev/null 2>&1; then
    [[ -n "$check" ]] && skip "valgrind is not installed (scripts/deps.sh installs it)"
    need_packages valgrind
fi

if [[ -n "$given_build_dir" ]]; then
    build_dir="$(cd "$given_build_dir" && pwd)"
    log "step 1/3: using the build in $build_dir"
else
    log "step 1/3: building pool_micro_bench in $build_dir"
    build_project pool_micro_bench >&2
fi
bench="$build_dir/benchmarks/pool_micro_bench"
[[ -x "$bench" ]] || die "no $bench (Google Benchmark missing? see benchmarks/CMakeLists.txt)"

cache="$build_dir/CMakeCache.txt"
cache_value() {
    sed -n "s/^$1:[A-Z]*=//p" "$cache" | head -n1
}
build_type="$(cache_value CMAKE_BUILD_TYPE)"
# The compiler as FAMILY-MAJOR (gcc-12, clang-14): another one emits other code.
cxx="$(cache_value CMAKE_CXX_COMPILER)"
compiler=unknown
if [[ -n "$cxx" ]] && "$cxx" --version >/dev/null 2>&1; then
    family=gcc
    "$cxx" --version | grep -qi clang && family=clang
    compiler="$family-$("$cxx" -dumpversion | cut -d. -f1)"
fi
flags="$(cache_value CMAKE_CXX_FLAGS)"
case "$build_type" in
    Release | RelWithDebInfo) ;;
    *)
        msg="instruction counts of a '$build_type' build say nothing (want Release or RelWithDebInfo)"
        [[ -n "$check" ]] && skip "$msg"
        log "warning: $msg"
        ;;
esac
if [[ "$flags" == *-fsanitize* ]]; then
    [[ -n "$check" ]] && skip "a sanitizer build ($flags): its counts are not the pool's"
    log "warning: a sanitizer build ($flags)"
fi

variants=(dbpool dbpool-2 textbook)
if "$bench" --count=soci --cycles=1 >/dev/null 2>&1; then
    variants+=(soci)
else
    log "SOCI: not built into $bench, its row is left out"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/dbpool-callgrind.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# instructions VARIANT CYCLES : Ir inside RunCycles() for one run.
instructions() {
    local out="$work/$1.$2.out"
    valgrind --tool=callgrind --toggle-collect='*RunCycles*' --callgrind-out-file="$out" \
        "$bench" --count="$1" --cycles="$2" >"$work/$1.$2.log" 2>&1 \
        || { cat "$work/$1.$2.log" >&2; die "$1: pool_micro_bench failed under callgrind"; }
    local total
    total="$(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$out" | tail -n1)"
    [[ -n "$total" ]] || die "$1: no instruction total in $out"
    printf '%s\n' "$total"
}

log "step 2/3: counting ${variants[*]} over $cycles and $((2 * cycles)) cycles under callgrind"
declare -A per_cycle
for v in "${variants[@]}"; do
    t1="$(instructions "$v" "$cycles")"
    t2="$(instructions "$v" "$((2 * cycles))")"
    diff=$((t2 - t1))
    per_cycle[$v]=$(((diff + cycles / 2) / cycles))  # rounded
    exact="$(awk -v d="$diff" -v n="$cycles" 'BEGIN { printf "%.3f", d / n }')"
    log "  $v: $t1 Ir for $cycles cycles, $t2 for $((2 * cycles)): $exact per cycle"
done

log "step 3/3: report"
commit="$(git -C "$repo_root" rev-parse HEAD 2>/dev/null || echo unknown)"
if [[ -z "$(git -C "$repo_root" status --porcelain 2>/dev/null)" ]]; then
    tree=clean
else
    tree="dirty (uncommitted changes)"
fi
describe() {
    case "$1" in
        dbpool) echo "dbpool, 1 endpoint" ;;
        dbpool-2) echo "dbpool, 2 endpoints (failover layer)" ;;
        textbook) echo "textbook mutex pool" ;;
        soci) echo "SOCI connection_pool" ;;
    esac
}
textbook="${per_cycle[textbook]}"
printf 'Instructions per acquire+release cycle, 1 thread, fake driver (callgrind Ir,\n'
printf '(Ir(%d cycles) - Ir(%d cycles)) / %d inside RunCycles()).\n' \
    "$((2 * cycles))" "$cycles" "$cycles"
printf 'Commit %s, tree %s, %s build, compiler %s, by scripts/callgrind.sh.\n\n' \
    "$commit" "$tree" "$build_type" "$compiler"
printf '| variant | Ir per cycle | vs textbook |\n|---|---:|---:|\n'
for v in "${variants[@]}"; do
    printf '| %s | %d | %s |\n' "$(describe "$v")" "${per_cycle[$v]}" \
        "$(awk -v a="${per_cycle[$v]}" -v b="$textbook" 'BEGIN { printf "%.2fx", a / b }')"
done

[[ -n "$check" ]] || exit 0
# The budget file: "build_type TYPE", "compiler ID", then "VARIANT MAX_IR"
# lines; '#' starts a comment.
[[ -r "$check" ]] || die "--check: cannot read $check"
want_type="$(awk '$1 == "build_type" { print $2 }' "$check")"
want_compiler="$(awk '$1 == "compiler" { print $2 }' "$check")"
if [[ "$want_type" != "$build_type" || "$want_compiler" != "$compiler" ]]; then
    skip "the budget is for a $want_type build by $want_compiler, this is $build_type by $compiler"
fi
status=0
while read -r name budget _; do
    [[ -z "$name" || "$name" == \#* || "$name" == build_type || "$name" == compiler ]] && continue
    [[ -n "${per_cycle[$name]:-}" ]] || die "--check: $check names '$name', which was not measured"
    if ((per_cycle[$name] > budget)); then
        log "OVER BUDGET: $name costs ${per_cycle[$name]} instructions per cycle, budget $budget ($check)"
        status=1
    else
        log "within budget: $name ${per_cycle[$name]} <= $budget"
    fi
done <"$check"
exit "$status"
