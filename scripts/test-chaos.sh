#!/usr/bin/env bash
# `make test-chaos`: dependency faults on the production backend under load (test/chaos,
# docs/reliability.md). Starts its OWN Redis (append-only file, fsync always) and
# OpenSearch 2.19 with scripts/services/up.sh in a state directory of its own, so that it
# never restarts or pauses servers other suites use; runs the suite, which restarts, pauses
# and kills them; and stops them on exit, also on failure or interrupt.
#
# Knobs: CHAOS_STATE_DIR (default ${TMPDIR:-/tmp}/thamesthrive-chaos), CHAOS_TIMEOUT
# (go test -timeout, default 20m), SERVICES_HEAP (default 512m), GO (go).
set -euo pipefail
cd "$(dirname "$0")/.."

GO="${GO:-go}"
STATE="${CHAOS_STATE_DIR:-${TMPDIR:-/tmp}/thamesthrive-chaos}"
export SERVICES_STATE_DIR="$STATE"
export REDIS_APPENDONLY=yes
export SERVICES_HEAP="${SERVICES_HEAP:-512m}"
# Ports away from the defaults other suites take first.
export REDIS_PORT_PREFERRED="${REDIS_PORT_PREFERRED:-6479}"
export OPENSEARCH_PORT_PREFERRED="${OPENSEARCH_PORT_PREFERRED:-9290}"

env_file=$(mktemp)
# The serve replicas and the worker are the test's children, stopped by the test; a test
# binary that dies first (a timeout panics) leaves them behind. They are found by the
# environment this run gave them: our own OpenSearch's address and the suite's prefix.
stop_leftovers() {
  [ -n "${ELASTIC_HOST:-}" ] || return 0
  local f pid exe leftover_dirs=()
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}
    pid=${pid%/environ}
    [ "$pid" != $$ ] || continue
    if tr '\0' '\n' 2>/dev/null <"$f" | grep -qxF "ELASTIC_HOST=$ELASTIC_HOST" &&
      tr '\0' '\n' 2>/dev/null <"$f" | grep -qxF "ELASTIC_INDEX_PREFIX=chaos"; then
      echo "chaos: stopping leftover process $pid ($(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null))" >&2
      exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || exe=
      kill -KILL "$pid" 2>/dev/null || true
      # the binary the test built for itself (test/testserver), which it removes on a normal exit
      case $exe in */thamesthrive-test*/thamesthrive) leftover_dirs+=("${exe%/thamesthrive}") ;; esac
    fi
  done
  if ((${#leftover_dirs[@]})); then
    sleep 0.5
    rm -rf "${leftover_dirs[@]}"
  fi
}
cleanup() {
  rm -f "$env_file"
  stop_leftovers
  # A server the suite left paused (SIGSTOP) must run again to stop on SIGTERM.
  for s in redis opensearch; do
    pid=$(cat "$STATE/$s/pid" 2>/dev/null) && kill -CONT "$pid" 2>/dev/null || true
  done
  echo "== stopping the chaos suite's Redis and OpenSearch" >&2
  SERVICES="redis opensearch" bash scripts/services/down.sh >&2 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s)
echo "== starting the chaos suite's own Redis (append-only) and OpenSearch 2.19 in $STATE"
# A leftover from an interrupted run is not reused: its data would be counted.
SERVICES="redis opensearch" bash scripts/services/down.sh >&2 || true
if ! SERVICES="redis opensearch" bash scripts/services/up.sh >"$env_file"; then
  echo "chaos: Redis or OpenSearch 2.19 did not start (see the messages above)" >&2
  exit 1
fi
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
export CHAOS_SERVICES_DIR="$STATE"
t1=$(date +%s)
echo "== chaos suite (servers started in $((t1 - t0))s; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
set +e
"$GO" test -count=1 -v -timeout "${CHAOS_TIMEOUT:-20m}" ./test/chaos/ 2>&1 | grep --line-buffered -v -E '^\s*=== (RUN|PAUSE|CONT|NAME)'
status=${PIPESTATUS[0]}
set -e
t2=$(date +%s)
echo "chaos: servers $((t1 - t0))s, tests $((t2 - t1))s, total $((t2 - t0))s (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
exit "$status"
