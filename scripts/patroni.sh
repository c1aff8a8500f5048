#!/usr/bin/env bash
# A throwaway Patroni cluster on 127.0.0.1 for dbpool's failover tests,
# deployed the way Patroni is run in production: a single-member etcd as the
# DCS, three Patroni nodes (PostgreSQL from Debian, synchronous_mode) and
# HAProxy in front routing to the leader by Patroni's REST health check
# /primary, with the check intervals Patroni documents (inter 3s fall 3
# rise 2; no on-marked-down shutdown-sessions). Everything lives in one
# directory DIR given by the caller.
#
# Usage: scripts/patroni.sh COMMAND DIR
#
#   start DIR        start etcd, three Patroni nodes and HAProxy on free
#                    loopback ports, wait until the leader takes writes
#                    through HAProxy and a synchronous standby streams, and
#                    write DIR/env (export lines: DBPOOL_TEST_PG_* for the
#                    HAProxy address with the user, password and database
#                    of scripts/servers.sh, and DBPOOL_TEST_PATRONI_* for
#                    each node's PostgreSQL and REST ports)
#   stop DIR         stop everything started in DIR, then remove DIR
#   switchover DIR   planned switchover (Patroni's REST /switchover); returns
#                    when another node is the leader and takes writes
#   kill-leader DIR  SIGKILL the leader's postmaster; returns when another
#                    node is the leader and takes writes
#   leader DIR       print the PostgreSQL port of the current leader
#
# Every command is synchronous, bounded in time and exits non-zero on
# failure. Needs root (PostgreSQL and Patroni run as the postgres user) or
# the postgres user itself.
set -euo pipefail

# Close descriptors inherited from the caller (a test runner's pipes) so that
# the daemons started here do not hold them open. 255 is the script itself.
for fd_path in /proc/$$/fd/*; do
    fd="${fd_path##*/}"
    if ((fd > 2 && fd != 255)); then eval "exec ${fd}>&-" 2>/dev/null || true; fi
done
unset fd fd_path

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/server_control.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/server_control.sh"

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

# The same role, password and database as scripts/servers.sh.
readonly DB_USER=dbpool
readonly DB_PASSWORD=dbpool-secret
readonly DB_NAME=dbpool
readonly SUPERUSER_PASSWORD=dbpool-patroni-superuser
readonly REPLICATION_USER=replicator
readonly REPLICATION_PASSWORD=dbpool-patroni-replication
readonly HOST=127.0.0.1
readonly MARKER=.dbpool-patroni
readonly NODES=(node1 node2 node3)
# Seconds to wait for the cluster to come up, or for a new leader.
readonly READY_TIMEOUT="${DBPOOL_PATRONI_TIMEOUT:-90}"
readonly STOP_TIMEOUT=30

export PGCONNECT_TIMEOUT=3

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$self" >&2
    exit 2
}

# ---------------------------------------------------------------- helpers

# The prefix that runs a command as the postgres OS user (PostgreSQL refuses
# to run as root) by exec, without a process of its own in between.
run_as_pg=()
if ((EUID == 0)); then
    run_as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql)
fi
as_pg() {
    (cd / && exec "${run_as_pg[@]}" "$@")
}



