#!/usr/bin/env bash
# scripts/bench.sh — the load harness behind `make bench` (issue 7).
#
# In one run on one machine it:
#   1. builds thamesthrive and cmd/loadgen;
#   2. starts `thamesthrive serve` in a fresh temp DATA_DIR, pinned to one CPU with GOMAXPROCS=1
#      (PPROF=yes, so CPU and allocation profiles can be taken), with the load generator pinned
#      to the other CPU;
#   3. installs the admin, gets a token, creates the event source `bench`;
#   4. warms up WARMUP profiles with sessions (one new-visitor /track request each);
#   5. drives /track with the mix (80% returning page-view, 15% new visitor, 5% sign-in, some
#      of whose e-mails trigger merges): a closed loop at saturation for DURATION, then an open
#      loop at half the closed loop's rate for DURATION;
#   6. stops the server with SIGTERM and counts the stored events in its database;
#   7. starts the baseline (a bare net/http handler that reads the body and answers a fixed
#      JSON) on the same CPU and drives it with the same requests and loops;
#   8. prints a markdown table and writes bench-results/<time>.json, with the profiles
#      (<time>.cpu.pprof, .allocs.pprof, .heap.pprof) and the server's log beside it.
# It exits non-zero when the nothing-lost check fails (events stored after a clean stop must
# equal the events acknowledged with 200 over all phases) or the harness could not run.
#
# Variables:
#   WARMUP=100000      profiles to create before the loops (WARMUP=2000 for a quick run)
#   DURATION=20s       length of each loop
#   CONCURRENCY=32     connections (closed and open loop)
#   BACKEND=embedded   or elastic: the server uses ELASTIC_HOST, REDIS_HOST, REDIS_PORT from the
#                      environment (`make services-up`). The cluster shares the machine, so
#                      throughput is not the figure there: read the serve process's CPU per
#                      request. Stored events are then taken from the server's
#                      thamesthrive_events_stored_total, as its database is not a file here.
#   FIXTURES=scripts/bench-fixtures   *.json API calls made after setup, in name order, to put
#                      rules, flows and segments in place: {"method":"POST","path":"/api/v1/...",
#                      "body":{...}}. The default set is what a small shop has: 2 rules (page-view,
#                      sign-in), their 2 deployed flows (a counter, an interest and a trait on
#                      page-views; a consent and a trait on sign-ins) and 3 segments.
#                      FIXTURES=none (or FIXTURES=) runs without any. After the run the report
#                      checks that every rule, deployed flow and segment, and every counter,
#                      interest, consent and profile trait their nodes write, shows in the stored
#                      events and profiles, and fails the run when one shows nowhere. The
#                      internal events segments add (segment-entered, segment-left) are counted
#                      apart: the nothing-lost check compares the /track events only. With
#                      BACKEND=elastic it takes the server's own counter less the internal
#                      events counted through the search API.
#                      With BACKEND=elastic the run also prints the CPU-µs per /track request
#                      of the search and Redis processes (their pids from
#                      $SERVICES_STATE_DIR/<service>/pid, default /tmp/thamesthrive-services)
#                      next to serve's, their peak RSS, and the cluster's work per request
#                      (_nodes/stats indexing, GETs, searches, refreshes, bulk operations;
#                      Redis commands), over both loops; <time>.cluster.json keeps them.
#   SERVER_ENV="A=1 B=2"  extra environment for the server (it otherwise starts with a clean
#                      environment, so a stray variable in your shell cannot change the figures)
#   SERVER_CPU=0 LOADGEN_CPU=1   the CPUs to pin to
#   MIX=both           uniform (the mix of step 5), sessions (visitors of Zipf-like popularity
#                      making 3–8 page views per session, minutes apart on a simulated clock
#                      carried in each event's time.create, returning over 30 simulated days,
#                      10% of sessions signing in; see internal/loadtest/sessions.go), or both:
#                      the whole run (fresh server, warm-up, loops, baseline, report) once per mix
#   FLOOR=yes          on the embedded store, after the baseline, run BenchmarkSQLiteFloor at the
#                      closed and open loop's mean requests per store transaction (from the
#                      server's thamesthrive_store_write_batch_size) for FLOOR_REQUESTS=20000
#                      requests, pinned like the server: the CPU target of issue 16 is that
#                      floor plus three times the baseline's CPU per request. FLOOR=no skips it.
#   RESULTS_DIR=bench-results    where results go
#   KEEP_WORKDIR=1     keep the temp directory (data, logs, intermediate JSON) for inspection
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MIX="${MIX:-both}"
case "$MIX" in
uniform | sessions) ;;
both)
	status=0
	for m in uniform sessions; do
		echo "bench: === MIX=$m ===" >&2
		MIX=$m bash "${BASH_SOURCE[0]}" || status=$?
	done
	exit "$status"
	;;
