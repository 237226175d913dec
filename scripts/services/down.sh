#!/usr/bin/env bash
# Stop what scripts/services/up.sh started (by its pid files) and remove the services' data.
# Idempotent: nothing running is not an error.
#
# Usage:  scripts/services/down.sh [--purge]
#   --purge   also remove the unpacked Elasticsearch distributions ($SERVICES_STATE_DIR/dist)
#             and the state directory itself (the Maven cache in ~/.m2 is never touched)
# Environment:
#   SERVICES="…"          stop only these (default: every service in the state directory)
#   SERVICES_STATE_DIR    default ${TMPDIR:-/tmp}/thamesthrive-services
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

PURGE=
for arg in "$@"; do
    case $arg in
        --purge) PURGE=1 ;;
        -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
        *) die "unknown argument: $arg" ;;
    esac
done

if [ ! -d "$SERVICES_STATE_DIR" ]; then
    log "nothing to stop ($SERVICES_STATE_DIR does not exist)"
    exit 0
fi

take_lock

for s in ${SERVICES:-$SERVICES_ALL}; do
    dir=$SERVICES_STATE_DIR/$s
    [ -d "$dir" ] || continue
    # Elasticsearch rewrites nothing on TERM; OpenSearch closes its node; redis exits (no save).
    stop_pidfile "$dir/pid" "$s" 30
    if pid_alive "$dir/pid"; then
        log "WARNING: $s (pid $(cat "$dir/pid")) is still running; keeping $dir"
        continue
    fi
    rm -rf "$dir"
    log "$s stopped, $dir removed"
done

write_env_file
if [ -n "$PURGE" ]; then
    rm -rf "$SERVICES_STATE_DIR/dist"
    remaining=$(find "$SERVICES_STATE_DIR" -mindepth 1 -maxdepth 1 ! -name .lock ! -name env -print -quit)
    if [ -z "$remaining" ]; then
        rm -rf "$SERVICES_STATE_DIR"
        log "removed $SERVICES_STATE_DIR"
    fi
fi
exit 0
