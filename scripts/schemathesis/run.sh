#!/usr/bin/env bash
# Schemathesis over ThamesThrive's own OpenAPI document: builds the binary, starts
# `serve` on a fresh data directory, installs the first admin, and runs Schemathesis's
# stateless checks on every operation with that admin's token (docs/reliability.md).
#
#   SCHEMATHESIS_EXAMPLES  examples per operation (default 10)
#   SCHEMATHESIS_SEED      Hypothesis seed (default fixed, so CI runs are repeatable)
#   SCHEMATHESIS_VENV      where the pinned Python packages go (default: a temp dir)
set -euo pipefail
cd "$(dirname "$0")/../.."
EXAMPLES="${SCHEMATHESIS_EXAMPLES:-10}"
SEED="${SCHEMATHESIS_SEED:-20261204}"
work="$(mktemp -d)"
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

venv="${SCHEMATHESIS_VENV:-$work/venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q --disable-pip-version-check -r scripts/schemathesis/requirements.txt
fi

go build -o "$work/thamesthrive" ./cmd/thamesthrive
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
token_install="schemathesis-$RANDOM$RANDOM"
env -i PATH="$PATH" HTTP_ADDR="127.0.0.1:$port" DATA_DIR="$work/data" INSTALLATION_TOKEN="$token_install" \
	TRACK_RATE_LIMIT=0 LOGIN_MAX_ATTEMPTS=1000000 LOGGING_LEVEL=warn \
	"$work/thamesthrive" serve >"$work/serve.out" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do
	curl -fs "$base/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fs "$base/healthz" >/dev/null || { cat "$work/serve.log"; exit 1; }
curl -fs "$base/api/v1/install" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin@example.com\",\"password\":\"schemathesis-password\",\"token\":\"$token_install\"}" >/dev/null
token="$(curl -fs "$base/api/v1/auth/token" -d username=admin@example.com -d password=schemathesis-password |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
curl -fs "$base/api/v1/event-sources" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	-d '{"id":"web","name":"Web","type":"rest","enabled":true}' >/dev/null

# Routes that end the admin's session (logout, a password change, revoking the user's
# sessions) would turn every later case into a 401: left out.
status=0
cd "$work" # schemathesis keeps a cache (.schemathesis/) in the working directory
"$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
	--header "Authorization: Bearer $token" \
	--checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
	--phases examples,coverage,fuzzing \
	--max-examples "$EXAMPLES" --seed "$SEED" --workers 1 \
	--exclude-path '/api/v1/auth/logout' --exclude-path '/api/v1/me/password' \
	--exclude-path-regex '^/api/v1/users/[^/]+/sessions$' \
	--suppress-health-check all \
	--no-color || status=$?
if grep -q '"level":"ERROR"' "$work/serve.log"; then
	echo "schemathesis: the server logged errors:" >&2
	grep '"level":"ERROR"' "$work/serve.log" | tail -20 >&2
	status=1
fi
exit "$status"
