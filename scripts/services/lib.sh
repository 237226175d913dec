# shellcheck shell=bash
# Shared helpers for scripts/services/up.sh and down.sh. Sourced, not run.
#
# State layout ($SERVICES_STATE_DIR, default ${TMPDIR:-/tmp}/thamesthrive-services):
#   env                 the KEY=value lines of every service that is up (for test scripts)
#   .lock               flock(1) lock held by up.sh and down.sh while they work
#   dist/               unpacked Elasticsearch zips (a cache, kept by down.sh unless --purge)
#   <service>/          one directory per running service: pid, port, env, logs, data
#                       (<service> is redis, opensearch, opensearch3, elasticsearch9 or elasticsearch8)

SERVICES_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERVICES_REPO_ROOT=$(cd "$SERVICES_SCRIPT_DIR/../.." && pwd)
# shellcheck disable=SC2034 # used by up.sh
SERVICES_SRC_DIR=$SERVICES_REPO_ROOT/services
SERVICES_STATE_DIR=${SERVICES_STATE_DIR:-${TMPDIR:-/tmp}/thamesthrive-services}
# Unprivileged account that runs Elasticsearch when the scripts run as root (it refuses root).
SERVICES_USER=${SERVICES_USER:-thamesthrive-svc}

# Every known service, in the order their lines are printed and written to the env file.
SERVICES_ALL="redis opensearch opensearch3 elasticsearch9 elasticsearch8"

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

# pid_alive PIDFILE -> 0 when the file names a live process
pid_alive() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null
}

# stop_pidfile PIDFILE NAME [GRACE_SECONDS]: SIGTERM, wait, then SIGKILL. Quiet when nothing runs.
stop_pidfile() {
    local pidfile=$1 name=$2 grace=${3:-30} pid i
    pid_alive "$pidfile" || return 0
    pid=$(cat "$pidfile")
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    log "$name (pid $pid) did not stop within ${grace}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
}

# write_env_file: $SERVICES_STATE_DIR/env = the env lines of the services that are up.
write_env_file() {
    local s tmp=$SERVICES_STATE_DIR/env.tmp.$$
    : >"$tmp"
    for s in $SERVICES_ALL; do
        if [ -s "$SERVICES_STATE_DIR/$s/env" ] && pid_alive "$SERVICES_STATE_DIR/$s/pid"; then
            cat "$SERVICES_STATE_DIR/$s/env" >>"$tmp"
        fi
    done
    mv -f "$tmp" "$SERVICES_STATE_DIR/env"
}

# take_lock: serialise up.sh / down.sh runs that share a state directory.
# The lock fd (9) must not leak into the servers: every launch closes it with 9>&-.
take_lock() {
    mkdir -p "$SERVICES_STATE_DIR"
    chmod 755 "$SERVICES_STATE_DIR" 2>/dev/null || true
    exec 9>"$SERVICES_STATE_DIR/.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 900 9 || die "another up.sh/down.sh holds $SERVICES_STATE_DIR/.lock for more than 15 minutes"
    fi
}
