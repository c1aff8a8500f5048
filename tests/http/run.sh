#!/usr/bin/env bash
# The test of examples/asio_http_server under a real HTTP load generator.
#
# Usage: tests/http/run.sh SERVER_BINARY
#
# Needs wrk and the test servers' environment (DBPOOL_TEST_PG_*: ctest gets
# it from scripts/test.sh). Starts the server in async mode (one thread),
# checks that malformed requests get 400 and a closed connection, then runs
# wrk -t2 -c64 for 3 s twice (no delay, then a 1 ms server-side delay, so
# that the 64 connections queue for the pool's 8), then once against the
# thread-per-request mode. check.lua checks every response (status 200,
# body "N*2=V" with V == 2N for an N that thread asked). A run fails on any
# bad response, any socket error or non-2xx answer, fewer than 100
# responses, or a server that does not stop cleanly on SIGTERM.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=server.sh
source "$here/server.sh"

server="${1:?usage: tests/http/run.sh SERVER_BINARY}"
min_responses=100

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
progress() {
    echo "[http] $*"
}

command -v wrk >/dev/null || fail "wrk is not installed (Debian: wrk; scripts/deps.sh installs it)"
[[ -n "${DBPOOL_TEST_PG_PORT:-}" ]] \
    || fail "DBPOOL_TEST_PG_PORT is not set: start the test servers (scripts/servers.sh)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/dbpool-http.XXXXXX")"
trap 'http_server_stop >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

# A request that is not HTTP: 400, then the server closes the connection
# (cat returns at the end of the stream).
check_bad_request() {
    local answer
    exec 3<>"/dev/tcp/127.0.0.1/$http_server_port"
    printf 'this is not http\r\n\r\n' >&3
    answer="$(timeout 10 cat <&3 || echo "(no end of stream within 10 s)")"
    exec 3<&-
    [[ "$answer" == "HTTP/1.1 400 "* && "$answer" != *"(no end of stream"* ]] \
        || fail "a malformed request got: $answer"
    progress "a malformed request: 400, connection closed"
}

# run_wrk LABEL SUFFIX : 3 s of wrk against /double/N SUFFIX; checks it.
run_wrk() {
    local label="$1" suffix="$2" out="$tmp/wrk.out" check responses ok bad errors
    progress "$label: wrk -t2 -c64 -d3s against http://127.0.0.1:$http_server_port/double/N$suffix"
    wrk -t2 -c64 -d3s --timeout 10s --latency -s "$here/check.lua" \
        "http://127.0.0.1:$http_server_port/double/" -- "$suffix" >"$out" 2>&1 \
        || { cat "$out"; fail "$label: wrk failed"; }
    sed 's/^/    /' "$out"
    check="$(grep '^check: responses=' "$out")" || fail "$label: no check line from check.lua"
    read -r responses ok bad errors < <(sed -E \
        's/^check: responses=([0-9]+) ok=([0-9]+) bad=([0-9]+) errors=([0-9]+)$/\1 \2 \3 \4/' \
        <<<"$check")
    ! grep -q 'Socket errors' "$out" || fail "$label: wrk saw socket errors"
    ! grep -q 'Non-2xx' "$out" || fail "$label: wrk saw non-2xx responses"
    ((bad == 0)) || fail "$label: $bad bad responses"
    ((errors == 0)) || fail "$label: $errors errors"
    ((ok == responses)) || fail "$label: $ok good responses of $responses"
    ((ok >= min_responses)) || fail "$label: only $ok responses (want >= $min_responses)"
    progress "$label: $ok responses, all checked"
}

# stop_checked NAME : stops the server; fails, with its output, unless it
# exited 0.
stop_checked() {
    local status=0
    http_server_stop || status=$?
    if ((status != 0)); then
        sed "s/^/    /" "$tmp/server.out"
        fail "the $1 server did not stop cleanly (status $status)"
    fi
}

progress "starting $server --mode async"
http_server_start "$tmp" "$server" -- --mode async || fail "the async server did not start"
check_bad_request
run_wrk "async" ""
run_wrk "async, 1 ms server-side delay" "?sleep_ms=1"
stop_checked async
progress "async server stopped cleanly"

progress "starting $server --mode threads --threads 64"
http_server_start "$tmp" "$server" -- --mode threads --threads 64 \
    || fail "the threaded server did not start"
check_bad_request
run_wrk "threads" ""
stop_checked threaded
progress "threaded server stopped cleanly"
progress "passed"
