#!/usr/bin/env bash
# `make image`: builds the container image from deploy/Containerfile with podman (or
# docker where a daemon answers), installing podman with apt-get when neither is there.
# Stages the inputs in bin/image/ (the binary from `make build`, the host's CA bundle,
# a passwd entry for the runtime user, empty data/ and tmp/), so no base image is pulled.
#
# Knobs: IMAGE (default thamesthrive), VERSION (default: git describe), ENGINE (podman|docker).
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${IMAGE:-thamesthrive}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
UID_GID=10001

# shellcheck source=engine.sh
. scripts/image/engine.sh

CA=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
if [ ! -s "$CA" ]; then
  echo "image: no CA bundle at $CA (install Debian's ca-certificates, or set CA_BUNDLE)" >&2
  exit 1
fi

make --no-print-directory build VERSION="$VERSION"
ctx=bin/image
rm -rf "$ctx"
mkdir -p "$ctx/data" "$ctx/tmp"
cp bin/thamesthrive "$ctx/thamesthrive"
cp "$CA" "$ctx/ca-certificates.crt"
printf 'thamesthrive:x:%d:%d:ThamesThrive:/data:/nonexistent\n' "$UID_GID" "$UID_GID" >"$ctx/passwd"
printf 'thamesthrive:x:%d:\n' "$UID_GID" >"$ctx/group"
chmod 1777 "$ctx/tmp"

fmt=()
[ "$ENGINE" = podman ] && fmt=(--format docker) # keeps HEALTHCHECK (the OCI format has none)
t0=$(date +%s)
"$ENGINE" build "${fmt[@]}" -f deploy/Containerfile \
  --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -t "$IMAGE:$VERSION" -t "$IMAGE:latest" "$ctx"
echo "image: built $IMAGE:$VERSION with $ENGINE in $(($(date +%s) - t0))s"
