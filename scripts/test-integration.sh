#!/usr/bin/env bash
# `make test-integration`: the suites that need real servers. Starts Redis and
# OpenSearch 2.19 (required) and OpenSearch 3 and Elasticsearch 9 (when they can be
# had) with scripts/services/up.sh, runs the Redis suites, the storage conformance
# suite and the condition-language corpus on every engine that started, and the
# multi-replica scenarios with the real binary on OpenSearch 2.19 + Redis; then stops
# the services it started (services that were already running are left alone).
#
# Knobs: INTEGRATION_ENGINES="opensearch3 elasticsearch9" (the optional engines to try;
# empty: none), INTEGRATION_TIMEOUT (go test -timeout, default 15m), GO (go).
set -euo pipefail
cd "$(dirname "$0")/.."

GO="${GO:-go}"
STATE="${SERVICES_STATE_DIR:-${TMPDIR:-/tmp}/thamesthrive-services}"
export SERVICES_STATE_DIR="$STATE"
OPTIONAL="${INTEGRATION_ENGINES-opensearch3 elasticsearch9}"

running() {
  local pid
  pid=$(cat "$STATE/$1/pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null
}

# Stop on exit only what this run started.
to_stop=()
for s in redis opensearch $OPTIONAL; do
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
if ! bash scripts/services/up.sh >"$env_file"; then
  echo "integration: Redis or OpenSearch 2.19 did not start (see the messages above); they are required" >&2
  exit 1
fi
t1=$(date +%s)
if [ -n "$OPTIONAL" ]; then
  echo "== starting the optional engines: $OPTIONAL"
  SERVICES="$OPTIONAL" bash scripts/services/up.sh >>"$env_file" ||
    echo "integration: not every optional engine started (see the messages above); the others still run" >&2
fi
t2=$(date +%s)
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
for pair in "opensearch3:OPENSEARCH3_HOST:OpenSearch 3" "elasticsearch9:ELASTIC9_HOST:Elasticsearch 9"; do
  IFS=: read -r name var label <<<"$pair"
  case " $OPTIONAL " in *" $name "*) ;; *) continue ;; esac
  if [ -z "${!var:-}" ]; then
    echo "integration: SKIPPING $label: it did not start here (log under $STATE/$name/)" >&2
  else
    echo "integration: $label at ${!var}"
  fi
done
echo "integration: servers started in $((t2 - t0))s (Redis + OpenSearch 2.19: $((t1 - t0))s; optional engines: $((t2 - t1))s)"

echo "== integration suites"
# -v for the scenario logs (throughput, CPU per request, propagation times); the
# RUN lines and the PASS and SKIP lines of subtests (corpus cases search cannot
# express) are left out.
set +e
"$GO" test -count=1 -v -timeout "${INTEGRATION_TIMEOUT:-15m}" ./internal/storage/redis/ ./internal/worker/ ./test/integration/ 2>&1 |
  grep -v -E '^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|SKIP): \S+/)'
codes=("${PIPESTATUS[@]}")
set -e
status=${codes[0]} # go test's; grep's says only whether it printed anything
t3=$(date +%s)
echo "integration: servers $((t2 - t0))s, tests $((t3 - t2))s, total $((t3 - t0))s"
exit "$status"
