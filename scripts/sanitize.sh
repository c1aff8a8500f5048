#!/usr/bin/env bash
# Build dbpool and its tests with clang and a sanitizer, start throwaway
# servers, and run the test suite; any sanitizer report fails the run.
#
# Usage: scripts/sanitize.sh asan|tsan [CTEST_ARGS...]
#
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (leaks included),
#         built in <repo>/build-asan
#   tsan  ThreadSanitizer, built in <repo>/build-tsan against an Abseil
#         built with -fsanitize=thread (Debian's libabsl is not, so TSan
#         cannot see absl::Mutex and reports false races). That Abseil is
#         built once from Debian's source package of the installed version
#         and cached in $DBPOOL_CACHE_DIR/absl-tsan-<version>-clang<version>.
#
# The benchmark smoke tests and the consumer/install tests are left out:
# they build other projects or time things, which a sanitizer only slows.
#
# Environment: SANITIZE_BUILD_ROOT (the build goes to ROOT/build-asan or
#   ROOT/build-tsan; default: the repository),
#   DBPOOL_CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/dbpool),
#   DBPOOL_SERVERS (default: all), TSAN_SUPPRESSIONS (default tests/tsan.supp).
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
    exit 2
}

(($# >= 1)) || usage
mode="$1"
shift
case "$mode" in
    asan)
        sanitize_flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
        ;;
    tsan)
        sanitize_flags="-fsanitize=thread -fno-omit-frame-pointer"
        ;;
    -h | --help) usage ;;
    *) usage ;;
esac

