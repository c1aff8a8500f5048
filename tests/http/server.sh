# shellcheck shell=bash
# Start and stop examples/asio_http_server from a script (tests/http/run.sh,
# scripts/bench_http.sh). Source this file; do not run it.
#
#   http_server_start DIR BINARY [PREFIX...] -- [FLAGS...]
#       runs "PREFIX... BINARY --port 0 FLAGS..." in the background (PREFIX:
#       e.g. taskset -c 0), its output in DIR/server.out, and waits (30 s at
#       most) for its "listening on 127.0.0.1:P" line; sets http_server_pid
#       and http_server_port. Returns non-zero (with the output) on failure.
#   http_server_stop
#       SIGTERM, then waits for it; returns its exit status (0: clean).

http_server_pid=""
http_server_port=""

http_server_start() {
    local dir="$1" binary="$2" prefix=() i
    shift 2
    while (($# > 0)) && [[ "$1" != -- ]]; do
        prefix+=("$1")
        shift
    done
    (($# > 0)) && shift
    : >"$dir/server.out"  # truncated now: an earlier server's line must not be read
    "${prefix[@]}" "$binary" --port 0 "$@" >>"$dir/server.out" 2>&1 &
    http_server_pid=$!
    http_server_port=""
    for ((i = 0; i < 300; i++)); do
        http_server_port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' \
            "$dir/server.out")"
        [[ -n "$http_server_port" ]] && return 0
        if ! kill -0 "$http_server_pid" 2>/dev/null; then
            echo "the server exited before listening:" >&2
            cat "$dir/server.out" >&2
            http_server_pid=""
            return 1
        fi
        sleep 0.1
    done
    echo "the server did not listen within 30 s:" >&2
    cat "$dir/server.out" >&2
    return 1
}

http_server_stop() {
    local status=0
    if [[ -n "$http_server_pid" ]]; then
        kill -TERM "$http_server_pid" 2>/dev/null || true
        wait "$http_server_pid" || status=$?
        http_server_pid=""
    fi
    return "$status"
}
