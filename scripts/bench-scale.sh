#!/usr/bin/env bash
# scripts/bench-scale.sh — `make bench-scale` (issue 16, part C).
#
# Loads PROFILES profiles (one session each) and EVENTS events straight through the store's
# batch write path (Store.Commit: SQLite transactions on the embedded store, _bulk with
# BACKEND=elastic), not through /track, then measures on that data (cmd/loadgen/scale.go):
# bytes on disk per event and per profile; look-up by a merge key and by id; condition
# searches on traits and a range condition over events (p50/p99); the 30-day events
# histogram and breakdown; erasure of one profile with 1,000 events; serve's start-up
# time; a segment re-evaluation job over every profile (profiles per second of serve's
# CPU); serve's and the loader's peak RSS. Prints a table against the issue's targets and
# writes bench-results/<time>.scale.json.
#
# Variables:
#   PROFILES=1000000 EVENTS=10000000   the data set (PROFILES=20000 EVENTS=200000 takes a
#                      minute or two)
#   BACKEND=embedded   or elastic (ELASTIC_HOST from `make services-up`; a fresh index
#                      prefix per run, created with `thamesthrive migrate`, unless
#                      ELASTIC_INDEX_PREFIX names one: with SKIP_LOAD=1 that measures an
#                      earlier run's data). With REDIS_HOST too (the production topology)
#                      the segment job runs in a `thamesthrive worker` the run starts, and
#                      its CPU is counted with serve's
#   WORKERS=4 BATCH=200   concurrent Commit calls, profiles per Commit
#   EVENTS_PER_COMMIT=2000   events per Commit at most (one _bulk request on OpenSearch)
#   SAMPLES=200        look-ups per measurement (searches: SAMPLES/20)
#   DATA_DIR=          keep the embedded data here (default: a temp directory, removed)
#   SKIP_LOAD=1        with DATA_DIR: measure the data an earlier run loaded
#   INDEXED_PATHS=traits.tier,traits.lifetime_value   the embedded store's profile path
#                      indexes (the two traits the searches compare; empty: none)
#   RESULTS_DIR=bench-results
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PROFILES="${PROFILES:-1000000}"
EVENTS="${EVENTS:-10000000}"
BACKEND="${BACKEND:-embedded}"
WORKERS="${WORKERS:-4}"
BATCH="${BATCH:-200}"
EVENTS_PER_COMMIT="${EVENTS_PER_COMMIT:-2000}"
SAMPLES="${SAMPLES:-200}"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench-results}"
log() { echo "bench-scale: $*" >&2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/thamesthrive-scale.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
go build -o "$WORK/thamesthrive" ./cmd/thamesthrive
go build -o "$WORK/loadgen" ./cmd/loadgen

VARS=(PATH="$PATH" HOME="${HOME:-/root}" TMPDIR="${TMPDIR:-/tmp}" LOGGING_LEVEL=warn
	INDEXED_PATHS="${INDEXED_PATHS-traits.tier,traits.lifetime_value}")
case "$BACKEND" in
embedded)
	DATA="${DATA_DIR:-$WORK/data}"
	mkdir -p "$DATA"
	VARS+=(DATA_DIR="$DATA")
	;;
elastic)
	[ -n "${ELASTIC_HOST:-}" ] || { log "BACKEND=elastic needs ELASTIC_HOST (make services-up)"; exit 1; }
	VARS+=(DATA_DIR="$WORK/data" ELASTIC_HOST="$ELASTIC_HOST"
		ELASTIC_INDEX_PREFIX="${ELASTIC_INDEX_PREFIX:-scale-$(date +%s)-$RANDOM}"
		SECRETS_KEY="${SECRETS_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}")
	[ -n "${REDIS_HOST:-}" ] && VARS+=(REDIS_HOST="$REDIS_HOST" REDIS_PORT="${REDIS_PORT:-6379}")
	[ -n "${SERVICES_STATE_DIR:-}" ] && VARS+=(SERVICES_STATE_DIR="$SERVICES_STATE_DIR") # the search server's pid, for its CPU
	env -i "${VARS[@]}" "$WORK/thamesthrive" migrate >"$WORK/migrate.log" 2>&1 ||
		{ log "migrate failed: $(tail -n 5 "$WORK/migrate.log")"; exit 1; }
	;;
*) log "BACKEND must be embedded or elastic"; exit 1 ;;
esac

mkdir -p "$RESULTS_DIR"
OUT="$RESULTS_DIR/$(date -u +%Y%m%dT%H%M%SZ).scale.json"
ARGS=(-profiles "$PROFILES" -events "$EVENTS" -workers "$WORKERS" -batch "$BATCH" -events-per-commit "$EVENTS_PER_COMMIT" -samples "$SAMPLES"
	-bin "$WORK/thamesthrive" -clk-tck "$(getconf CLK_TCK 2>/dev/null || echo 100)" -out "$OUT")
[ -n "${SKIP_LOAD:-}" ] && ARGS+=(-skip-load)
log "loading $PROFILES profiles and $EVENTS events ($BACKEND), then measuring"
env -i "${VARS[@]}" "$WORK/loadgen" scale "${ARGS[@]}"
log "results: $OUT"
