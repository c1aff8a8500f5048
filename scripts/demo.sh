#!/usr/bin/env bash
# Build dbpool and run the demos against throwaway servers on 127.0.0.1
# (PostgreSQL primary + streaming replica, MariaDB):
#   1. examples/pg_demo            many threads on few connections, pooled vs per-request
#                                  (arguments go to it)
#   2. examples/mysql_quickstart   if built
#   3. examples/pg_server_loop     32 workers, 2000 requests, 4 connections
#   4. examples/pg_serverless_handler  a lazily built global pool reused across invocations
#   5. examples/pg_read_write_split    writes on the primary, reads on the replica
#   6. examples/pg_failover_demo   stops the primary and promotes the replica: always last
#
# It installs only what the demo needs (scripts/deps.sh demo) and builds only
# the libraries and the examples: not the test suite, not the benchmarks.
#
# Usage: scripts/demo.sh [DEMO_ARGS...]
# Environment: BUILD_DIR (default: <repo>/build), DBPOOL_CMAKE_ARGS
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

demo_started=$SECONDS
log "step 1/3: installing dependencies"
bash "$repo_root/scripts/deps.sh" demo

log "step 2/3: configuring and building the libraries and examples in $build_dir"
DBPOOL_BUILD_PARTS=examples build_project

examples="$build_dir/examples"
for e in pg_demo pg_server_loop pg_serverless_handler pg_read_write_split pg_failover_demo; do
    [[ -x "$examples/$e" ]] || die "$examples/$e was not built"
done

log "step 3/3: starting PostgreSQL (primary + replica) and MariaDB, running the examples"
DBPOOL_SERVERS="pg replica mysql" start_servers

header() {
    printf '\n==== %s ====\n' "$*"
}

failed=()
run() {
    local name="$1" status=0
    shift
    "$@" || status=$?
    log "$name exited with status $status"
    ((status == 0)) || failed+=("$name")
}

header "pg_demo: 64 threads on 8 connections, pooled vs connect per request"
run pg_demo "$examples/pg_demo" "$@"

if [[ -x "$examples/mysql_quickstart" ]]; then
    header "mysql_quickstart"
    run mysql_quickstart "$examples/mysql_quickstart" \
        "mysql://$DBPOOL_TEST_MY_USER:$DBPOOL_TEST_MY_PASSWORD@127.0.0.1:$DBPOOL_TEST_MY_PORT/$DBPOOL_TEST_MY_DB"
fi

header "pg_server_loop: 32 workers, 2000 requests, 4 connections"
run pg_server_loop "$examples/pg_server_loop"

header "pg_serverless_handler: one lazily built pool across 100 invocations"
run pg_serverless_handler "$examples/pg_serverless_handler"

header "pg_read_write_split: writes on the primary, reads on the replica"
run pg_read_write_split "$examples/pg_read_write_split"

# Last: it stops the primary and promotes the replica.
header "pg_failover_demo: primary stopped and replica promoted under 4 writers"
run pg_failover_demo "$examples/pg_failover_demo"

if ((${#failed[@]} > 0)); then
    log "failed: ${failed[*]}"
    exit 1
fi
log "all demos passed in $((SECONDS - demo_started)) s (packages, build and demos)"
