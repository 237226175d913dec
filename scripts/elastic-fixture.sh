#!/usr/bin/env bash
# Writes the production backend's upgrade fixture, test/integration/testdata/elastic/v<N>/,
# with the binary of a git revision (default: the working tree): its `migrate` makes the
# templates of its schema version N, its `serve` stores the fixture's /track requests, and
# the templates and every document are dumped (TestWriteElasticFixture). A version whose
# fixture exists is kept as it is. Needs ELASTIC_HOST and REDIS_HOST (scripts/services/up.sh).
#
#   bash scripts/elastic-fixture.sh            # the current schema version, after a bump
#   bash scripts/elastic-fixture.sh 3ae7afa    # schema 1: main before the outbox index
set -euo pipefail

rev=${1:-}
root=$(git rev-parse --show-toplevel)
if [ -z "${ELASTIC_HOST:-}" ] || [ -z "${REDIS_HOST:-}" ]; then
    echo 'elastic-fixture: set ELASTIC_HOST and REDIS_HOST (eval "$(bash scripts/services/up.sh)")' >&2
    exit 1
fi
bin=
if [ -n "$rev" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    mkdir "$tmp/src"
    git -C "$root" archive "$rev" | tar -x -C "$tmp/src"
    echo "elastic-fixture: building thamesthrive at $rev" >&2
    (cd "$tmp/src" && CGO_ENABLED=0 go build -o "$tmp/thamesthrive" ./cmd/thamesthrive)
    bin=$tmp/thamesthrive
fi
cd "$root"
THAMESTHRIVE_TEST_BINARY=$bin go test -count=1 -v -run '^TestWriteElasticFixture$' ./test/integration -write-elastic-fixture
