#!/usr/bin/env bash
# Build dbpool and run its whole test suite against throwaway PostgreSQL,
# streaming replica, MariaDB and PgBouncer servers on 127.0.0.1.
#
# Usage: scripts/test.sh [CTEST_ARGS...]     e.g. scripts/test.sh -R pool -V
# Environment: BUILD_DIR (default: <repo>/build), DBPOOL_SERVERS (default: all),
#              DBPOOL_CMAKE_ARGS (extra cmake configure arguments)
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

log "step 1/4: installing dependencies"
bash "$repo_root/scripts/deps.sh"

log "step 2/4: configuring and building in $build_dir"
build_project

log "step 3/4: starting test servers"
start_servers

log "step 4/4: running ctest"
status=0
ctest --test-dir "$build_dir" --output-on-failure --timeout 600 "$@" || status=$?
if ((status == 0)); then
    log "all tests passed"
else
    log "ctest failed with status $status"
fi
exit "$status"
