"""The search server of `make services-up` for the measuring scripts (bench-bulk.py,
bench-mapping.py): its URL (ELASTIC_HOST, the first one), a JSON request to it, and its
process's CPU seconds (utime + stime from /proc; the pid from
$SERVICES_STATE_DIR/opensearch/pid)."""
import json, os, urllib.request

E = os.environ["ELASTIC_HOST"].split(",")[0].rstrip("/")
_state = os.environ.get("SERVICES_STATE_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "thamesthrive-services"))
_pid = open(os.path.join(_state, "opensearch", "pid")).read().strip()
_tck = os.sysconf("SC_CLK_TCK")


def req(method, path, body=None, ct="application/json"):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    r = urllib.request.Request(E + path, data=data, method=method, headers={"Content-Type": ct})
    with urllib.request.urlopen(r) as f:
        return json.loads(f.read() or b"{}")


def cpu():
    st = open(f"/proc/{_pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / _tck
