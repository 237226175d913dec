#!/usr/bin/env bash
# Runs govulncheck on the module with the toolchain go.mod pins, against a vulnerability
# database built from the golang.org/x/vulndb module (fetched through the Go module
# proxy), because vuln.go.dev, govulncheck's usual database server, is not reachable
# from CI. The database is the module's OSV files (data/osv) indexed into govulncheck's
# file format by scripts/vulndb (the vulndb project's own cmd/indexdb does the same but
# pulls in cloud SDKs that took over ten minutes to build on CI's two CPUs).
#
#   VULNDB_VERSION      golang.org/x/vulndb version (default: latest, the freshest reports)
#   GOVULNCHECK_VERSION golang.org/x/vuln version (default: pinned below)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN_VULNCHECK:-auto}" # honour go.mod's toolchain line
VULNDB_VERSION="${VULNDB_VERSION:-latest}"
GOVULNCHECK_VERSION="${GOVULNCHECK_VERSION:-v1.10.0}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOBIN="$work/bin"
go install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
src="$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$src/data/osv" ] || { echo "govulncheck: no data/osv in golang.org/x/vulndb@$VULNDB_VERSION ($src)" >&2; exit 1; }
go run ./scripts/vulndb -osv "$src/data/osv" -out "$work/db"
echo "govulncheck $GOVULNCHECK_VERSION, $(go version | cut -d' ' -f3), database golang.org/x/vulndb@$(basename "$src" | sed 's/.*@//') ($(ls "$src/data/osv" | wc -l) reports)"
"$GOBIN/govulncheck" -db "file://$work/db" ./...
