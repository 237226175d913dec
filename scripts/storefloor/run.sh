#!/usr/bin/env bash
# scripts/storefloor/run.sh — build storefloor for each engine and run them alternately,
# pinned to one CPU. ROUNDS=3 N=100000 REQS=25600 BATCH=64 SYNC=FULL ENGINES="modernc ncruces mattn pebble".
# mattn needs a C compiler (cgo). Data goes to DIR (default /tmp/storefloor), reused between runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROUNDS="${ROUNDS:-3}" N="${N:-100000}" REQS="${REQS:-25600}" BATCH="${BATCH:-64}" SYNC="${SYNC:-FULL}"
ENGINES="${ENGINES:-modernc ncruces mattn pebble}" DIR="${DIR:-/tmp/storefloor}" CPU="${CPU:-0}"
BIN="$(mktemp -d)"
trap 'rm -rf "$BIN"' EXIT
for e in $ENGINES; do
	CGO_ENABLED=$([ "$e" = mattn ] && echo 1 || echo 0) go build -tags "$e" -o "$BIN/$e" .
done
for _ in $(seq "$ROUNDS"); do
	for e in $ENGINES; do
		taskset -c "$CPU" "$BIN/$e" -n "$N" -reqs "$REQS" -batch "$BATCH" -sync "$SYNC" -dir "$DIR"
	done
done
