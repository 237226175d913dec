#!/usr/bin/env bash
# `make test-topology`: the Helm chart's topology on loopback (test/topology): two
# collectors (EXPOSE_GUI_API=no) behind a round-robin proxy, one GUI API process and
# one worker, on Redis and OpenSearch 2.19 started with scripts/services/up.sh. Stops
# on exit the services this run started (services already running are left alone).
#
# Knobs: TOPOLOGY_TIMEOUT (go test -timeout, default 10m), GO (go).
set -euo pipefail
cd "$(dirname "$0")/.."

GO="${GO:-go}"
STATE="${SERVICES_STATE_DIR:-${TMPDIR:-/tmp}/thamesthrive-services}"
export SERVICES_STATE_DIR="$STATE"

running() {
  local pid
  pid=$(cat "$STATE/$1/pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}
to_stop=()
for s in redis opensearch; do
  running "$s" || to_stop+=("$s")
done
env_file=$(mktemp)
cleanup() {
  rm -f "$env_file"
  if ((${#to_stop[@]})); then
    echo "== stopping ${to_stop[*]}" >&2
    SERVICES="${to_stop[*]}" bash scripts/services/down.sh >&2 || true
  fi
}
trap cleanup EXIT

t0=$(date +%s)
echo "== starting Redis and OpenSearch 2.19"
if ! SERVICES="redis opensearch" bash scripts/services/up.sh >"$env_file"; then
  echo "topology: Redis or OpenSearch did not start (see the messages above)" >&2
  exit 1
fi
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
t1=$(date +%s)
echo "== topology test (servers started in $((t1 - t0))s)"
"$GO" test -count=1 -v -timeout "${TOPOLOGY_TIMEOUT:-10m}" ./test/topology/ 2>&1 | grep -v -E '^\s*=== (RUN|PAUSE|CONT|NAME)'
status=${PIPESTATUS[0]}
echo "topology: tests $(($(date +%s) - t1))s"
exit "$status"