*)
	echo "bench: MIX must be uniform, sessions or both, not '$MIX'" >&2
	exit 1
	;;
esac
WARMUP="${WARMUP:-100000}"
DURATION="${DURATION:-20s}"
CONCURRENCY="${CONCURRENCY:-32}"
BACKEND="${BACKEND:-embedded}"
SERVER_CPU="${SERVER_CPU:-0}"
LOADGEN_CPU="${LOADGEN_CPU:-1}"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench-results}"
KEEP_WORKDIR="${KEEP_WORKDIR:-}"
FIXTURES="${FIXTURES-scripts/bench-fixtures}"
if [ "$FIXTURES" = none ]; then FIXTURES=""; fi
SOURCE_ID=bench

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

if [ -n "$FIXTURES" ] && ! compgen -G "$FIXTURES/*.json" >/dev/null; then
	die "FIXTURES=$FIXTURES holds no *.json (FIXTURES=none runs without fixtures)"
fi

case "$BACKEND" in
embedded | elastic) ;;
*) die "BACKEND must be embedded or elastic, not '$BACKEND'" ;;
esac
if [ "$BACKEND" = elastic ] && [ -z "${ELASTIC_HOST:-}" ]; then
	die "BACKEND=elastic needs ELASTIC_HOST (and REDIS_HOST, REDIS_PORT) from 'make services-up'"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/thamesthrive-bench.XXXXXX")"
SERVER_PID=""
BASELINE_PID=""

# alive PID: the process exists and is not a zombie (a child that exited but was not reaped
# still answers kill -0).
alive() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[ "${stat%% *}" != Z ]
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	for pid in $SERVER_PID $BASELINE_PID; do
		if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
	done
	if [ -n "$KEEP_WORKDIR" ]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop PID: SIGTERM, wait up to 60 s, then SIGKILL. Sets STOP_CODE, STOP_SECONDS, STOP_KILLED.
stop() {
	local pid=$1 start end i
	STOP_KILLED=false
	start=$(date +%s.%N)
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 600; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		log "process $pid did not stop within 60 s of SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		STOP_KILLED=true
	fi
	end=$(date +%s.%N)
	STOP_CODE=0
	wait "$pid" || STOP_CODE=$?
	STOP_SECONDS=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
}

# Pin when the machine has the CPUs for it.
PIN_SERVER=()
PIN_LOADGEN=()
CPU_ARGS=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	PIN_SERVER=(taskset -c "$SERVER_CPU")
	PIN_LOADGEN=(taskset -c "$LOADGEN_CPU")
	CPU_ARGS=(-server-cpu "$SERVER_CPU" -loadgen-cpu "$LOADGEN_CPU")
	PINNING="Server pinned to CPU $SERVER_CPU, load generator to CPU $LOADGEN_CPU, both GOMAXPROCS=1"
else
	PINNING="Not pinned (needs taskset and 2 CPUs), GOMAXPROCS=1"
	log "warning: $PINNING; figures are not comparable with pinned runs"
fi
CLK_TCK="$(getconf CLK_TCK 2>/dev/null || echo 100)"

log "building into $WORK"
go build -o "$WORK/thamesthrive" ./cmd/thamesthrive || die "cannot build ./cmd/thamesthrive"
go build -o "$WORK/loadgen" ./cmd/loadgen || die "cannot build ./cmd/loadgen"

lg() { GOMAXPROCS=1 "${PIN_LOADGEN[@]}" "$WORK/loadgen" "$@"; }

# --- the server ---------------------------------------------------------------------------
PORT="$("$WORK/loadgen" freeport)"
URL="http://127.0.0.1:$PORT"
INSTALL_TOKEN="bench-$(date +%s)-$RANDOM$RANDOM"
mkdir -p "$WORK/data"
# A clean environment: only what is set here (and in SERVER_ENV) reaches the server.
SERVER_VARS=(
	PATH="$PATH" HOME="${HOME:-/root}" TMPDIR="${TMPDIR:-/tmp}"
	HTTP_ADDR="127.0.0.1:$PORT" DATA_DIR="$WORK/data" INSTALLATION_TOKEN="$INSTALL_TOKEN"
	LOGGING_LEVEL=warn PPROF=yes GOMAXPROCS=1
	TRACK_RATE_LIMIT=0 # one client address sends the whole load
)
if [ "$BACKEND" = elastic ]; then
	SERVER_VARS+=(ELASTIC_HOST="$ELASTIC_HOST")
	[ -n "${REDIS_HOST:-}" ] && SERVER_VARS+=(REDIS_HOST="$REDIS_HOST")
	[ -n "${REDIS_PORT:-}" ] && SERVER_VARS+=(REDIS_PORT="$REDIS_PORT")
