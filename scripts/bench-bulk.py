#!/usr/bin/env python3
"""scripts/bench-bulk.py: what the search server spends per /track-shaped write under index
settings and bulk sizes (issue 16 A; docs/performance.md, A.4).

It replays serve's writes without serve: per request the visitor's profile and session are
rewritten (same _id, a pool of POOL visitors) and one new event is indexed, BATCH requests per
_bulk (three shards per bulk, one translog fsync each: durability as in production), with a
profile search every SEARCH_EVERY bulks (identity resolution's union search keeps the profiles
index from going search-idle). The documents are taken from the indices a
`BACKEND=elastic make bench` run left behind (the newest "<prefix>-profiles-v1" and its
sessions and events). Each variant gets fresh indices under the current schema's templates
(internal/storage/elastic/testdata/templates-v<N>.json) with its changes; the variants
alternate round by round, and the search process's CPU (utime + stime from /proc, the pid from
$SERVICES_STATE_DIR/opensearch/pid) is read around each.

Variants are names joined with "+": "base" (the templates as they are), "unset" (no
refresh_interval: the cluster's default of 1 s, and no scheduled refresh of an index
searched in none of the last 30 s), "r<interval>"
(index.refresh_interval: r1s, r5s, r-1), "b<N>" (N requests per _bulk), "plain" (every dynamic
string of events a plain keyword, without the tt_date sub-field: an upper bound, not a
mapping to use), "async" (translog fsynced every 5 s instead of before each _bulk answers:
what the fsyncs cost, not a setting to use: it gives up the durability of acknowledged
writes). The first variant of a run also warms the JVM up: name it "warm+…".

  ELASTIC_HOST=http://127.0.0.1:9200 SERVICES_STATE_DIR=/tmp/thamesthrive-services \\
    python3 scripts/bench-bulk.py warm+r5s,r5s+b7,r5s+b14,r5s+b28
  Knobs: REQS (requests per variant per round, 3000), ROUNDS (2), BATCH (7), POOL (5000),
  SEARCH_EVERY (3), SCHEMA (the newest templates-v<N>.json).
"""
import copy, glob, json, os, random, re, sys, time, urllib.error

from searchserver import cpu, req

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQS = int(os.environ.get("REQS", "3000"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
POOL = int(os.environ.get("POOL", "5000"))
SEARCH_EVERY = int(os.environ.get("SEARCH_EVERY", "3"))
if len(sys.argv) != 2:
    raise SystemExit(__doc__)
variants = sys.argv[1].split(",")


prefixes = sorted(i["index"][: -len("-profiles-v1")] for i in req("GET", "/_cat/indices?format=json")
                  if i["index"].endswith("-profiles-v1") and int(i["docs.count"]) > 0 and not i["index"].startswith("tt-bulkbench"))
if not prefixes:
    raise SystemExit("no <prefix>-profiles-v1 index with documents: run BACKEND=elastic make bench first")
docs = {k: [h["_source"] for h in req("POST", f"/{prefixes[-1]}-{k}*/_search", {"size": 1000})["hits"]["hits"]]
        for k in ("events", "profiles", "sessions")}
files = sorted(glob.glob(os.path.join(root, "internal/storage/elastic/testdata/templates-v*.json")),
               key=lambda f: int(re.search(r"v(\d+)\.json$", f).group(1)))
schema = os.environ.get("SCHEMA") or re.search(r"v(\d+)\.json$", files[-1]).group(1)
T = json.load(open(os.path.join(root, "internal/storage/elastic/testdata", f"templates-v{schema}.json")))


def index_body(kind, variant):
    t = copy.deepcopy(T[f"@PREFIX@-{kind}-v1"]["template"])
    s = t["settings"]["index"]
    s.pop("refresh_interval", None)  # "base" is the cluster's default unless r… says
    for part in variant.split("+"):
        if part == "base":
            s.update(T[f"@PREFIX@-{kind}-v1"]["template"]["settings"]["index"])
        elif re.fullmatch(r"r(-1|\d+m?s)", part):
            s["refresh_interval"] = part[1:]
        elif part == "async":
            s["translog.durability"] = "async"
        elif part == "plain" and kind == "events":
            t["mappings"]["dynamic_templates"][0]["strings"]["mapping"] = {"type": "keyword", "ignore_above": 1024}
    return {"settings": t["settings"], "mappings": t["mappings"]}


def batch_of(variant):
    for part in variant.split("+"):
        if re.fullmatch(r"b\d+", part):
            return int(part[1:])
    return int(os.environ.get("BATCH", "7"))


spent = {v: 0.0 for v in variants}
count = {v: 0 for v in variants}
wall = {v: 0.0 for v in variants}
for rnd in range(ROUNDS):
    for v in variants if rnd % 2 == 0 else variants[::-1]:
        name = "tt-bulkbench-" + re.sub(r"[^a-z0-9]", "_", v.lower())
        for k in ("events", "profiles", "sessions"):
            try:
                req("DELETE", f"/{name}-{k}")
            except urllib.error.HTTPError:
                pass
            req("PUT", f"/{name}-{k}", index_body(k, v))
        batch, rng = batch_of(v), random.Random(rnd)
        time.sleep(1)
        c0, w0 = cpu(), time.time()
        for b in range(0, REQS, batch):
            lines = []
            for i in range(batch):
                n, vis = b + i, rng.randrange(POOL)
                p = dict(docs["profiles"][vis % len(docs["profiles"])], id=f"p{vis}", stats={"views": n})
                s = copy.deepcopy(docs["sessions"][vis % len(docs["sessions"])])
                s["id"] = f"s{vis}"
                s["metadata"]["time"]["duration"] = n
                e = dict(docs["events"][n % len(docs["events"])], id=f"e{rnd}-{n}")
                for k, d in (("profiles", p), ("sessions", s), ("events", e)):
                    lines.append(json.dumps({"index": {"_index": f"{name}-{k}", "_id": d["id"]}}))
                    lines.append(json.dumps(d))
            req("POST", "/_bulk?filter_path=errors", ("\n".join(lines) + "\n").encode(), "application/x-ndjson")
            if SEARCH_EVERY and (b // batch) % SEARCH_EVERY == 0:
                req("POST", f"/{name}-profiles/_search", {"size": 0, "query": {"term": {"traits.email": "x@example.com"}}})
        spent[v] += cpu() - c0
        count[v] += REQS
        wall[v] += time.time() - w0
        for k in ("events", "profiles", "sessions"):
            req("DELETE", f"/{name}-{k}")
print(f"documents from {prefixes[-1]}, schema {schema} templates, {ROUNDS} rounds of {REQS} requests per variant")
for v in variants:
    print(f"{v:24s} {1e6 * spent[v] / count[v]:7.0f} search-process CPU-µs per request ({count[v] / wall[v]:.0f} requests/s)")