san_build_dir="${SANITIZE_BUILD_ROOT:-$repo_root}/build-$mode"
if [[ "$san_build_dir" != /* ]]; then
    san_build_dir="$PWD/$san_build_dir"
fi
cache_dir="${DBPOOL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dbpool}"
jobs="$(nproc 2>/dev/null || echo 2)"
started=$SECONDS

# elapsed SINCE : "1m23s" since the SECONDS value SINCE.
elapsed() {
    local s=$((SECONDS - $1))
    printf '%dm%02ds' $((s / 60)) $((s % 60))
}

# deb_src_sources DIR : write into DIR the machine's own apt sources turned
# into source-package sources (deb822 files under /etc/apt/sources.list.d
# with "Types: deb" made "deb-src", and the one-line /etc/apt/sources.list
# entries made "deb-src" too), so that a machine fetches source packages from
# the very mirrors (or proxy) it already uses; no mirror address is written
# here. Prints how many source entries it wrote.
deb_src_sources() {
    local dir="$1" f count=0
    mkdir -p "$dir/sources.list.d"
    : >"$dir/sources.list"
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        sed -E 's/^Types:.*$/Types: deb-src/' "$f" >"$dir/sources.list.d/$(basename "$f")"
        count=$((count + $(grep -c '^Types:' "$f" || true)))
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        sed -nE 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' "$f" >>"$dir/sources.list"
    done
    count=$((count + $(grep -c '^deb-src' "$dir/sources.list" || true)))
    printf '%s\n' "$count"
}

# fetch_abseil_source DIR VERSION : unpack Debian's abseil source package
# (patches applied) into DIR and print the source tree's path. Uses the
# system's deb-src entries when there are any, else a private source list in
# DIR made from the system's own apt sources (see deb_src_sources), which
# leaves the system's apt configuration alone.
fetch_abseil_source() {
    local dir="$1" version="$2"
    local apt_opts=()
    if ! (cd "$dir" && apt-get source --print-uris "abseil=$version") >/dev/null 2>&1; then
        log "no deb-src entries for abseil: using the machine's apt sources as deb-src in $dir/apt"
        mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache"
        local entries
        entries="$(deb_src_sources "$dir/apt")"
        ((entries > 0)) || die "found no apt sources in /etc/apt to fetch Abseil's source package from"
        apt_opts=(
            -o "Dir::Etc::SourceList=$dir/apt/sources.list"
            -o "Dir::Etc::SourceParts=$dir/apt/sources.list.d"
            -o "Dir::State::Lists=$dir/apt/lists"
            -o "Dir::Cache=$dir/apt/cache"
        )
        apt-get "${apt_opts[@]}" -q update >&2 || die "apt-get update (deb-src) failed"
    fi
    # The installed version first, so that the headers match libabsl-dev's;
    # the newest one if the mirror no longer has it.
    if ! (cd "$dir" && apt-get "${apt_opts[@]}" -q source "abseil=$version") >&2; then
        log "abseil $version is not on the mirror; fetching the newest bookworm source"
        (cd "$dir" && apt-get "${apt_opts[@]}" -q source abseil) >&2 \
            || die "apt-get source abseil failed"
    fi
    local src
    src="$(find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'abseil-*' | head -n 1)"
    [[ -n "$src" && -f "$src/CMakeLists.txt" ]] || die "no abseil source tree in $dir"
    printf '%s\n' "$src"
}

# ensure_absl_tsan : print the prefix of an Abseil built with
# -fsanitize=thread, building it first if the cache has none.
ensure_absl_tsan() {
    local version clang_version prefix
    version="$(dpkg-query -W -f='${Version}' libabsl-dev 2>/dev/null)" \
        || die "libabsl-dev is not installed"
    clang_version="$(clang++ -dumpversion)"
    prefix="$cache_dir/absl-tsan-$version-clang$clang_version"
    if [[ -f "$prefix/.complete" && -f "$prefix/lib/cmake/absl/abslConfig.cmake" ]]; then
        log "reusing the TSan-instrumented Abseil in $prefix"
        printf '%s\n' "$prefix"
        return 0
    fi
    local t0=$SECONDS work src
    log "building Abseil $version with -fsanitize=thread into $prefix (once; a few minutes)"
    work="$(mktemp -d "${TMPDIR:-/tmp}/dbpool-absl-tsan.XXXXXX")"
    # This runs in a command substitution: the trap is the subshell's own.
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    src="$(fetch_abseil_source "$work" "$version")"
    rm -rf "$prefix"
    cmake -S "$src" -B "$work/build" \
        -DCMAKE_CXX_COMPILER=clang++ \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_STANDARD=17 \
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
        -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
        -DCMAKE_INSTALL_PREFIX="$prefix" \
        -DBUILD_SHARED_LIBS=OFF \
        -DBUILD_TESTING=OFF \
        -DABSL_BUILD_TESTING=OFF \
        -DABSL_PROPAGATE_CXX_STD=ON >&2
    cmake --build "$work/build" -j"$jobs" >&2
    cmake --install "$work/build" >&2
    touch "$prefix/.complete"
    log "Abseil with TSan built in $(elapsed "$t0")"
    printf '%s\n' "$prefix"
}

log "[$mode] step 1/4: installing dependencies"
bash "$repo_root/scripts/deps.sh"
# llvm-14 brings llvm-symbolizer: without it reports have no function
# names, and tests/tsan.supp (which matches function names) suppresses
# nothing.
need_packages clang libclang-rt-14-dev llvm-14
if [[ "$mode" == tsan ]]; then
    need_packages dpkg-dev xz-utils debian-archive-keyring
fi

cmake_args=(
    -DCMAKE_CXX_COMPILER=clang++
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    # -O1 keeps stacks readable; no -DNDEBUG, so assertions run too.
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
    "-DCMAKE_CXX_FLAGS=$sanitize_flags"
    -DDBPOOL_BUILD_TESTS=ON
    -DDBPOOL_BUILD_EXAMPLES=ON
    -DDBPOOL_BUILD_BENCHMARKS=OFF
)
if [[ "$mode" == tsan ]]; then
    absl_prefix="$(ensure_absl_tsan)"
    cmake_args+=("-Dabsl_DIR=$absl_prefix/lib/cmake/absl")
fi

log "[$mode] step 2/4: configuring and building in $san_build_dir"
t_build=$SECONDS
cmake -S "$repo_root" -B "$san_build_dir" "${cmake_args[@]}"
cmake --build "$san_build_dir" -j"$jobs"
log "[$mode] built in $(elapsed "$t_build")"

log "[$mode] step 3/4: starting test servers"
start_servers

log "[$mode] step 4/4: running ctest with every sanitizer report fatal"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
tsan_options="halt_on_error=1:second_deadlock_stack=1"
tsan_supp="${TSAN_SUPPRESSIONS:-$repo_root/tests/tsan.supp}"
if [[ -f "$tsan_supp" ]]; then
    tsan_options+=":suppressions=$tsan_supp"
fi
export TSAN_OPTIONS="$tsan_options${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
# The sanitizer runtime talks to llvm-symbolizer over pipes that are not
# close-on-exec, and the tests that restart a server (std::system() ->
# servers.sh -> pg_ctl) pass them on to the new server processes, which keep
# them open: the symbolizer then outlives the test, and since it writes to
# the test's stderr, ctest waits for it until the test's TIMEOUT. So the
# symbolizer's own stderr goes to a file; it still lives until the servers
# stop, harmlessly.
symbolizer="$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)"
[[ -n "$symbolizer" ]] || die "no llvm-symbolizer: reports could not be symbolized nor suppressed"
if [[ -n "$symbolizer" ]]; then
    # The runtime recognises the tool by its name, which must start with
    # "llvm-symbolizer".
    mkdir -p "$san_build_dir/symbolizer"
    printf '#!/bin/sh\n# Generated by scripts/sanitize.sh: %s, its stderr to a file.\nexec "%s" "$@" 2>>"%s"\n' \
        "$symbolizer" "$symbolizer" "$san_build_dir/symbolizer/llvm-symbolizer.log" \
        >"$san_build_dir/symbolizer/llvm-symbolizer"
    chmod +x "$san_build_dir/symbolizer/llvm-symbolizer"
    symbolizer_option="external_symbolizer_path=$san_build_dir/symbolizer/llvm-symbolizer"
    ASAN_OPTIONS+=":$symbolizer_option"
    UBSAN_OPTIONS+=":$symbolizer_option"
    TSAN_OPTIONS+=":$symbolizer_option"
fi
export DBPOOL_SOAK_SECONDS="${DBPOOL_SOAK_SECONDS:-20}"  # the chaos soaks, shorter here
t_test=$SECONDS
status=0
# The [patroni] tests (integration/patroni_test.cc, every name starting
# "Patroni") are left out: they exercise the orchestrator against the same
# pool code the other failover tests run here, and their timing (Patroni's
# TTL and HAProxy's check intervals) is not scaled for sanitizer slowdowns.
ctest --test-dir "$san_build_dir" --output-on-failure --timeout 900 \
    -E 'bench-smoke|consumer|install|integration: ?Patroni ' "$@" || status=$?
log "[$mode] ctest took $(elapsed "$t_test"); whole run $(elapsed "$started")"
if ((status == 0)); then
    log "[$mode] all tests passed with no sanitizer report"
else
    log "[$mode] ctest failed with status $status"
fi
exit "$status"
