#!/usr/bin/env bash
# Throwaway database servers on 127.0.0.1 for dbpool's tests, demo and
# benchmarks. Everything lives in one directory DIR given by the caller.
#
# Usage: scripts/servers.sh COMMAND DIR
#
#   start DIR       start the servers listed in $DBPOOL_SERVERS (default
#                   "pg replica mysql pgbouncer") on free loopback ports and
#                   write DIR/env (export lines for the DBPOOL_TEST_* variables);
#                   with "tls" in the list, PostgreSQL and MariaDB also serve
#                   TLS with a CA and certificate generated in DIR/tls (the
#                   certificate names "localhost" only, not 127.0.0.1)
#   stop DIR        stop everything started in DIR, then remove DIR
#   status DIR      print what runs in DIR
#   pg-restart DIR  restart the PostgreSQL primary (fast), same port
#   pg-stop DIR     stop the PostgreSQL primary (immediate)
#   pg-start DIR    start the PostgreSQL primary again, same port
#   pg-promote DIR  promote the streaming replica to a primary
#   my-restart DIR  restart MariaDB, same port
#
# Every command is synchronous and exits non-zero on failure.
set -euo pipefail

# Close descriptors inherited from the caller (a test runner's pipes, a
# sanitizer's symbolizer) so that the servers started here do not hold them
# open after the caller exits. 255 is the script itself.
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

readonly DB_USER=dbpool
readonly DB_PASSWORD=dbpool-secret
readonly DB_NAME=dbpool
readonly HOST=127.0.0.1
readonly MARKER=.dbpool-servers
# Seconds to wait for a server to become ready or to stop.
readonly READY_TIMEOUT="${DBPOOL_SERVERS_TIMEOUT:-60}"
readonly STOP_TIMEOUT=30

export PGCONNECT_TIMEOUT=5

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$self" >&2
    exit 2
}

# ---------------------------------------------------------------- helpers

# Run a command as the postgres OS user (postgres refuses to run as root).
as_pg() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}



# wait_pid_exit PID TIMEOUT : wait until PID is gone; 1 on timeout.
wait_pid_exit() {
    local pid="$1" timeout="$2"
    local deadline=$((SECONDS + timeout))
    while pid_alive "$pid"; do
        ((SECONDS >= deadline)) && return 1
        sleep 0.2
    done
    return 0
}

# kill_pid NAME PID SIGNAL : send SIGNAL, wait, escalate to SIGKILL.
kill_pid() {
    local name="$1" pid="$2" sig="$3"
    pid_alive "$pid" || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    if ! wait_pid_exit "$pid" "$STOP_TIMEOUT"; then
        log "$name (pid $pid) did not exit after ${STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_pid_exit "$pid" 10 || log "$name (pid $pid) survived SIGKILL"
    fi
}





find_mariadbd() {
    local c
    for c in mariadbd /usr/sbin/mariadbd mysqld /usr/sbin/mysqld; do
        if command -v "$c" >/dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
    done
    die "mariadbd not found"
}

# ---------------------------------------------------------------- state



started() {
    [[ " ${SERVERS_STARTED:-} " == *" $1 "* ]]
}

mark_started() {
    state_set SERVERS_STARTED "${SERVERS_STARTED:+$SERVERS_STARTED }$1"
}

# ---------------------------------------------------------------- PostgreSQL

pg_sql_socket() { # PORT DB SQL...  (as the postgres superuser over the socket)
    local port="$1" db="$2"
    shift 2
    as_pg timeout 60 "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
        -h "$PG_SOCK" -p "$port" -U postgres -d "$db" "$@"
}

pg_sql_tcp() { # PORT SQL  (as dbpool over TCP with the password)
    PGPASSWORD="$DB_PASSWORD" timeout 30 "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
        -h "$HOST" -p "$1" -U "$DB_USER" -d "$DB_NAME" -c "$2"
}

pg_ready() { # PORT
    "$PG_BIN/pg_isready" -q -h "$HOST" -p "$1" -t 2
}

pg_ctl_start() { # DATA LOG PORT NAME
    local data="$1" logf="$2" port="$3" name="$4"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$logf" -w -t "$READY_TIMEOUT" start >/dev/null; then
        log "failed to start $name"
        show_log "$logf"
        return 1
    fi
    if ! wait_for "$name on port $port" "$READY_TIMEOUT" pg_ready "$port"; then
        show_log "$logf"
        return 1
    fi
}

