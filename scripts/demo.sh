#!/usr/bin/env bash
# Build dbpool and run the PostgreSQL demo (examples/pg_demo) against a
# throwaway PostgreSQL server on 127.0.0.1. Arguments go to the demo.
#
# Usage: scripts/demo.sh [DEMO_ARGS...]
# Environment: BUILD_DIR (default: <repo>/build), DBPOOL_CMAKE_ARGS
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

log "step 1/3: installing dependencies"
bash "$repo_root/scripts/deps.sh"

log "step 2/3: configuring and building in $build_dir"
build_project

demo="$build_dir/examples/pg_demo"
[[ -x "$demo" ]] || die "$demo was not built"

log "step 3/3: starting PostgreSQL and running $demo"
DBPOOL_SERVERS=pg start_servers

status=0
"$demo" "$@" || status=$?
log "pg_demo exited with status $status"
exit "$status"