fi
if [ -n "${SERVER_ENV:-}" ]; then
	read -r -a EXTRA <<<"$SERVER_ENV"
	SERVER_VARS+=("${EXTRA[@]}")
fi
if [ "$BACKEND" = elastic ]; then
	# A fresh set of indices per run (so that counts through the search API are this run's),
	# created as an operator does before the first serve.
	SERVER_VARS+=(ELASTIC_INDEX_PREFIX="bench-$(date +%s)-$RANDOM"
		SECRETS_KEY="${SECRETS_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}")
	env -i "${SERVER_VARS[@]}" "$WORK/thamesthrive" migrate >"$WORK/migrate.log" 2>&1 ||
		die "thamesthrive migrate failed: $(tail -n 5 "$WORK/migrate.log")"
fi
log "starting the server ($BACKEND) on $URL"
env -i "${SERVER_VARS[@]}" "${PIN_SERVER[@]}" "$WORK/thamesthrive" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

server_failed() {
	log "$1; the server's log ends with:"
	tail -n 30 "$WORK/server.log" >&2 || true
	exit 1
}

lg setup -url "$URL" -installation-token "$INSTALL_TOKEN" -source "$SOURCE_ID" -token-out "$WORK/token" \
	${FIXTURES:+-fixtures "$FIXTURES"} ||
	server_failed "setting up the server failed"

log "warming up $WARMUP profiles"
HARNESS_FAILED=""
if ! lg warmup -url "$URL" -source "$SOURCE_ID" -n "$WARMUP" -c "$CONCURRENCY" \
	-pairs-out "$WORK/pairs.tsv" -out "$WORK/warmup.json" -pid "$SERVER_PID" -clk-tck "$CLK_TCK" "${CPU_ARGS[@]}"; then
	[ -s "$WORK/pairs.tsv" ] || server_failed "the warm-up created no profiles"
	HARNESS_FAILED="the warm-up fell short"
fi

# With BACKEND=elastic: what the search and Redis processes spend per /track request, from
# /proc/<pid>/stat of the pids scripts/services keeps under SERVICES_STATE_DIR, and the
# cluster's own counters (_nodes/stats, Redis INFO), snapshotted around the /track loops.
cluster_snap() {
	[ "$BACKEND" = elastic ] || return 0
	"$WORK/loadgen" cluster snap -serve-pid "$SERVER_PID" -state "${SERVICES_STATE_DIR:-${TMPDIR:-/tmp}/thamesthrive-services}" \
		-elastic "$ELASTIC_HOST" ${REDIS_HOST:+-redis "$REDIS_HOST:${REDIS_PORT:-6379}"} -serve-url "$URL" -out "$WORK/cluster-$1.json" ||
		log "could not take the cluster snapshot '$1'"
}

if [ "$BACKEND" = elastic ]; then
	# an idle stretch first: what the processes spend with no requests (JVM, refreshes,
	# Redis's cron) is measured and taken off the per-request figures
	cluster_snap idle-before
	sleep "${IDLE_SECONDS:-5}"
	cluster_snap idle-after
fi
cluster_snap before
log "driving /track: closed loop for $DURATION, then open loop at half its rate for $DURATION"
lg run -label track -mix "$MIX" -url "$URL" -source "$SOURCE_ID" -pairs "$WORK/pairs.tsv" -duration "$DURATION" \
	-c "$CONCURRENCY" -pid "$SERVER_PID" -clk-tck "$CLK_TCK" "${CPU_ARGS[@]}" -pprof-dir "$WORK/pprof" \
	-token-file "$WORK/token" -out "$WORK/track.json" || HARNESS_FAILED="the /track run failed"

cluster_snap after
log "stopping the server (SIGTERM)"
stop "$SERVER_PID"
SERVER_EXIT=$STOP_CODE SERVER_STOP_SECONDS=$STOP_SECONDS SERVER_KILLED=$STOP_KILLED
SERVER_PID=""
log "server exited with status $SERVER_EXIT after ${SERVER_STOP_SECONDS}s"

STORED_ARGS=()
if [ "$BACKEND" = embedded ]; then
	if "$WORK/loadgen" countdb -db "$WORK/data/thamesthrive.db" >"$WORK/stored.json"; then
		STORED_ARGS=(-stored "$WORK/stored.json")
	else
		log "could not count the stored events in $WORK/data/thamesthrive.db"
	fi
