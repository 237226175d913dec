#!/usr/bin/env bash
# Quick check that a search server started by up.sh has the APIs ThamesThrive needs.
#
# Usage:  scripts/services/smoke.sh [URL…]     (default: every *_HOST URL in the state env file)
#
# Required (exit 1 when one fails): composable index templates, aliases with a write index,
# _bulk, real-time GET, _mget, _search with a query, terms/date_histogram/avg aggregations,
# _count, delete. Reported only: painless (_update_by_query with a script), _delete_by_query,
# _reindex, and the server's plugins/modules.
# Creates and deletes the indices tt-smoke-000001 and tt-smoke-copy and the template tt-smoke.
set -uo pipefail

STATE_DIR=${SERVICES_STATE_DIR:-${TMPDIR:-/tmp}/thamesthrive-services}
urls=("$@")
if [ "${#urls[@]}" -eq 0 ]; then
    [ -s "$STATE_DIR/env" ] || { echo "smoke: no URL given and no $STATE_DIR/env" >&2; exit 2; }
    mapfile -t urls < <(sed -n 's/^[A-Z0-9_]*_HOST=\(http.*\)$/\1/p' "$STATE_DIR/env")
fi

failed=0
J='Content-Type: application/json'

req() { # req METHOD PATH [BODY] -> prints "HTTPCODE BODY"
    local method=$1 path=$2 body=${3-} ctype=$J
    case $path in */_bulk*) ctype='Content-Type: application/x-ndjson' ;; esac
    if [ -n "$body" ]; then
        curl -s -m 30 -w '\n%{http_code}' -X "$method" -H "$ctype" "$URL$path" --data-binary "$body"
    else
        curl -s -m 30 -w '\n%{http_code}' -X "$method" "$URL$path"
    fi
}

check() { # check NAME REQUIRED(1/0) EXPECTED_REGEX METHOD PATH [BODY]
    local name=$1 required=$2 expect=$3 out code
    shift 3
    out=$(req "$@")
    code=${out##*$'\n'}
    out=${out%$'\n'*}
    if [[ $code == 2* ]] && grep -Eq "$expect" <<<"$out"; then
        printf '  %-34s ok\n' "$name"
    elif [ "$required" = 1 ]; then
        printf '  %-34s FAILED (HTTP %s) %s\n' "$name" "$code" "$(cut -c1-300 <<<"$out")"
        failed=1
    else
        printf '  %-34s absent (HTTP %s) %s\n' "$name" "$code" "$(grep -Eo '"(reason|error)":"[^"]*"' <<<"$out" | head -n1 | cut -c1-200)"
    fi
}

for URL in "${urls[@]}"; do
    # GET / is served by OpenSearch; the Elasticsearch integ-test zip lacks the module for it (405)
    version=$(curl -s -m 10 "$URL/" | grep -E '"(number|distribution)"' | tr -d ' ",' | tr '\n' ' ' | sed 's/ $//')
    [ -n "$version" ] || version="elasticsearch $(curl -s -m 10 "$URL/_nodes/_local?filter_path=nodes.*.version" |
        grep -o '"version":"[^"]*"' | cut -d'"' -f4)"
    echo "== $URL ($version)"
    curl -s -m 10 -o /dev/null -X DELETE "$URL/tt-smoke-000001,tt-smoke-copy?ignore_unavailable=true" || true
    curl -s -m 10 -o /dev/null -X DELETE "$URL/_index_template/tt-smoke" || true

    check "index template (composable)" 1 '"acknowledged" *: *true' PUT /_index_template/tt-smoke \
        '{"index_patterns":["tt-smoke-*"],"template":{"settings":{"number_of_shards":1,"number_of_replicas":0},"mappings":{"properties":{"name":{"type":"keyword"},"views":{"type":"integer"},"ts":{"type":"date"}}}}}'
    check "create index + write alias" 1 '"acknowledged" *: *true' PUT /tt-smoke-000001 \
        '{"aliases":{"tt-smoke":{"is_write_index":true},"tt-smoke-read":{}}}'
    check "_bulk through alias" 1 '"errors" *: *false' POST '/tt-smoke/_bulk?refresh=true' \
        "$(printf '%s\n' \
            '{"index":{"_id":"p1"}}' '{"name":"a","views":1,"ts":"2026-01-01T00:00:00Z"}' \
            '{"index":{"_id":"p2"}}' '{"name":"b","views":2,"ts":"2026-01-02T00:00:00Z"}' \
            '{"create":{"_id":"p3"}}' '{"name":"b","views":3,"ts":"2026-01-03T00:00:00Z"}')"$'\n'
    check "index one doc (no refresh)" 1 '"result" *: *"created"' PUT /tt-smoke/_doc/p4 \
        '{"name":"c","views":4,"ts":"2026-01-04T00:00:00Z"}'
    check "real-time GET" 1 '"found" *: *true' GET /tt-smoke-000001/_doc/p4
    check "_mget" 1 '"_id" *: *"p2"' POST /tt-smoke-read/_mget '{"ids":["p1","p2"]}'
    check "_search + aggregations" 1 '"by_name"' POST /tt-smoke-read/_search \
        '{"query":{"bool":{"filter":[{"range":{"views":{"gte":1}}}]}},"aggs":{"by_name":{"terms":{"field":"name"}},"avg_views":{"avg":{"field":"views"}},"per_day":{"date_histogram":{"field":"ts","calendar_interval":"day"}}}}'
    check "_count" 1 '"count" *: *[34]' POST /tt-smoke-read/_count '{"query":{"match_all":{}}}'
    check "DELETE doc" 1 '"result" *: *"deleted"' DELETE '/tt-smoke-000001/_doc/p1?refresh=true'
    check "painless (_update_by_query)" 0 '"updated" *: *[1-9]' POST '/tt-smoke-read/_update_by_query?refresh=true' \
        '{"query":{"term":{"name":"b"}},"script":{"lang":"painless","source":"ctx._source.views += 10"}}'
    check "_delete_by_query" 0 '"deleted" *: *[1-9]' POST '/tt-smoke-read/_delete_by_query?refresh=true' \
        '{"query":{"term":{"name":"c"}}}'
    check "_reindex" 0 '"created" *: *[1-9]' POST '/_reindex?refresh=true' \
        '{"source":{"index":"tt-smoke-000001"},"dest":{"index":"tt-smoke-copy"}}'
    plugins=$(curl -s -m 10 "$URL/_cat/plugins?h=component" | sed 's/.*\.//' | sort | tr '\n' ' ')
    modules=$(curl -s -m 10 "$URL/_nodes/_local/plugins?filter_path=nodes.*.modules.name" |
        grep -o '"name":"[^"]*"' | sed 's/"name":"//; s/"$//' | sort | tr '\n' ' ')
    echo "  modules: ${modules:-(none listed)}"
    echo "  plugins: ${plugins:-(none)}"
    curl -s -m 10 -o /dev/null -X DELETE "$URL/tt-smoke-000001,tt-smoke-copy?ignore_unavailable=true" || true
    curl -s -m 10 -o /dev/null -X DELETE "$URL/_index_template/tt-smoke" || true
done
exit "$failed"
