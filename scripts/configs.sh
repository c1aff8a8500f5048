#!/usr/bin/env bash
# Build configurations other than the full one, so that none can break
# unseen (scripts/test.sh runs this as its "configs" stage):
#
#   new-machine     no SOCI, no Poco: what a new user's machine has
#                   (scripts/deps.sh installs neither); everything is built
#   postgres-soci   the MySQL driver off, Google Benchmark off, Poco off
#   mysql-blocking  the PostgreSQL driver off, SOCI off, and the MySQL
#                   driver's blocking code path forced (the path Oracle's
#                   libmysqlclient takes), then the MySQL unit and
#                   integration suites run on that path against MariaDB
#   missing-driver  configure must fail when a driver that was asked for
#                   cannot be built, and pass with it turned off
#
# Every build uses -Werror (the default of a top-level build). Each
# configuration builds in BUILD_DIR/../build-config-NAME.
#
# Usage: scripts/configs.sh [NAME...]   (default: all of them, in this order)
# Environment: DBPOOL_SOAK_SECONDS for the blocking path's soak (default 20)
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

root="$(dirname "$build_dir")"
jobs="$(nproc 2>/dev/null || echo 2)"
(($# > 0)) || set -- new-machine postgres-soci mysql-blocking missing-driver

# configure_and_build NAME CMAKE_ARGS... : a full build (libraries, tests,
# examples, benchmarks) of one configuration.
configure_and_build() {
    local name="$1" t0=$SECONDS
    shift
    local dir="$root/build-config-$name"
    mkdir -p "$dir"
    log "config $name: cmake $*"
    cmake -S "$repo_root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDBPOOL_WERROR=ON \
        -DDBPOOL_BUILD_TESTS=ON -DDBPOOL_BUILD_EXAMPLES=ON -DDBPOOL_BUILD_BENCHMARKS=ON "$@" \
        >"$dir/configure-output.log" 2>&1 || { tail -n 40 "$dir/configure-output.log" >&2; die "config $name: configure failed"; }
    grep -E '^-- dbpool' "$dir/configure-output.log" | sed "s/^/[dbpool]   $name: /" >&2 || true
    cmake --build "$dir" -j"$jobs" >"$dir/build-output.log" 2>&1 \
        || { grep -E -B2 -A8 'error|warning' "$dir/build-output.log" | head -n 80 >&2; die "config $name: build failed"; }
    log "config $name: built in $((SECONDS - t0)) s"
}

for name in "$@"; do
    case "$name" in
        new-machine)
            configure_and_build new-machine -DDBPOOL_BENCH_WITH_SOCI=OFF -DDBPOOL_BENCH_WITH_POCO=OFF
            ;;
        postgres-soci)
            configure_and_build postgres-soci -DDBPOOL_WITH_MYSQL=OFF -DDBPOOL_BENCH_WITH_POCO=OFF \
                -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON
            ;;
        mysql-blocking)
            configure_and_build mysql-blocking -DDBPOOL_WITH_POSTGRES=OFF -DDBPOOL_BENCH_WITH_SOCI=OFF \
                -DDBPOOL_MYSQL_FORCE_BLOCKING=ON
            log "config mysql-blocking: the MySQL suites on the blocking path against MariaDB"
            blocking="$root/build-config-mysql-blocking"
            # Not vacuous: the MySQL integration suite must be there.
            count="$(ctest --test-dir "$blocking" -N -R '^integration:' | grep -c 'Test *#' || true)"
            ((count > 20)) || die "config mysql-blocking: only $count integration tests were found"
            DBPOOL_SERVERS="mysql" start_servers
            DBPOOL_SOAK_SECONDS="${DBPOOL_SOAK_SECONDS:-20}" \
                ctest --test-dir "$blocking" --output-on-failure --timeout 600 \
                -R '^(unit|integration|example|asio):'
            stop_servers
            ;;
        missing-driver)
            dir="$(mktemp -d "${TMPDIR:-/tmp}/dbpool-missing-driver.XXXXXX")"
            # pkg-config that sees no module at all: the MySQL client library
            # is "missing".
            if PKG_CONFIG_LIBDIR="$dir/none" cmake -S "$repo_root" -B "$dir/mysql" \
                -DDBPOOL_BUILD_TESTS=OFF -DDBPOOL_BUILD_EXAMPLES=OFF -DDBPOOL_BUILD_BENCHMARKS=OFF \
                >"$dir/mysql.log" 2>&1; then
                die "config missing-driver: configure passed with the MySQL client library missing"
            fi
            grep -q 'DBPOOL_WITH_MYSQL=OFF' "$dir/mysql.log" \
                || die "config missing-driver: the error does not say how to leave the driver out"
            PKG_CONFIG_LIBDIR="$dir/none" cmake -S "$repo_root" -B "$dir/mysql-off" -DDBPOOL_WITH_MYSQL=OFF \
                -DDBPOOL_BUILD_TESTS=OFF -DDBPOOL_BUILD_EXAMPLES=OFF -DDBPOOL_BUILD_BENCHMARKS=OFF \
                >"$dir/mysql-off.log" 2>&1 \
                || { tail -n 20 "$dir/mysql-off.log" >&2; die "config missing-driver: -DDBPOOL_WITH_MYSQL=OFF does not configure"; }
            if cmake -S "$repo_root" -B "$dir/pg" -DCMAKE_DISABLE_FIND_PACKAGE_PostgreSQL=ON \
                -DDBPOOL_BUILD_TESTS=OFF -DDBPOOL_BUILD_EXAMPLES=OFF -DDBPOOL_BUILD_BENCHMARKS=OFF \
                >"$dir/pg.log" 2>&1; then
                die "config missing-driver: configure passed with libpq missing"
            fi
            grep -q 'DBPOOL_WITH_POSTGRES=OFF' "$dir/pg.log" \
                || die "config missing-driver: the libpq error does not say how to leave the driver out"
            rm -rf "$dir"
            log "config missing-driver: a missing driver fails configure, and turning it off passes"
            ;;
        *) die "unknown configuration '$name'" ;;
    esac
done
log "configs passed: $*"