pg_ctl_stop() { # DATA MODE NAME
    local data="$1" mode="$2" name="$3" pid
    [[ -f "$data/postmaster.pid" ]] || return 0
    pid="$(read_pid_file "$data/postmaster.pid")"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$data" -m "$mode" -w -t "$STOP_TIMEOUT" stop >/dev/null 2>&1; then
        if pid_alive "$pid"; then
            log "pg_ctl could not stop $name, killing pid $pid"
            kill_pid "$name" "$pid" QUIT
        fi
    fi
    # Backends exit by themselves once the postmaster is gone; wait briefly.
    if [[ -n "$pid" ]]; then
        wait_pid_exit "$pid" 10 || true
    fi
}

# A throwaway CA, a server certificate it signs for "localhost" (and not for
# 127.0.0.1, so that connecting by address fails the host name check), and
# a second CA that signs nothing, in DIR/tls.
make_tls_certs() {
    local t="$dir/tls"
    mkdir -p "$t"
    log "generating a test CA and server certificate in $t"
    (
        cd "$t"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dbpool test CA" \
            -keyout ca.key -out ca.crt
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dbpool other CA" \
            -keyout other-ca.key -out other-ca.crt
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout server.key -out server.csr
        printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -days 2 -extfile server.ext -out server.crt
    ) >"$t/openssl.log" 2>&1 || { show_log "$t/openssl.log"; die "openssl failed"; }
    chmod 0755 "$t"
    chmod 0644 "$t"/*.crt
    chmod 0600 "$t"/*.key
    # PostgreSQL wants its key owned by the server's user.
    if ((EUID == 0)); then chown postgres: "$t/server.key"; fi
    mark_started tls
}

start_pg_primary() {
    local pgdir="$dir/pg"
    state_set PG_BIN "$(find_pg_bin)"
    state_set PG_SOCK "$pgdir/sock"
    state_set PG_DATA "$pgdir/primary"
    state_set PG_LOG "$pgdir/primary.log"
    alloc_port PG_PORT

    mkdir -p "$PG_SOCK"
    if ((EUID == 0)); then
        chown -R postgres: "$pgdir"
    fi
    # Data directories stay 0700; the parent only needs to be traversable so
    # that other users can reach the socket directory.
    chmod 0755 "$pgdir"

    log "initializing PostgreSQL ($PG_BIN) in $PG_DATA"
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 -N >"$pgdir/initdb.log" 2>&1; then
        show_log "$pgdir/initdb.log"
        die "initdb failed"
    fi

    cat >>"$PG_DATA/postgresql.conf" <<EOF

# ---- dbpool test server ----
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
password_encryption = 'scram-sha-256'
wal_level = replica
max_wal_senders = 10
wal_keep_size = '256MB'
hot_standby = on
fsync = off
synchronous_commit = off
full_page_writes = off
log_destination = 'stderr'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_connections = off
EOF
    if started tls; then
        cat >>"$PG_DATA/postgresql.conf" <<EOF
ssl = on
ssl_cert_file = '$dir/tls/server.crt'
ssl_key_file = '$dir/tls/server.key'
EOF
    fi
    cat >"$PG_DATA/pg_hba.conf" <<EOF
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
host    replication  all   127.0.0.1/32   trust
EOF
    if ((EUID == 0)); then
        chown postgres: "$PG_DATA/postgresql.conf" "$PG_DATA/pg_hba.conf"
    fi

    pg_ctl_start "$PG_DATA" "$PG_LOG" "$PG_PORT" "PostgreSQL primary" \
        || die "PostgreSQL primary did not start"
    mark_started pg

    if ! pg_sql_socket "$PG_PORT" postgres -f - <<EOF >/dev/null; then
CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASSWORD';
CREATE DATABASE $DB_NAME OWNER $DB_USER;
\\connect $DB_NAME $DB_USER
CREATE TABLE kv (k int PRIMARY KEY, v text);
INSERT INTO kv SELECT g, 'value-' || g FROM generate_series(1, 1000) AS g;
ANALYZE kv;
EOF
        show_log "$PG_LOG"
        die "could not create the dbpool role, database and table"
    fi
    if [[ "$(pg_sql_tcp "$PG_PORT" 'SELECT count(*) FROM kv' 2>&1)" != 1000 ]]; then
        pg_sql_tcp "$PG_PORT" 'SELECT 1' >&2 || true
        show_log "$PG_LOG"
        die "cannot log in to the PostgreSQL primary as $DB_USER over TCP"
    fi
    log "started PostgreSQL primary on $HOST:$PG_PORT (log: $PG_LOG)"
}

replica_caught_up() { # TARGET_LSN
    local r
    r="$(pg_sql_tcp "$REPLICA_PORT" \
        "SELECT pg_is_in_recovery() AND pg_last_wal_replay_lsn() >= '$1'::pg_lsn" 2>/dev/null)" \
        || return 1
    [[ "$r" == t ]]
}

start_pg_replica() {
    local pgdir="$dir/pg"
    state_set REPLICA_DATA "$pgdir/replica"
    state_set REPLICA_LOG "$pgdir/replica.log"
    alloc_port REPLICA_PORT

    log "taking base backup of the primary into $REPLICA_DATA"
    if ! as_pg "$PG_BIN/pg_basebackup" -h "$HOST" -p "$PG_PORT" -U postgres \
        -D "$REPLICA_DATA" -R -X stream -c fast -N >"$pgdir/basebackup.log" 2>&1; then
        show_log "$pgdir/basebackup.log"
        show_log "$PG_LOG"
        die "pg_basebackup failed"
    fi
    cat >>"$REPLICA_DATA/postgresql.conf" <<EOF

# ---- dbpool test replica ----
port = $REPLICA_PORT
hot_standby = on
EOF

    pg_ctl_start "$REPLICA_DATA" "$REPLICA_LOG" "$REPLICA_PORT" "PostgreSQL replica" \
        || die "PostgreSQL replica did not start"
    mark_started replica

    local lsn
    lsn="$(pg_sql_tcp "$PG_PORT" 'SELECT pg_current_wal_lsn()')" \
        || die "cannot read the primary's WAL position"
    if ! wait_for "the replica to replay up to $lsn" "$READY_TIMEOUT" replica_caught_up "$lsn"; then
        show_log "$REPLICA_LOG"
        die "PostgreSQL replica is not streaming from the primary"
    fi
    log "started PostgreSQL replica on $HOST:$REPLICA_PORT (log: $REPLICA_LOG)"
}

cmd_pg_stop() {
    started pg || die "no PostgreSQL primary in $dir"
    log "stopping PostgreSQL primary (immediate) on $HOST:$PG_PORT"
    pg_ctl_stop "$PG_DATA" immediate "PostgreSQL primary"
    if pg_ready "$PG_PORT"; then
        die "PostgreSQL primary still answers on port $PG_PORT"
    fi
}

cmd_pg_start() {
    started pg || die "no PostgreSQL primary in $dir"
    if pg_ready "$PG_PORT"; then
        log "PostgreSQL primary already running on $HOST:$PG_PORT"
        return 0
    fi
    # An immediate stop may leave a stale pid file behind.
    pg_ctl_start "$PG_DATA" "$PG_LOG" "$PG_PORT" "PostgreSQL primary" \
        || die "PostgreSQL primary did not start"
    wait_for "PostgreSQL primary to accept logins" "$READY_TIMEOUT" \
        pg_sql_tcp "$PG_PORT" 'SELECT 1' || { show_log "$PG_LOG"; die "PostgreSQL primary refuses logins"; }
    log "started PostgreSQL primary on $HOST:$PG_PORT (log: $PG_LOG)"
}

cmd_pg_restart() {
    started pg || die "no PostgreSQL primary in $dir"
    log "restarting PostgreSQL primary on $HOST:$PG_PORT"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -m fast -w -t "$READY_TIMEOUT" \
        restart >/dev/null; then
        show_log "$PG_LOG"
        die "pg_ctl restart failed"
    fi
    wait_for "PostgreSQL primary to accept logins" "$READY_TIMEOUT" \
        pg_sql_tcp "$PG_PORT" 'SELECT 1' || { show_log "$PG_LOG"; die "PostgreSQL primary refuses logins"; }
    log "restarted PostgreSQL primary on $HOST:$PG_PORT (log: $PG_LOG)"
}

replica_promoted() {
    [[ "$(pg_sql_tcp "$REPLICA_PORT" 'SELECT pg_is_in_recovery()' 2>/dev/null)" == f ]]
}

cmd_pg_promote() {
    started replica || die "no PostgreSQL replica in $dir"
    log "promoting PostgreSQL replica on $HOST:$REPLICA_PORT"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$REPLICA_DATA" -w -t "$READY_TIMEOUT" promote >/dev/null; then
        # pg_ctl fails if it is already promoted; accept that.
        replica_promoted || { show_log "$REPLICA_LOG"; die "pg_ctl promote failed"; }
    fi
    wait_for "the promoted replica to leave recovery" "$READY_TIMEOUT" replica_promoted \
        || { show_log "$REPLICA_LOG"; die "replica is still in recovery"; }
    log "promoted replica on $HOST:$REPLICA_PORT is now a primary"
}

# ---------------------------------------------------------------- MariaDB

my_admin() {
    timeout 30 mariadb-admin --no-defaults --connect-timeout=5 -S "$MY_SOCK" -uroot "$@"
}

my_sql_root() {
    timeout 60 mariadb --no-defaults --connect-timeout=5 -S "$MY_SOCK" -uroot "$@"
}

my_sql_tcp() { # SQL  (as dbpool over TCP with the password)
    timeout 30 mariadb --no-defaults --connect-timeout=5 --protocol=TCP -h "$HOST" -P "$MY_PORT" \
        -u"$DB_USER" -p"$DB_PASSWORD" -N -B -e "$1"
}

my_pid() {
    read_pid_file "$MY_PID"
}

# Launch mariadbd in the background and wait until it answers.
my_launch() {
    local user_opt=() tls_opt=()
    ((EUID == 0)) && user_opt=(--user=root)
    started tls && tls_opt=(--ssl-ca="$dir/tls/ca.crt" --ssl-cert="$dir/tls/server.crt"
        --ssl-key="$dir/tls/server.key")
    # setsid: own session, so a Ctrl-C at the caller's terminal reaches the
    # caller's trap (which stops us cleanly) rather than the server directly.
    setsid "$MY_BIN" --no-defaults \
        --datadir="$MY_DATA" \
        --socket="$MY_SOCK" \
        --port="$MY_PORT" \
        --bind-address="$HOST" \
        "${user_opt[@]}" \
        "${tls_opt[@]}" \
        --skip-name-resolve \
        --max-connections=300 \
        --log-error="$MY_LOG" \
        --pid-file="$MY_PID" \
        --tmpdir="$MY_TMP" \
        --innodb-buffer-pool-size=128M \
        --innodb-flush-log-at-trx-commit=2 \
        --skip-innodb-doublewrite \
        --character-set-server=utf8mb4 \
        </dev/null >>"$dir/my/stdout.log" 2>&1 &
    local launcher=$!
    local deadline=$((SECONDS + READY_TIMEOUT))
    while ! my_admin ping >/dev/null 2>&1; do
        if ! pid_alive "$launcher"; then
            log "mariadbd exited during startup"
            show_log "$MY_LOG"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "timed out after ${READY_TIMEOUT}s waiting for MariaDB"
            show_log "$MY_LOG"
            return 1
        fi
        sleep 0.2
    done
    wait_for "MariaDB on TCP port $MY_PORT" "$READY_TIMEOUT" port_in_use "$MY_PORT" \
        || { show_log "$MY_LOG"; return 1; }
}

my_shutdown() {
    local pid
    pid="$(my_pid)"
    pid_alive "$pid" || return 0
    my_admin shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    if ! wait_pid_exit "$pid" "$STOP_TIMEOUT"; then
        log "mariadbd (pid $pid) did not stop after ${STOP_TIMEOUT}s"
        kill_pid mariadbd "$pid" TERM
    fi
}

start_mysql() {
    local mydir="$dir/my"
    state_set MY_BIN "$(find_mariadbd)"
    state_set MY_DATA "$mydir/data"
    state_set MY_SOCK "$mydir/mysqld.sock"
    state_set MY_LOG "$mydir/error.log"
    state_set MY_PID "$mydir/mysqld.pid"
    state_set MY_TMP "$mydir/tmp"
    alloc_port MY_PORT
    mkdir -p "$MY_DATA" "$MY_TMP"

    log "initializing MariaDB in $MY_DATA"
    local user_opt=()
    ((EUID == 0)) && user_opt=(--user=root)
    if ! mariadb-install-db --no-defaults --datadir="$MY_DATA" "${user_opt[@]}" \
        --auth-root-authentication-method=normal --skip-test-db \
        --skip-name-resolve >"$mydir/install.log" 2>&1; then
        show_log "$mydir/install.log"
        die "mariadb-install-db failed"
    fi

    my_launch || die "MariaDB did not start"
    mark_started mysql

    if ! my_sql_root <<EOF; then
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
USE $DB_NAME;
CREATE TABLE $DB_NAME.kv (k INT PRIMARY KEY, v VARCHAR(64));
INSERT INTO $DB_NAME.kv (k, v) SELECT seq, CONCAT('value-', seq) FROM seq_1_to_1000;
EOF
        show_log "$MY_LOG"
        die "could not create the dbpool user, database and table in MariaDB"
    fi
    if [[ "$(my_sql_tcp "SELECT COUNT(*) FROM $DB_NAME.kv" 2>&1)" != 1000 ]]; then
        my_sql_tcp 'SELECT 1' >&2 || true
        die "cannot log in to MariaDB as $DB_USER over TCP"
    fi
    log "started MariaDB on $HOST:$MY_PORT (log: $MY_LOG)"
}

cmd_my_restart() {
    started mysql || die "no MariaDB in $dir"
    log "restarting MariaDB on $HOST:$MY_PORT"
    my_shutdown
    my_launch || die "MariaDB did not come back"
    wait_for "MariaDB to accept logins" "$READY_TIMEOUT" my_sql_tcp 'SELECT 1' \
        || { show_log "$MY_LOG"; die "MariaDB refuses logins"; }
    log "restarted MariaDB on $HOST:$MY_PORT (log: $MY_LOG)"
}

# ---------------------------------------------------------------- PgBouncer

pgbouncer_write_ini() { # AUTH_TYPE
    cat >"$PGB_INI" <<EOF
[databases]
$DB_NAME = host=$HOST port=$PG_PORT dbname=$DB_NAME

[pgbouncer]
listen_addr = $HOST
listen_port = $PGB_PORT
unix_socket_dir = $PGB_DIR
auth_type = $1
auth_file = $PGB_DIR/userlist.txt
admin_users = $DB_USER
stats_users = $DB_USER
pool_mode = transaction
default_pool_size = 20
max_client_conn = 2000
ignore_startup_parameters = extra_float_digits
logfile = $PGB_LOG
pidfile = $PGB_PID
EOF
    ((EUID == 0)) && chown postgres: "$PGB_INI"
    return 0
}

pgbouncer_launch() {
    # max_client_conn needs file descriptors; raise the soft limit if allowed.
    (
        hard="$(ulimit -Hn)"
        if [[ "$hard" == unlimited ]] || ((hard >= 4096)); then
            ulimit -Sn 4096 2>/dev/null || true
        fi
        as_pg pgbouncer -d -q "$PGB_INI" </dev/null >>"$PGB_DIR/stdout.log" 2>&1
    ) || return 1
    wait_for "PgBouncer on port $PGB_PORT" "$READY_TIMEOUT" pg_ready "$PGB_PORT" || return 1
    wait_for "a query through PgBouncer" 15 pg_sql_tcp "$PGB_PORT" 'SELECT 1'
}

pgbouncer_stop() {
    local pid
    pid="$(read_pid_file "$PGB_PID")"
    # SIGTERM: immediate shutdown (PgBouncer < 1.23); escalates to SIGKILL.
    kill_pid pgbouncer "$pid" TERM
}

start_pgbouncer() {
    state_set PGB_DIR "$dir/pgbouncer"
    state_set PGB_INI "$PGB_DIR/pgbouncer.ini"
    state_set PGB_LOG "$PGB_DIR/pgbouncer.log"
    state_set PGB_PID "$PGB_DIR/pgbouncer.pid"
    alloc_port PGB_PORT
    mkdir -p "$PGB_DIR"
    printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" >"$PGB_DIR/userlist.txt"
    chmod 0600 "$PGB_DIR/userlist.txt"
    ((EUID == 0)) && chown -R postgres: "$PGB_DIR"

    local auth
    for auth in scram-sha-256 md5; do
        pgbouncer_write_ini "$auth"
        if pgbouncer_launch; then
            mark_started pgbouncer
            log "started PgBouncer ($auth, transaction pooling) on $HOST:$PGB_PORT -> $HOST:$PG_PORT (log: $PGB_LOG)"
            return 0
        fi
        log "PgBouncer with auth_type=$auth failed"
        show_log "$PGB_LOG"
        pgbouncer_stop
    done
    die "PgBouncer did not start"
}

# ---------------------------------------------------------------- commands

# Quote a value for an "export NAME=value" line: plain double quotes unless
# the value holds characters special inside them.
env_quote() {
    if [[ "$1" == *[\"\$\`\\]* ]]; then
        printf '%q' "$1"
    else
        printf '"%s"' "$1"
    fi
}

write_env() {
    local f="$dir/env"
    {
        echo "# dbpool test servers in $dir (written by scripts/servers.sh)"
        if started pg; then
            echo "export DBPOOL_TEST_PG_HOST=$HOST"
            echo "export DBPOOL_TEST_PG_PORT=$PG_PORT"
            echo "export DBPOOL_TEST_PG_USER=$DB_USER"
            echo "export DBPOOL_TEST_PG_PASSWORD=$DB_PASSWORD"
            echo "export DBPOOL_TEST_PG_DB=$DB_NAME"
        fi
        if started replica; then
            echo "export DBPOOL_TEST_PG_REPLICA_PORT=$REPLICA_PORT"
        fi
        if started mysql; then
            echo "export DBPOOL_TEST_MY_HOST=$HOST"
            echo "export DBPOOL_TEST_MY_PORT=$MY_PORT"
            echo "export DBPOOL_TEST_MY_USER=$DB_USER"
            echo "export DBPOOL_TEST_MY_PASSWORD=$DB_PASSWORD"
            echo "export DBPOOL_TEST_MY_DB=$DB_NAME"
        fi
        if started pgbouncer; then
            echo "export DBPOOL_TEST_PGBOUNCER_PORT=$PGB_PORT"
        fi
        if started tls; then
            echo "export DBPOOL_TEST_TLS_CA=$(env_quote "$dir/tls/ca.crt")"
            echo "export DBPOOL_TEST_TLS_OTHER_CA=$(env_quote "$dir/tls/other-ca.crt")"
        fi
        echo "export DBPOOL_TEST_SERVERS_DIR=$(env_quote "$dir")"
        echo "export DBPOOL_TEST_SERVERS_CTL=$(env_quote "bash $self")"
    } >"$f.tmp"
    chmod 0644 "$f.tmp"
    mv -f "$f.tmp" "$f"
}

cmd_start() {
    local want="${DBPOOL_SERVERS:-pg replica mysql pgbouncer}" s
    for s in $want; do
        case "$s" in
            pg | replica | mysql | pgbouncer | tls) ;;
            *) die "unknown server '$s' in DBPOOL_SERVERS (known: pg replica mysql pgbouncer tls)" ;;
        esac
    done
    want=" $want "
    if [[ "$want" != *" pg "* ]]; then
        [[ "$want" == *" replica "* ]] && die "DBPOOL_SERVERS: 'replica' requires 'pg'"
        [[ "$want" == *" pgbouncer "* ]] && die "DBPOOL_SERVERS: 'pgbouncer' requires 'pg'"
    fi

    local pkgs=(procps iproute2)
    [[ "$want" == *" pg "* ]] && pkgs+=(postgresql postgresql-contrib)
    [[ "$want" == *" mysql "* ]] && pkgs+=(mariadb-server mariadb-client)
    [[ "$want" == *" pgbouncer "* ]] && pkgs+=(pgbouncer)
    [[ "$want" == *" tls "* ]] && pkgs+=(openssl)
    need_packages "${pkgs[@]}"

    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [[ -e "$dir/$MARKER" ]]; then
        die "$dir already holds servers; run '$0 stop $dir' first"
    fi
    if [[ -n "$(ls -A "$dir")" ]]; then
        die "$dir is not empty; give an empty (e.g. mktemp -d) directory"
    fi
    : >"$dir/$MARKER"
    : >"$dir/state"
    # The postgres user must be able to traverse DIR.
    chmod 0755 "$dir"
    state_set SERVERS_DIR "$dir"
    state_set SERVERS_STARTED ""

    local t0=$SECONDS
    [[ "$want" == *" tls "* ]] && make_tls_certs
    [[ "$want" == *" pg "* ]] && start_pg_primary
    [[ "$want" == *" replica "* ]] && start_pg_replica
    [[ "$want" == *" mysql "* ]] && start_mysql
    [[ "$want" == *" pgbouncer "* ]] && start_pgbouncer
    write_env
    log "servers ready in $((SECONDS - t0))s: ${SERVERS_STARTED:-none}; environment in $dir/env"
}


cmd_stop() {
    if [[ ! -d "$dir" ]]; then
        log "$dir does not exist; nothing to stop"
        return 0
    fi
    dir="$(cd "$dir" && pwd)"
    if [[ -z "$(ls -A "$dir")" ]]; then
        # start was interrupted before it did anything.
        rmdir -- "$dir"
        log "removed empty $dir"
        return 0
    fi
    if [[ ! -e "$dir/$MARKER" ]]; then
        die "$dir was not made by '$0 start' (no $MARKER); not touching it"
    fi
    if [[ -f "$dir/state" ]]; then
        # shellcheck disable=SC1091
        source "$dir/state"
    fi
    if started pgbouncer || [[ -n "${PGB_PID:-}" ]]; then
        pgbouncer_stop
    fi
    if [[ -n "${REPLICA_DATA:-}" && -d "${REPLICA_DATA}" ]]; then
        pg_ctl_stop "$REPLICA_DATA" fast "PostgreSQL replica"
    fi
    if [[ -n "${PG_DATA:-}" && -d "${PG_DATA}" ]]; then
        pg_ctl_stop "$PG_DATA" fast "PostgreSQL primary"
    fi
    if [[ -n "${MY_PID:-}" ]]; then
        my_shutdown
    fi
    # Last resort: anything still running from this directory.
    local leftovers
    leftovers="$(pids_in_dir | sort -u | tr '\n' ' ')"
    if [[ -n "${leftovers// /}" ]]; then
        log "killing leftover processes from $dir: $leftovers"
        local p
        for p in $leftovers; do
            kill -KILL "$p" 2>/dev/null || true
        done
        for p in $leftovers; do
            wait_pid_exit "$p" 10 || true
        done
    fi
    rm -rf -- "$dir"
    log "stopped servers and removed $dir"
}

cmd_status() {
    load_state
    log "servers in $dir: ${SERVERS_STARTED:-none}"
    if started pg; then
        if pg_ready "$PG_PORT"; then echo "pg: up on $HOST:$PG_PORT"; else echo "pg: down ($HOST:$PG_PORT)"; fi
    fi
    if started replica; then
        if pg_ready "$REPLICA_PORT"; then echo "replica: up on $HOST:$REPLICA_PORT"; else echo "replica: down ($HOST:$REPLICA_PORT)"; fi
    fi
    if started mysql; then
        if my_admin ping >/dev/null 2>&1; then echo "mysql: up on $HOST:$MY_PORT"; else echo "mysql: down ($HOST:$MY_PORT)"; fi
    fi
    if started pgbouncer; then
        if pg_ready "$PGB_PORT"; then echo "pgbouncer: up on $HOST:$PGB_PORT"; else echo "pgbouncer: down ($HOST:$PGB_PORT)"; fi
    fi
}

# ---------------------------------------------------------------- main

(($# == 2)) || usage
command="$1"
dir="$2"
[[ -n "$dir" && "$dir" != / ]] || die "refusing to use '$dir' as the servers directory"
if [[ "$command" != start && "$command" != stop ]]; then
    [[ -d "$dir" ]] || die "$dir does not exist"
    dir="$(cd "$dir" && pwd)"
    load_state
fi

case "$command" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    pg-restart) cmd_pg_restart ;;
    pg-stop) cmd_pg_stop ;;
    pg-start) cmd_pg_start ;;
    pg-promote) cmd_pg_promote ;;
    my-restart) cmd_my_restart ;;
    *) usage ;;
esac
