#!/usr/bin/env python3
"""scripts/bench-mapping.py: what the search server spends indexing the same documents under
two schema versions' mappings (issue 16 A; docs/performance.md, production path).

It takes up to 2,000 stored documents of one kind from an index a `BACKEND=elastic make bench`
run left behind (any index whose name contains SOURCE, default "-events-v1-2"), creates one
index per schema version from internal/storage/elastic/testdata/templates-v<N>.json, indexes
the documents into each in _bulk requests of 20 (as serve's writer makes at load), the
versions alternating round by round, and prints the search process's CPU-µs (utime + stime
from /proc/<pid>/stat, the pid from $SERVICES_STATE_DIR/opensearch/pid) per document.

  ELASTIC_HOST=http://127.0.0.1:9200 SERVICES_STATE_DIR=/tmp/thamesthrive-services \\
    python3 scripts/bench-mapping.py [--kind events|sessions|profiles] [--old 2 --new 3] [--rounds 6]
"""
import argparse, json, os, urllib.error

from searchserver import cpu, req

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--kind", default="events")
ap.add_argument("--old", type=int, default=2)
ap.add_argument("--new", type=int, default=3)
ap.add_argument("--rounds", type=int, default=6)
ap.add_argument("--source", default=None, help="substring of the index to take documents from")
a = ap.parse_args()


source = a.source or ("-events-v1-2" if a.kind == "events" else f"-{a.kind}-v1")
names = sorted(i["index"] for i in req("GET", "/_cat/indices?format=json")
               if source in i["index"] and not i["index"].startswith("tt-mapbench") and int(i["docs.count"]) > 0)
if not names:
    raise SystemExit(f"no index with documents matches {source!r}: run BACKEND=elastic make bench first")
docs = [h["_source"] for h in req("POST", f"/{names[-1]}/_search", {"size": 2000})["hits"]["hits"]]
tmpl = {}
for v in (a.old, a.new):
    t = json.load(open(os.path.join(root, "internal/storage/elastic/testdata", f"templates-v{v}.json")))
    t = t[f"@PREFIX@-{a.kind}-v1"]["template"]
    tmpl[v] = {"settings": t["settings"], "mappings": t["mappings"]}
spent = {a.old: 0.0, a.new: 0.0}
count = {a.old: 0, a.new: 0}
for rnd in range(a.rounds):
    for v in (a.old, a.new) if rnd % 2 == 0 else (a.new, a.old):
        name = f"tt-mapbench-{a.kind}-v{v}"
        try:
            req("DELETE", "/" + name)
        except urllib.error.HTTPError:
            pass
        req("PUT", "/" + name, tmpl[v])
        for start in range(0, len(docs), 20):
            body = b"".join(json.dumps({"index": {"_index": name, "_id": f"{rnd}-{start + i}"}}).encode() + b"\n" +
                            json.dumps(d).encode() + b"\n" for i, d in enumerate(docs[start:start + 20]))
            c0 = cpu()
            req("POST", "/_bulk?filter_path=errors", body, "application/x-ndjson")
            spent[v] += cpu() - c0
            count[v] += len(docs[start:start + 20])
        req("DELETE", "/" + name)
print(f"{len(docs)} {a.kind} documents from {names[-1]}, {a.rounds} rounds, _bulk of 20")
for v in (a.old, a.new):
    print(f"schema {v}: {1e6 * spent[v] / count[v]:.0f} search-process CPU-µs per document indexed ({count[v]} documents)")
print(f"schema {a.new} / schema {a.old}: {(spent[a.new] / count[a.new]) / (spent[a.old] / count[a.old]):.2f}")