# stop_pids NAME SIGNAL PID... : signal every PID, wait for all, SIGKILL the
# ones left after STOP_TIMEOUT.
stop_pids() {
    local name="$1" sig="$2" p
    shift 2
    for p in "$@"; do kill "-$sig" "$p" 2>/dev/null || true; done
    local deadline=$((SECONDS + STOP_TIMEOUT)) left
    while :; do
        left=()
        for p in "$@"; do pid_alive "$p" && left+=("$p"); done
        ((${#left[@]} == 0)) && return 0
        ((SECONDS >= deadline)) && break
        sleep 0.2
    done
    log "$name (pid ${left[*]}) still running after ${STOP_TIMEOUT}s, sending SIGKILL"
    for p in "${left[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}



show_logs() {
    local n
    show_log "$dir/etcd/etcd.log"
    for n in "${NODES[@]}"; do show_log "$dir/$n/patroni.log"; done
    show_log "$dir/haproxy/haproxy.log"
}

# ---------------------------------------------------------------- state



declare -a used_ports=()

# Per-node values are stored as NODE_<i>_<WHAT>; node_var I WHAT prints one.
node_var() {
    local v="NODE_$1_$2"
    printf '%s\n' "${!v}"
}


# ---------------------------------------------------------------- probes

# http_code URL [CURL_ARGS...] : print the HTTP status of URL (000 if none).
http_code() {
    local url="$1"
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" 2>/dev/null || true
}

# Index (1-3) of the node whose REST API answers /primary with 200, if
# exactly one does.
leader_index() {
    local i found=""
    for i in 1 2 3; do
        if [[ "$(http_code "http://$HOST:$(node_var "$i" REST_PORT)/primary")" == 200 ]]; then
            [[ -n "$found" ]] && return 1
            found="$i"
        fi
    done
    [[ -n "$found" ]] && printf '%s\n' "$found"
}

# psql as the postgres superuser over node I's socket.
node_sql() { # I SQL
    as_pg timeout 10 "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
        -h "$(node_var "$1" SOCK)" -p "$(node_var "$1" PG_PORT)" -U postgres -d postgres -c "$2"
}

node_writable() { # I
    [[ "$(node_sql "$1" 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" == t ]]
}

# The leader is known by its REST API and takes writes.
writable_leader() {
    local i
    i="$(leader_index)" || return 1
    node_writable "$i"
}

# A node other than I is the writable leader.
other_writable_leader() { # I
    local i
    i="$(leader_index)" || return 1
    [[ "$i" != "$1" ]] && node_writable "$i"
}

# The leader node I's Patroni sees all three members running and has
# recorded a synchronous standby in the DCS (Patroni fails over, or switches
# over, only to the synchronous standby it recorded there).
cluster_healthy() { # LEADER_INDEX
    curl -s --max-time 2 "http://$HOST:$(node_var "$1" REST_PORT)/cluster" 2>/dev/null \
        | /usr/bin/python3 -c '
import json, sys
members = json.load(sys.stdin)["members"]
ok = (len(members) == 3 and all(m.get("state") == "running" for m in members)
      and any(m.get("role") == "sync_standby" for m in members))
sys.exit(0 if ok else 1)'
}

# HAProxy's stats (CSV) list exactly one server UP in the primary backend,
# the leader's.
haproxy_routes_to() { # NODE_NAME
    local csv up
    csv="$(curl -s --max-time 2 "http://$HOST:$HAPROXY_STATS_PORT/stats;csv" 2>/dev/null)" || return 1
    up="$(awk -F, '$1 == "primary" && $2 ~ /^node/ && $18 == "UP" { print $2 }' <<<"$csv")"
    [[ "$up" == "$1" ]]
}

# A write through HAProxy as the test user succeeds.
write_through_haproxy() {
    PGPASSWORD="$DB_PASSWORD" timeout 10 "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
        -h "$HOST" -p "$HAPROXY_PORT" -U "$DB_USER" -d "$DB_NAME" \
        -c 'CREATE TEMP TABLE dbpool_probe (x int)' -c 'INSERT INTO dbpool_probe VALUES (1)'
}

# ---------------------------------------------------------------- start

start_etcd() {
    local d="$dir/etcd"
    mkdir -p "$d/data"
    chmod 0700 "$d/data"
    alloc_port ETCD_PORT
    alloc_port ETCD_PEER_PORT
    log "starting etcd on $HOST:$ETCD_PORT"
    setsid etcd --name dbpool-etcd --data-dir "$d/data" \
        --listen-client-urls "http://$HOST:$ETCD_PORT" \
        --advertise-client-urls "http://$HOST:$ETCD_PORT" \
        --listen-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
        --initial-cluster "dbpool-etcd=http://$HOST:$ETCD_PEER_PORT" \
        --initial-cluster-state new --log-outputs stderr \
        </dev/null >"$d/etcd.log" 2>&1 &
    state_set ETCD_PID "$!"
    wait_for "etcd on port $ETCD_PORT" 30 etcd_healthy \
        || { show_log "$d/etcd.log"; die "etcd did not start"; }
}

etcd_healthy() {
    [[ "$(curl -s --max-time 2 "http://$HOST:$ETCD_PORT/health" 2>/dev/null)" == *'"health":"true"'* ]]
}

write_patroni_config() { # I
    local i="$1" name="${NODES[$(($1 - 1))]}" nd="$dir/${NODES[$(($1 - 1))]}"
    cat >"$nd/patroni.yml" <<EOF
scope: $CLUSTER_SCOPE
namespace: /dbpool/
name: $name
log:
  level: INFO
  format: '%(asctime)s %(levelname)s: %(message)s'
restapi:
  listen: $HOST:$(node_var "$i" REST_PORT)
  connect_address: $HOST:$(node_var "$i" REST_PORT)
etcd3:
  hosts: $HOST:$ETCD_PORT
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 5
    primary_start_timeout: 0
    synchronous_mode: true
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 200
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 256MB
        hot_standby: 'on'
        fsync: 'off'
        full_page_writes: 'on'
        password_encryption: scram-sha-256
  initdb:
    - encoding: UTF8
    - locale: C
    - auth-local: trust
    - auth-host: scram-sha-256
  pg_hba:
    - local all all trust
    - local replication all trust
    - host replication $REPLICATION_USER $HOST/32 scram-sha-256
    - host all all $HOST/32 scram-sha-256
postgresql:
  listen: $HOST:$(node_var "$i" PG_PORT)
  connect_address: $HOST:$(node_var "$i" PG_PORT)
  data_dir: $nd/data
  bin_dir: $PG_BIN
  pgpass: $nd/pgpass
  # A replica's base backup must not wait for a spread checkpoint (minutes).
  basebackup:
    - checkpoint: fast
  authentication:
    superuser:
      username: postgres
      password: $SUPERUSER_PASSWORD
    replication:
      username: $REPLICATION_USER
      password: $REPLICATION_PASSWORD
    rewind:
      username: postgres
      password: $SUPERUSER_PASSWORD
  parameters:
    unix_socket_directories: '$(node_var "$i" SOCK)'
    logging_collector: 'off'
    log_line_prefix: '%m [%p] %q%u@%d '
watchdog:
  mode: 'off'
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
}

start_patroni_nodes() {
    local i nd
    for i in 1 2 3; do
        nd="$dir/${NODES[$((i - 1))]}"
        alloc_port "NODE_${i}_PG_PORT"
        alloc_port "NODE_${i}_REST_PORT"
        state_set "NODE_${i}_SOCK" "$nd"
        state_set "NODE_${i}_DATA" "$nd/data"
        mkdir -p "$nd"
        write_patroni_config "$i"
        chmod 0755 "$nd"
        ((EUID == 0)) && chown -R postgres: "$nd"
    done
    for i in 1 2 3; do
        nd="$dir/${NODES[$((i - 1))]}"
        log "starting Patroni ${NODES[$((i - 1))]}: PostgreSQL on $HOST:$(node_var "$i" PG_PORT), REST on $HOST:$(node_var "$i" REST_PORT)"
        # exec all the way down: $! is Patroni itself.
        (cd / && exec "${run_as_pg[@]}" setsid patroni "$nd/patroni.yml") \
            </dev/null >>"$nd/patroni.log" 2>&1 &
        state_set "NODE_${i}_PATRONI_PID" "$!"
    done
}

start_haproxy() {
    local d="$dir/haproxy" i
    mkdir -p "$d"
    alloc_port HAPROXY_PORT
    alloc_port HAPROXY_STATS_PORT
    {
        cat <<EOF
global
    maxconn 1000
    log stdout format raw local0 info

defaults
    mode tcp
    log global
    retries 2
    timeout client 30m
    timeout connect 4s
    timeout server 30m
    timeout check 5s

listen stats
    mode http
    bind $HOST:$HAPROXY_STATS_PORT
    stats enable
    stats uri /stats

# Patroni's documented HAProxy setup, less on-marked-down shutdown-sessions.
listen primary
    bind $HOST:$HAPROXY_PORT
    option httpchk OPTIONS /primary
    http-check expect status 200
    default-server inter 3s fall 3 rise 2
EOF
        for i in 1 2 3; do
            printf '    server %s %s:%s maxconn 500 check port %s\n' "${NODES[$((i - 1))]}" \
                "$HOST" "$(node_var "$i" PG_PORT)" "$(node_var "$i" REST_PORT)"
        done
    } >"$d/haproxy.cfg"
    haproxy -c -q -f "$d/haproxy.cfg" >"$d/check.log" 2>&1 \
        || { show_log "$d/check.log"; die "bad HAProxy configuration"; }
    log "starting HAProxy on $HOST:$HAPROXY_PORT (stats on $HOST:$HAPROXY_STATS_PORT)"
    setsid haproxy -db -f "$d/haproxy.cfg" </dev/null >"$d/haproxy.log" 2>&1 &
    state_set HAPROXY_PID "$!"
}

write_env() {
    local f="$dir/env" i
    {
        echo "# dbpool Patroni cluster in $dir (written by scripts/patroni.sh)"
        echo "export DBPOOL_TEST_PG_HOST=$HOST"
        echo "export DBPOOL_TEST_PG_PORT=$HAPROXY_PORT"
        echo "export DBPOOL_TEST_PG_USER=$DB_USER"
        echo "export DBPOOL_TEST_PG_PASSWORD=$DB_PASSWORD"
        echo "export DBPOOL_TEST_PG_DB=$DB_NAME"
        echo "export DBPOOL_TEST_PATRONI_HAPROXY_PORT=$HAPROXY_PORT"
        for i in 1 2 3; do
            echo "export DBPOOL_TEST_PATRONI_NODE${i}_PG_PORT=$(node_var "$i" PG_PORT)"
            echo "export DBPOOL_TEST_PATRONI_NODE${i}_REST_PORT=$(node_var "$i" REST_PORT)"
        done
        echo "export DBPOOL_TEST_PATRONI_DIR=\"$dir\""
        echo "export DBPOOL_TEST_PATRONI_CTL=\"bash $self\""
    } >"$f.tmp"
    chmod 0644 "$f.tmp"
    mv -f "$f.tmp" "$f"
}

cmd_start() {
    need_packages patroni python3-etcd etcd-server haproxy postgresql curl procps util-linux
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [[ -e "$dir/$MARKER" ]] && die "$dir already holds a cluster; run '$0 stop $dir' first"
    [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty; give an empty (e.g. mktemp -d) directory"
    : >"$dir/$MARKER"
    : >"$dir/state"
    # The postgres user must be able to traverse DIR.
    chmod 0755 "$dir"
    state_set PG_BIN "$(find_pg_bin)"
    state_set CLUSTER_SCOPE "dbpool-$(basename "$dir" | tr -c 'A-Za-z0-9\n' '-')"

    local t0=$SECONDS
    start_etcd
    start_patroni_nodes
    log "waiting for a Patroni leader (up to ${READY_TIMEOUT}s)"
    if ! wait_for "a writable Patroni leader" "$READY_TIMEOUT" writable_leader; then
        show_logs
        die "no Patroni leader"
    fi
    local leader
    leader="$(leader_index)"
    log "leader is ${NODES[$((leader - 1))]} after $((SECONDS - t0))s; creating role $DB_USER and database $DB_NAME"
    if ! node_sql "$leader" "CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASSWORD'" >/dev/null \
        || ! node_sql "$leader" "CREATE DATABASE $DB_NAME OWNER $DB_USER" >/dev/null; then
        show_logs
        die "could not create the $DB_USER role and database"
    fi
    start_haproxy
    log "waiting for a synchronous standby and for HAProxy to route to the leader"
    if ! wait_for "all members running with a synchronous standby" "$READY_TIMEOUT" \
        cluster_healthy "$leader" \
        || ! wait_for "HAProxy to mark only ${NODES[$((leader - 1))]} up" "$READY_TIMEOUT" \
            haproxy_routes_to "${NODES[$((leader - 1))]}" \
        || ! wait_for "a write through HAProxy" 30 write_through_haproxy; then
        show_logs
        die "the cluster did not become ready"
    fi
    write_env
    log "Patroni cluster ready in $((SECONDS - t0))s: leader ${NODES[$((leader - 1))]} (PostgreSQL $HOST:$(node_var "$leader" PG_PORT)), HAProxy $HOST:$HAPROXY_PORT; environment in $dir/env"
}

# ---------------------------------------------------------------- stop


cmd_stop() {
    if [[ ! -d "$dir" ]]; then
        log "$dir does not exist; nothing to stop"
        return 0
    fi
    dir="$(cd "$dir" && pwd)"
    if [[ -z "$(ls -A "$dir")" ]]; then
        rmdir -- "$dir"
        log "removed empty $dir"
        return 0
    fi
    [[ -e "$dir/$MARKER" ]] || die "$dir was not made by '$0 start' (no $MARKER); not touching it"
    # shellcheck disable=SC1091
    [[ -f "$dir/state" ]] && source "$dir/state"
    log "stopping the Patroni cluster in $dir"
    [[ -n "${HAPROXY_PID:-}" ]] && stop_pids haproxy TERM "$HAPROXY_PID"
    # Patroni stops its PostgreSQL (fast) when it gets SIGTERM.
    local pids=() i p
    for i in 1 2 3; do
        p="NODE_${i}_PATRONI_PID"
        [[ -n "${!p:-}" ]] && pids+=("${!p}")
    done
    ((${#pids[@]} > 0)) && stop_pids patroni TERM "${pids[@]}"
    [[ -n "${ETCD_PID:-}" ]] && stop_pids etcd TERM "$ETCD_PID"
    # Last resort: anything still running from this directory (postmasters
    # left by a killed Patroni).
    local leftovers
    leftovers="$(pids_in_dir | sort -u | tr '\n' ' ')"
    if [[ -n "${leftovers// /}" ]]; then
        log "killing leftover processes from $dir: $leftovers"
        # shellcheck disable=SC2086
        stop_pids leftovers KILL $leftovers
    fi
    rm -rf -- "$dir"
    log "stopped the Patroni cluster and removed $dir"
}

# ---------------------------------------------------------------- topology changes

current_leader() {
    local i
    wait_for "a Patroni leader" 30 writable_leader || die "no writable Patroni leader"
    i="$(leader_index)" || die "no single Patroni leader"
    printf '%s\n' "$i"
}

# The current leader, once the cluster can fail over (a synchronous standby
# recorded, every member running).
healthy_leader() {
    local i
    i="$(current_leader)"
    wait_for "all members running with a synchronous standby" "$READY_TIMEOUT" cluster_healthy "$i" \
        || { show_logs; die "the cluster cannot fail over"; }
    printf '%s\n' "$i"
}

await_new_leader() { # OLD_INDEX T0_SECONDS WHAT
    local old="$1" t0="$2" what="$3" i
    if ! wait_for "a new writable leader" "$READY_TIMEOUT" other_writable_leader "$old"; then
        show_logs
        die "no new leader after the $what"
    fi
    i="$(leader_index)"
    log "$what: ${NODES[$((i - 1))]} (PostgreSQL $HOST:$(node_var "$i" PG_PORT)) is the writable leader after $((SECONDS - t0))s"
}

cmd_switchover() {
    local old t0 code
    old="$(healthy_leader)"
    t0=$SECONDS
    log "switchover: asking Patroni to move the leader away from ${NODES[$((old - 1))]}"
    # Synchronous: Patroni answers once the switchover is done (or failed).
    code="$(curl -s -o "$dir/switchover.out" -w '%{http_code}' --max-time "$READY_TIMEOUT" \
        -X POST -H 'Content-Type: application/json' \
        -d "{\"leader\": \"${NODES[$((old - 1))]}\"}" \
        "http://$HOST:$(node_var "$old" REST_PORT)/switchover" 2>/dev/null || true)"
    if [[ "$code" != 200 ]]; then
        log "Patroni answered $code: $(cat "$dir/switchover.out" 2>/dev/null || true)"
        show_logs
        die "switchover failed"
    fi
    await_new_leader "$old" "$t0" switchover
}

cmd_kill_leader() {
    local old t0 pid
    old="$(healthy_leader)"
    pid="$(read_pid_file "$(node_var "$old" DATA)/postmaster.pid")"
    [[ -n "$pid" ]] || die "no postmaster.pid for ${NODES[$((old - 1))]}"
    log "kill-leader: SIGKILL to the postmaster (pid $pid) of ${NODES[$((old - 1))]}"
    t0=$SECONDS
    kill -KILL "$pid"
    await_new_leader "$old" "$t0" kill-leader
}

cmd_leader() {
    local i
    i="$(current_leader)"
    node_var "$i" PG_PORT
}

# ---------------------------------------------------------------- main

(($# == 2)) || usage
command="$1"
dir="$2"
[[ -n "$dir" && "$dir" != / ]] || die "refusing to use '$dir' as the cluster directory"
if [[ "$command" != start && "$command" != stop ]]; then
    [[ -d "$dir" ]] || die "$dir does not exist"
    dir="$(cd "$dir" && pwd)"
    load_state
fi

case "$command" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    switchover) cmd_switchover ;;
    kill-leader) cmd_kill_leader ;;
    leader) cmd_leader ;;
    *) usage ;;
esac
