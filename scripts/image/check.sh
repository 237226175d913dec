#!/usr/bin/env bash
# `make image-check`: inspects the image `make image` built — non-root numeric user,
# entrypoint, exposed port, /data volume, health check, OCI labels with the version,
# size under 40 MB — then, where the machine lets containers run, starts it and asks
# /healthz from outside and `thamesthrive healthcheck` from inside. When containers
# cannot run here (no user namespaces, no cgroups, …) it says so and still passes on
# the inspection.
#
# Knobs: IMAGE (default thamesthrive:latest), MAX_MB (default 40), ENGINE.
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGE=${IMAGE:-thamesthrive:latest}
MAX_MB=${MAX_MB:-40}
# shellcheck source=engine.sh
. scripts/image/engine.sh

fail=0
check() { # check NAME GOT WANT
  if [ "$2" = "$3" ]; then
    echo "image-check: ok   $1: $2"
  else
    echo "image-check: FAIL $1: got '$2', want '$3'" >&2
    fail=1
  fi
}
field() { "$ENGINE" image inspect --format "$1" "$IMAGE"; }

version=$(field '{{index .Config.Labels "org.opencontainers.image.version"}}')
user=$(field '{{.Config.User}}')
check "user (numeric, not root)" "$user" "10001:10001"
check "entrypoint" "$(field '{{json .Config.Entrypoint}}')" '["/thamesthrive"]'
check "cmd" "$(field '{{json .Config.Cmd}}')" '["serve"]'
check "exposed port" "$(field '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}')" "8686/tcp "
check "volume" "$(field '{{range $v, $_ := .Config.Volumes}}{{$v}} {{end}}')" "/data "
check "health check" "$(field '{{json .Config.Healthcheck.Test}}')" '["CMD","/thamesthrive","healthcheck"]'
check "DATA_DIR" "$(field '{{range .Config.Env}}{{println .}}{{end}}' | grep '^DATA_DIR=' || true)" "DATA_DIR=/data"
if [ -z "$version" ] || [ "$version" = dev ]; then
  echo "image-check: FAIL label org.opencontainers.image.version is '$version'" >&2
  fail=1
else
  echo "image-check: ok   label org.opencontainers.image.version: $version"
fi
for l in title revision created source; do
  v=$(field "{{index .Config.Labels \"org.opencontainers.image.$l\"}}")
  [ -n "$v" ] || { echo "image-check: FAIL label org.opencontainers.image.$l missing" >&2; fail=1; }
done
size=$(field '{{.Size}}')
mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1000000 }')
if [ "$size" -lt $((MAX_MB * 1000000)) ]; then
  echo "image-check: ok   size: $mb MB (< $MAX_MB MB)"
else
  echo "image-check: FAIL size: $mb MB, not under $MAX_MB MB" >&2
  fail=1
fi
[ "$fail" = 0 ] || exit 1

