#!/usr/bin/env bash
# Builds dbpool's source tree on its own, installs it into a fresh prefix and
# builds outside consumers against that prefix only: one with
# find_package(dbpool CONFIG) (CMakeLists.txt here), dbpool's examples/ on
# their own (they double as a consumer template), and one with plain
# `pkg-config --cflags --libs dbpool-postgres`. They run against the test
# server (DBPOOL_TEST_PG_*; DBPOOL_TEST_MY_* too when dbpool::mysql is
# installed). It also checks that the components are independent: with no
# MySQL client library visible to pkg-config, COMPONENTS postgres and the
# dbpool-postgres module still resolve, and the mysql ones fail.
# Exits non-zero on the first failure, printing the failing step's output.
#
# Usage: run.sh DBPOOL_SOURCE_DIR WORK_DIR [static|shared ...]   (default: static shared)
set -euo pipefail
src="$(cd "$1" && pwd)"
work="$2"
shift 2
kinds=("$@")
((${#kinds[@]})) || kinds=(static shared)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jobs="$(nproc)"

: "${DBPOOL_TEST_PG_PORT:?is not set: start the servers (scripts/servers.sh) and source their env}"

# step LOG COMMAND... : runs COMMAND with its output in LOG; on failure shows
# the end of LOG and exits.
step() {
    local log="$1"
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "install test: failed: $*" >&2
        tail -n 60 "$log" >&2
        exit 1
    fi
}

fail() {
    echo "install test: $*" >&2
    exit 1
}

for kind in "${kinds[@]}"; do
    case "$kind" in
        static) shared=OFF ;;
        shared) shared=ON ;;
        *) fail "unknown kind '$kind' (static or shared)" ;;
    esac
    dir="$work/$kind"
    rm -rf "$dir"
    mkdir -p "$dir"
    build="$dir/dbpool-build"
    prefix="$dir/prefix"
    echo "== $kind: build and install dbpool into $prefix"
    # Warnings are the main build's business (-Werror there), not this test's.
    step "$dir/configure.log" cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
        -DBUILD_SHARED_LIBS="$shared" -DDBPOOL_BUILD_TESTS=OFF -DDBPOOL_BUILD_EXAMPLES=OFF \
        -DDBPOOL_BUILD_BENCHMARKS=OFF -DDBPOOL_WERROR=OFF
    step "$dir/build.log" cmake --build "$build" -j"$jobs"
    # Installed somewhere else than the configured prefix: the package and
    # dbpool.pc must not depend on where the build thought it would go.
    step "$dir/install.log" cmake --install "$build" --prefix "$prefix"

    # What a package of it would ship.
    cfgdir="$(dirname "$(find "$prefix" -name dbpoolConfig.cmake -print -quit)")"
    pc="$(find "$prefix" -name dbpool.pc -print -quit)"
    [[ -n "$pc" && "$cfgdir" != . ]] || fail "$kind: no dbpoolConfig.cmake or dbpool.pc under $prefix"
    pcdir="$(dirname "$pc")"
    for f in dbpoolConfig.cmake dbpoolConfigVersion.cmake dbpool_coreTargets.cmake \
        dbpool_postgresTargets.cmake; do
        [[ -f "$cfgdir/$f" ]] || fail "$kind: $cfgdir/$f is missing"
    done
    for m in dbpool-core dbpool-postgres; do
        [[ -f "$pcdir/$m.pc" ]] || fail "$kind: $pcdir/$m.pc is missing"
    done
    for h in dbpool.h postgres.h pool.h internal/basic_pool.h; do
        [[ -f "$prefix/include/dbpool/$h" ]] || fail "$kind: include/dbpool/$h is not installed"
    done
    if grep -rlF -e "$src" -e "$build" "$cfgdir" "$pcdir"; then
        fail "$kind: installed files above hold absolute paths into the source or build tree"
    fi
    libdir="$(dirname "$(dirname "$pc")")"
    if [[ "$shared" == ON ]]; then
        for lib in dbpool_core dbpool_postgres; do
            [[ -f "$libdir/lib$lib.so.0.1.0" && -L "$libdir/lib$lib.so.0" && -L "$libdir/lib$lib.so" ]] ||
                fail "$kind: lib$lib.so.0.1.0 with its .so.0 and .so links is not in $libdir"
        done
    else
        [[ -f "$libdir/libdbpool_core.a" && -f "$libdir/libdbpool_postgres.a" ]] ||
            fail "$kind: static libraries are not in $libdir"
    fi

    echo "== $kind: find_package(dbpool) consumer"
    consumer="$dir/consumer-build"
    step "$dir/consumer-configure.log" cmake -S "$here" -B "$consumer" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
    step "$dir/consumer-build.log" cmake --build "$consumer" -j"$jobs"
    "$consumer/pg_consumer" || fail "$kind: pg_consumer failed"
    if [[ -x "$consumer/mysql_consumer" ]]; then
        "$consumer/mysql_consumer" || fail "$kind: mysql_consumer failed"
    fi

    echo "== $kind: examples/ built on their own against the installed dbpool"
    examples="$dir/examples-build"
    step "$dir/examples-configure.log" cmake -S "$src/examples" -B "$examples" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
    step "$dir/examples-build.log" cmake --build "$examples" -j"$jobs"
    "$examples/pg_quickstart" \
        "postgresql://$DBPOOL_TEST_PG_USER:$DBPOOL_TEST_PG_PASSWORD@127.0.0.1:$DBPOOL_TEST_PG_PORT/$DBPOOL_TEST_PG_DB" \
        >"$dir/examples-run.log" 2>&1 || fail "$kind: examples' pg_quickstart failed: $(tail -5 "$dir/examples-run.log")"

    echo "== $kind: pkg-config consumer"
    PKG_CONFIG_PATH="$pcdir"
    export PKG_CONFIG_PATH
    flags="$(pkg-config --cflags --libs dbpool-postgres)" ||
        fail "$kind: pkg-config cannot resolve dbpool-postgres"
    pkg-config --exists dbpool || fail "$kind: pkg-config cannot resolve dbpool"
    # shellcheck disable=SC2086  # the flags are words
    step "$dir/pkgconfig-build.log" "${CXX:-c++}" -std=c++17 -O1 -o "$dir/pkgconfig_consumer" \
        "$here/pkgconfig_consumer.cc" $flags
    if [[ "$shared" == ON ]]; then
        LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$dir/pkgconfig_consumer" ||
            fail "$kind: pkgconfig_consumer failed"
        deps="$(ldd "$dir/pkgconfig_consumer")"  # not piped into grep -q: SIGPIPE + pipefail
        [[ "$deps" == *"libdbpool_postgres.so.0 "* ]] ||
            fail "$kind: pkgconfig_consumer is not linked against libdbpool_postgres.so.0"
    else
        "$dir/pkgconfig_consumer" || fail "$kind: pkgconfig_consumer failed"
    fi
    unset PKG_CONFIG_PATH

    if [[ -f "$pcdir/dbpool-mysql.pc" ]]; then
        echo "== $kind: the postgres component without the MySQL client library"
        # Every pkg-config module of the system but the MySQL client's.
        nomy="$dir/pkgconfig-without-mysql"
        mkdir -p "$nomy"
        for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
            for f in "$d"/*.pc; do
                [[ -e "$f" ]] || continue
                case "$(basename "$f")" in
                    libmariadb.pc | mariadb.pc | mysqlclient.pc) ;;
                    *) ln -sf "$f" "$nomy/" ;;
                esac
            done
        done
        PKG_CONFIG_LIBDIR="$nomy" PKG_CONFIG_PATH="$pcdir" pkg-config --exists dbpool-postgres ||
            fail "$kind: dbpool-postgres needs the MySQL client library"
        if PKG_CONFIG_LIBDIR="$nomy" PKG_CONFIG_PATH="$pcdir" pkg-config --exists dbpool-mysql; then
            fail "$kind: dbpool-mysql resolves without its client library (the check proves nothing)"
        fi
        step "$dir/nomysql-configure.log" env PKG_CONFIG_LIBDIR="$nomy" cmake -S "$here" \
            -B "$dir/nomysql-build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
            -DDBPOOL_CONSUMER_COMPONENTS=postgres
        if env PKG_CONFIG_LIBDIR="$nomy" cmake -S "$here" -B "$dir/nomysql-build-mysql" \
            -DCMAKE_PREFIX_PATH="$prefix" -DDBPOOL_CONSUMER_COMPONENTS=mysql \
            >"$dir/nomysql-mysql.log" 2>&1; then
            fail "$kind: COMPONENTS mysql was found without its client library"
        fi
    fi
done
echo "install test: ${kinds[*]} installs work"
