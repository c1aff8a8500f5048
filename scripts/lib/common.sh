# shellcheck shell=bash
# Shared helpers for the dbpool scripts. Source this file; do not run it.
#
#   log MSG...              print "[dbpool] MSG" to stderr
#   die MSG...              log MSG and exit 1
#   need_packages PKG...    apt-get install the packages that are not installed yet
#   free_port               print a free TCP port on 127.0.0.1
#   build_project [TARGET...]  configure and build the project into $build_dir
#                           (what to build: $DBPOOL_BUILD_PARTS, see there)
#   measured_commit         print the short commit of the tree, saying when it has
#                           uncommitted changes (for the benchmarks' reports)
#   cmake_extra_args        set the array cmake_extra to $DBPOOL_CMAKE_ARGS, split into words
#   repo_root, build_dir    absolute paths of the repository and the build tree

if [[ -n "${DBPOOL_COMMON_SH_LOADED:-}" ]]; then
    return 0
fi
DBPOOL_COMMON_SH_LOADED=1

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build_dir="${BUILD_DIR:-$repo_root/build}"
# Make BUILD_DIR relative paths relative to where the caller ran the script.
if [[ "$build_dir" != /* ]]; then
    build_dir="$PWD/$build_dir"
fi

log() {
    printf '[dbpool] %s\n' "$*" >&2
}

die() {
    log "error: $*"
    exit 1
}

# True when the Debian package $1 is installed.
package_installed() {
    local status
    status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]]
}

DBPOOL_APT_UPDATED="${DBPOOL_APT_UPDATED:-}"

# need_packages PKG... : install the given Debian packages if any is missing.
need_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        package_installed "$pkg" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to install: ${missing[*]}"
        sudo=(sudo)
    fi
    log "installing packages: ${missing[*]}"
    if [[ -z "$DBPOOL_APT_UPDATED" ]]; then
        log "running apt-get update"
        "${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed"
        DBPOOL_APT_UPDATED=1
        export DBPOOL_APT_UPDATED
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
        || die "apt-get install failed for: ${missing[*]}"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port : print a TCP port on 127.0.0.1 that nothing listens on right now.
# It is taken below the kernel's ephemeral range (ip_local_port_range), which
# the ports of outgoing connections come from: a port from inside it can be
# taken by some client's connection between this check and the server's
# bind ("Address already in use"), one from below it cannot.
free_port() {
    local low=32768 high port i
    if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
        read -r low _ </proc/sys/net/ipv4/ip_local_port_range || low=32768
    fi
    high=$((low - 1))
    ((high > 11000)) || high=11000
    for ((i = 0; i < 500; i++)); do
        port=$((10000 + (RANDOM * 32768 + RANDOM) % (high - 10000)))
        if ! port_in_use "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    die "could not find a free TCP port on 127.0.0.1 below $low"
}

# build_project [TARGET...] : configure and build into $build_dir with the
# flags shared by test.sh and demo.sh. DBPOOL_BUILD_PARTS says what besides
# the libraries: "all" (default: tests, examples, benchmarks) or "examples"
# (what the demo runs, nothing else). Extra cmake configure arguments may be
# given in DBPOOL_CMAKE_ARGS (word-split).
build_project() {
    local jobs
    jobs="$(nproc 2>/dev/null || echo 2)"
    local parts=()
    case "${DBPOOL_BUILD_PARTS:-all}" in
        all) parts=(-DDBPOOL_BUILD_TESTS=ON -DDBPOOL_BUILD_EXAMPLES=ON -DDBPOOL_BUILD_BENCHMARKS=ON) ;;
        examples) parts=(-DDBPOOL_BUILD_TESTS=OFF -DDBPOOL_BUILD_EXAMPLES=ON -DDBPOOL_BUILD_BENCHMARKS=OFF) ;;
        *) die "DBPOOL_BUILD_PARTS must be all or examples, not '${DBPOOL_BUILD_PARTS}'" ;;
    esac
    local extra=()
    if [[ -n "${DBPOOL_CMAKE_ARGS:-}" ]]; then
        # shellcheck disable=SC2206
        extra=(${DBPOOL_CMAKE_ARGS})
    fi
    log "configuring: cmake -S $repo_root -B $build_dir ${parts[*]} ${extra[*]}"
    cmake -S "$repo_root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "${parts[@]}" "${extra[@]}"
    local targets=()
    local t
    for t in "$@"; do
        targets+=(--target "$t")
    done
    if (($# > 0)); then
        log "building targets $* with $jobs jobs"
    else
        log "building with $jobs jobs"
    fi
    cmake --build "$build_dir" -j"$jobs" "${targets[@]}"
}

# start_servers : start the throwaway database servers named in
# $DBPOOL_SERVERS (default: all) in a new temporary directory, stop them when
# the calling script exits (also on Ctrl-C or SIGTERM), and export their
# DBPOOL_TEST_* variables into the calling shell.
start_servers() {
    DBPOOL_SERVERS_TMP="$(mktemp -d "${TMPDIR:-/tmp}/dbpool-servers.XXXXXX")"
    trap 'dbpool_exit_status=$?; stop_servers; exit "$dbpool_exit_status"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    log "starting test servers (${DBPOOL_SERVERS:-pg replica mysql pgbouncer}) in $DBPOOL_SERVERS_TMP"
    bash "$repo_root/scripts/servers.sh" start "$DBPOOL_SERVERS_TMP"
    # shellcheck disable=SC1091
    source "$DBPOOL_SERVERS_TMP/env"
}

# stop_servers : stop what start_servers started (safe to call twice).
stop_servers() {
    if [[ -n "${DBPOOL_SERVERS_TMP:-}" ]]; then
        log "stopping test servers in $DBPOOL_SERVERS_TMP"
        bash "$repo_root/scripts/servers.sh" stop "$DBPOOL_SERVERS_TMP" \
            || log "warning: could not stop the servers in $DBPOOL_SERVERS_TMP cleanly"
        DBPOOL_SERVERS_TMP=""
    fi
}

# measured_commit : the commit a benchmark report names; a tree with
# uncommitted changes to tracked files is said so.
measured_commit() {
    local commit
    commit="$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    if [[ -n "$(git -C "$repo_root" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
        commit+=" (with uncommitted changes)"
    fi
    echo "$commit"
}

# cmake_extra_args : the array cmake_extra, from DBPOOL_CMAKE_ARGS split into
# words (extra configure arguments for the scripts that configure a build).
cmake_extra_args() {
    cmake_extra=()
    if [[ -n "${DBPOOL_CMAKE_ARGS:-}" ]]; then
        # shellcheck disable=SC2206
        cmake_extra=(${DBPOOL_CMAKE_ARGS})
    fi
}