# Run it: the embedded store in the image's /data, published on a loopback port, with a
# read-only root and no capabilities. Where the default runtime cannot start containers
# (sandboxes without a cgroup v2 hierarchy or that refuse to raise rlimits), podman is
# tried again with runc and the current limits.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18686)
name=thamesthrive-image-check-$$
run=("$ENGINE")
lim=()
start() {
  "${run[@]}" run -d --name "$name" --read-only --cap-drop=ALL --security-opt=no-new-privileges "$@" \
    -p "127.0.0.1:$port:8686" -e INSTALLATION_TOKEN=image-check-token "$IMAGE" 2>&1 >/dev/null
}
if ! out=$(start); then
  "${run[@]}" rm -f "$name" >/dev/null 2>&1 || true
  runc=$(command -v runc || true)
  if [ -z "$runc" ] && [ "$ENGINE" = podman ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "image-check: note: installing runc (apt-get) to retry"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q runc >/dev/null 2>&1 || true
    runc=$(command -v runc || true)
  fi
  if [ "$ENGINE" = podman ] && [ -n "$runc" ]; then
    echo "image-check: note: podman run failed with the default runtime ($(echo "$out" | grep -m1 "^Error")); trying runc"
    run=(podman --runtime "$runc")
    lim=(--ulimit "nofile=$(ulimit -n):$(ulimit -n)" --ulimit nproc=1024:1024)
    out=$(start "${lim[@]}") || { "${run[@]}" rm -f "$name" >/dev/null 2>&1; false; }
  else
    false
  fi || {
    echo "image-check: NOTE containers cannot run on this machine ($ENGINE run: $(echo "$out" | grep -m1 "^Error")); inspection passed, run not tried"
    exit 0
  }
fi
trap '"${run[@]}" rm -f "$name" >/dev/null 2>&1 || true' EXIT
ok=
for _ in $(seq 1 100); do
  if curl -fsS --max-time 2 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.2
done
if [ -z "$ok" ]; then
  echo "image-check: FAIL the container did not answer /healthz on 127.0.0.1:$port; its log:" >&2
  "${run[@]}" logs "$name" 2>&1 | tail -n 20 >&2
  exit 1
fi
echo "image-check: ok   running container (${run[*]}) answers GET /healthz on 127.0.0.1:$port (read-only root, no capabilities)"
if "${run[@]}" exec "$name" /thamesthrive healthcheck; then
  echo "image-check: ok   thamesthrive healthcheck inside the container exits 0"
else
  echo "image-check: FAIL thamesthrive healthcheck inside the container failed" >&2
  exit 1
fi
if [ "$ENGINE" = podman ]; then
  if "${run[@]}" healthcheck run "$name" 2>/dev/null; then
    echo "image-check: ok   the image's HEALTHCHECK passes (podman healthcheck run)"
  else
    echo "image-check: FAIL the image's HEALTHCHECK fails" >&2
    exit 1
  fi
fi

# The "HTTPS version": the same image with a mounted certificate and key.
if ! command -v openssl >/dev/null 2>&1; then
  echo "image-check: NOTE no openssl here; the HTTPS run is not tried"
  exit 0
fi
tls=$(mktemp -d)
trap '"${run[@]}" rm -f "$name" "$name-tls" >/dev/null 2>&1 || true; rm -rf "$tls"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=track.example.com \
  -addext subjectAltName=DNS:track.example.com -keyout "$tls/tls.key" -out "$tls/tls.crt" 2>/dev/null
chmod 0755 "$tls"
chmod 0644 "$tls/tls.key" "$tls/tls.crt" # readable by the image's user 10001 (a test key)
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18443)
if ! out=$("${run[@]}" run -d --name "$name-tls" --read-only --cap-drop=ALL --security-opt=no-new-privileges ${lim[@]+"${lim[@]}"} \
  -v "$tls:/etc/thamesthrive/tls:ro" -e TLS_CERT_FILE=/etc/thamesthrive/tls/tls.crt -e TLS_KEY_FILE=/etc/thamesthrive/tls/tls.key \
  -p "127.0.0.1:$tport:8686" "$IMAGE" 2>&1 >/dev/null); then
  echo "image-check: FAIL the HTTPS container did not start: $(echo "$out" | grep -m1 '^Error')" >&2
  exit 1
fi
ok=
for _ in $(seq 1 100); do
  if curl -fsS --max-time 2 --cacert "$tls/tls.crt" --resolve "track.example.com:$tport:127.0.0.1" \
    "https://track.example.com:$tport/healthz" >/dev/null 2>&1; then ok=1; break; fi
  sleep 0.2
done
if [ -z "$ok" ]; then
  echo "image-check: FAIL the HTTPS container did not answer /healthz; its log:" >&2
  "${run[@]}" logs "$name-tls" 2>&1 | tail -n 20 >&2
  exit 1
fi
echo "image-check: ok   TLS_CERT_FILE/TLS_KEY_FILE: the container answers GET https://…/healthz with the mounted certificate"
if "${run[@]}" exec "$name-tls" /thamesthrive healthcheck && { [ "$ENGINE" != podman ] || "${run[@]}" healthcheck run "$name-tls" 2>/dev/null; }; then
  echo "image-check: ok   its health check passes over HTTPS"
else
  echo "image-check: FAIL the health check of the HTTPS container fails" >&2
  exit 1
fi
