# shellcheck shell=bash
# Helpers shared by the scripts that start throwaway servers (servers.sh,
# patroni.sh). Source after lib/common.sh; the caller sets `dir`, the
# directory everything of one run lives in.
#
#   wait_for WHAT TIMEOUT CMD...  run CMD until it succeeds, at most TIMEOUT s
#   pid_alive PID                 the process runs (and is no zombie)
#   read_pid_file FILE            print the pid in FILE, if any
#   show_log FILE                 print the end of a log to stderr
#   state_set NAME VALUE          record NAME=VALUE in $dir/state (and set it)
#   load_state                    read $dir/state back
#   alloc_port NAME               state_set NAME to a free port not yet used
#   find_pg_bin                   the PostgreSQL server binaries' directory
#   pids_in_dir                   the processes whose command line names $dir

if [[ -n "${DBPOOL_SERVER_CONTROL_SH_LOADED:-}" ]]; then
    return 0
fi
DBPOOL_SERVER_CONTROL_SH_LOADED=1

# wait_for DESCRIPTION TIMEOUT COMMAND... : poll COMMAND every 0.2 s until it
# succeeds; return 1 after TIMEOUT seconds.
wait_for() {
    local what="$1" timeout="$2"
    shift 2
    local deadline=$((SECONDS + timeout))
    while ! "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            log "timed out after ${timeout}s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

# True when process $1 exists and is not a zombie waiting to be reaped.
pid_alive() {
    [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null || return 1
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}

read_pid_file() {
    local f="$1" pid=""
    [[ -r "$f" ]] && read -r pid <"$f" 2>/dev/null || true
    [[ "$pid" =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
    return 0
}

show_log() {
    local f="$1"
    if [[ -r "$f" ]]; then
        log "last lines of $f:"
        tail -n 40 "$f" >&2 || true
    else
        log "(no log at $f)"
    fi
}

# DIR/state holds NAME=value lines (shell-quoted) written by start and read
# by every other command.
state_set() {
    local name="$1" value="$2"
    printf '%s=%q\n' "$name" "$value" >>"$dir/state"
    printf -v "$name" '%s' "$value"
}

load_state() {
    [[ -f "$dir/state" ]] || die "$dir/state not found: was '$0 start $dir' run?"
    # shellcheck disable=SC1091
    source "$dir/state"
}

# alloc_port NAME : record in the state a free port not handed out yet by
# this run (no command substitution: the list of used ports must persist).
declare -a used_ports=()
alloc_port() {
    local name="$1" p i u dup
    for ((i = 0; i < 50; i++)); do
        p="$(free_port)"
        dup=0
        for u in "${used_ports[@]}"; do
            [[ "$u" == "$p" ]] && dup=1
        done
        if ((dup == 0)); then
            used_ports+=("$p")
            state_set "$name" "$p"
            return 0
        fi
    done
    die "could not find distinct free ports"
}

find_pg_bin() {
    if [[ -n "${DBPOOL_PG_BIN:-}" ]]; then
        printf '%s\n' "$DBPOOL_PG_BIN"
        return 0
    fi
    local d
    d="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/pg_ctl' 2>/dev/null \
        | sort -V | tail -n 1)"
    [[ -n "$d" ]] || die "no PostgreSQL server found under /usr/lib/postgresql"
    dirname "$d"
}

# PIDs of processes whose command line mentions $dir, and their children;
# never this script or its callers.
pids_in_dir() {
    local skip=" $$ $BASHPID " p cmd ppid
    p=$BASHPID
    while [[ "$p" =~ ^[0-9]+$ ]] && ((p > 1)); do
        ppid="$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)"
        [[ -n "$ppid" ]] || break
        skip+="$ppid "
        p="$ppid"
    done
    for p in /proc/[0-9]*; do
        p="${p#/proc/}"
        [[ "$skip" == *" $p "* ]] && continue
        cmd="$( { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null || true)"
        if [[ "$cmd" == *"$dir/"* || "$cmd" == *"$dir "* ]]; then
            echo "$p"
            pgrep -P "$p" 2>/dev/null || true
        fi
    done
}