fi

# --- the baseline, on the same CPU --------------------------------------------------------
BPORT="$("$WORK/loadgen" freeport)"
BURL="http://127.0.0.1:$BPORT"
log "starting the baseline on $BURL"
env -i PATH="$PATH" GOMAXPROCS=1 "${PIN_SERVER[@]}" "$WORK/loadgen" baseline -addr "127.0.0.1:$BPORT" >"$WORK/baseline.log" 2>&1 &
BASELINE_PID=$!
lg wait -url "$BURL" -timeout 30s || die "the baseline did not start: $(cat "$WORK/baseline.log")"
lg run -label baseline -mix "$MIX" -url "$BURL" -source "$SOURCE_ID" -pairs "$WORK/pairs.tsv" -duration "$DURATION" \
	-c "$CONCURRENCY" -pid "$BASELINE_PID" -clk-tck "$CLK_TCK" "${CPU_ARGS[@]}" -out "$WORK/baseline.json" ||
	HARNESS_FAILED="the baseline run failed"
stop "$BASELINE_PID"
BASELINE_PID=""

# --- the store floor at the loops' batch sizes (embedded) --------------------------------
# Issue 16 states the embedded CPU target against what SQLite alone costs at the transaction
# sizes the server really committed (thamesthrive_store_write_batch_size over each loop):
# BenchmarkSQLiteFloor at those sizes, synchronous=FULL like the store, on the server's CPU.
FLOOR_ARGS=()
if [ "$BACKEND" = embedded ] && [ "${FLOOR:-yes}" != no ] && [ -s "$WORK/track.json" ]; then
	if batches="$("$WORK/loadgen" floor -track "$WORK/track.json" -batches)"; then
		log "measuring the store floor at $batches requests per transaction"
		if go test -c -o "$WORK/sqlite.test" ./internal/storage/sqlite &&
			(cd internal/storage/sqlite && SQLITE_FLOOR_BATCHES="$batches" "${PIN_SERVER[@]}" "$WORK/sqlite.test" \
				-test.run XXX -test.bench 'BenchmarkSQLiteFloor/.*/sync=FULL' -test.benchtime "${FLOOR_REQUESTS:-20000}x" \
				-test.cpu 1 >"$WORK/floor.txt" 2>&1) &&
			"$WORK/loadgen" floor -track "$WORK/track.json" -bench "$WORK/floor.txt" -out "$WORK/floor.json"; then
			FLOOR_ARGS=(-floor "$WORK/floor.json")
		else
			log "could not measure the store floor: $(tail -3 "$WORK/floor.txt" 2>/dev/null)"
		fi
	else
		log "no store batch sizes in the run's result: the floor is not measured"
	fi
fi

# --- the report ---------------------------------------------------------------------------
TS="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RESULTS_DIR"
OUT="$RESULTS_DIR/$TS.json"
REPORT_ARGS=()
for f in warmup track baseline; do
	[ -s "$WORK/$f.json" ] && REPORT_ARGS+=("-$f" "$WORK/$f.json")
done
[ "$SERVER_KILLED" = true ] && REPORT_ARGS+=(-server-killed)
[ -s "$WORK/server.log" ] && cp "$WORK/server.log" "$RESULTS_DIR/$TS.server.log"
echo
REPORT_STATUS=0
"$WORK/loadgen" report -mix "$MIX" "${REPORT_ARGS[@]}" "${STORED_ARGS[@]}" "${FLOOR_ARGS[@]}" -backend "$BACKEND" -warmup-n "$WARMUP" \
	-duration "$DURATION" -c "$CONCURRENCY" -pinning "$PINNING" -server-exit "$SERVER_EXIT" \
	-server-stop-seconds "$SERVER_STOP_SECONDS" ${FIXTURES:+-fixtures "$FIXTURES"} -out "$OUT" || REPORT_STATUS=$?
if [ "$BACKEND" = elastic ] && [ -s "$WORK/cluster-before.json" ] && [ -s "$WORK/cluster-after.json" ] && [ -s "$WORK/track.json" ]; then
	"$WORK/loadgen" cluster report -before "$WORK/cluster-before.json" -after "$WORK/cluster-after.json" \
		-track "$WORK/track.json" -clk-tck "$CLK_TCK" -out "$RESULTS_DIR/$TS.cluster.json" \
		-idle-before "$WORK/cluster-idle-before.json" -idle-after "$WORK/cluster-idle-after.json" ||
		log "could not report the cluster's share"
fi
if [ -n "$HARNESS_FAILED" ]; then
	log "$HARNESS_FAILED"
	exit 1
fi
exit "$REPORT_STATUS"
