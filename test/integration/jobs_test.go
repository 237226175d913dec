package integration

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/test/testserver"
)

// ndjsonEvents is n purchase events (ids <prefix>-<line>) one second apart from base,
// with bad lines (no type) at the given line numbers.
func ndjsonEvents(prefix string, n int, base time.Time, bad ...int) []byte {
	var b bytes.Buffer
	isBad := map[int]bool{}
	for _, l := range bad {
		isBad[l] = true
	}
	for i := 1; i <= n; i++ {
		if isBad[i] {
			fmt.Fprintf(&b, `{"id":"bad-%d","profile":{"id":"p"},"time":"2026-01-01T00:00:00Z"}`+"\n", i)
			continue
		}
		fmt.Fprintf(&b, `{"id":"%s-%06d","type":"purchase","profile":{"id":"ip-%d"},"time":"%s"}`+"\n",
			prefix, i, i%500, base.Add(time.Duration(i)*time.Second).UTC().Format(time.RFC3339))
	}
	return b.Bytes()
}

func (c *cluster) startImport(body []byte) string {
	c.t.Helper()
	r := c.replicas[0].do("POST", "/api/v1/imports?kind=events", body, "Authorization", "Bearer "+c.adminToken(), "Content-Type", "application/x-ndjson")
	if r.Status != http.StatusAccepted {
		c.t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	return r.JSON(c.t)["id"].(string)
}

func (c *cluster) job(path string) (map[string]any, int) {
	c.t.Helper()
	r := c.auth(c.replicas[0], "GET", path, nil)
	if r.Status != http.StatusOK {
		return nil, r.Status
	}
	return r.JSON(c.t), r.Status
}

func (c *cluster) waitJob(path string, timeout time.Duration) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j, _ := c.job(path)
		if j != nil && j["status"] != "queued" && j["status"] != "running" {
			return j
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s did not finish in %s: %v", path, timeout, j)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countEvents counts the events matching where once the count has settled: the search
// store shows newly written documents after its refresh interval (1 s), so a count
// taken the moment a job finishes can miss its last bulk. It asks until two answers a
// second apart agree (at most 20 s).
func (c *cluster) countEvents(where string) int {
	c.t.Helper()
	last := -1
	// Searches see what the last refresh made visible (ELASTIC_REFRESH_INTERVAL, 5 s):
	// the events another process (a worker) stored a moment ago are made visible first.
	es(c.t, strings.Split(c.elastic.Hosts[0], ",")[0], "POST", "/"+c.prefix+"-events/_refresh", nil, nil)
	for i := 0; i < 20; i++ {
		r := c.auth(c.replicas[0], "POST", "/api/v1/events/search", map[string]any{"where": where, "limit": 0, "exact_total": true})
		if r.Status != http.StatusOK {
			c.t.Fatalf("search: %d %s", r.Status, r.Body)
		}
		n := int(r.JSON(c.t)["total"].(float64))
		if n == last {
			return n
		}
		last = n
		time.Sleep(time.Second)
	}
	return last
}

func num(j map[string]any, path string) int {
	v, _ := at(j, path).(float64)
	return int(v)
}

// TestImportTakenOverAfterWorkerKill: an import uploaded to a `serve` replica
// (RUN_WORKERS=no, so it only queues) is run by one of two `thamesthrive worker`
// processes; that worker is killed with -9 mid-import and the other takes the job
// over after JOB_LEASE (10 s here), resuming from its checkpoint: every good line stored once.
func TestImportTakenOverAfterWorkerKill(t *testing.T) {
	c := newClusterEnv(t, 1, "RUN_WORKERS=no", "JOB_LEASE=10s")
	workers := []*testserver.Process{c.startWorker(), c.startWorker()}
	defer func() {
		if t.Failed() {
			for i, w := range workers {
				for _, l := range strings.Split(w.Stderr.String(), "\n") {
					if strings.Contains(l, "job") || strings.Contains(l, "import") {
						t.Logf("worker %d (pid %d): %s", i, w.Cmd.Process.Pid, l)
					}
				}
			}
		}
	}()
	const n = 20000
	id := c.startImport(ndjsonEvents("tk", n, time.Now().AddDate(0, 0, -5), 7, 15000))
	var owner *testserver.Process
	deadline := time.Now().Add(2 * time.Minute)
	for owner == nil {
		j, _ := c.job("/api/v1/imports/" + id)
		if j["status"] == "done" {
			t.Fatalf("finished before the kill: %v", j)
		}
		if num(j, "counters.read") >= 2000 {
			for _, w := range workers {
				if strings.Contains(fmt.Sprint(j["owner"]), fmt.Sprintf("-%d-", w.Cmd.Process.Pid)) {
					owner = w
				}
			}
			if owner == nil {
				t.Fatalf("owner %v is none of the workers", j["owner"])
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import did not start: %v", j)
		}
		time.Sleep(20 * time.Millisecond)
	}
	owner.Kill()
	j := c.waitJob("/api/v1/imports/"+id, 5*time.Minute)
	t.Logf("after the kill: %v attempts %v", j["counters"], j["attempts"])
	if j["status"] != "done" || num(j, "attempts") != 2 || num(j, "counters.failed") != 2 ||
		num(j, "counters.stored")+num(j, "counters.skipped") != n-2 {
		t.Fatalf("import: %v", j)
	}
	if got := c.countEvents(`type = "purchase"`); got != n-2 {
		t.Fatalf("%d events stored, want %d", got, n-2)
	}
}

// TestRetentionDropsMonthlyIndex: events imported with times 400 days ago land in
// their month's index; a worker with EVENT_RETENTION_DAYS=30 runs the day's retention
// job, which drops that index whole and keeps the recent events.
func TestRetentionDropsMonthlyIndex(t *testing.T) {
	c := newClusterEnv(t, 1, "RUN_WORKERS=no")
	oldTime := time.Now().AddDate(0, 0, -400)
	oldIndex := c.prefix + "-events-v1-" + oldTime.UTC().Format("2006.01")
	w := c.startWorker()
	for _, f := range [][]byte{ndjsonEvents("old", 500, oldTime), ndjsonEvents("new", 300, time.Now().AddDate(0, 0, -2))} {
		if j := c.waitJob("/api/v1/imports/"+c.startImport(f), 2*time.Minute); j["status"] != "done" || num(j, "counters.stored") != len(bytes.Split(f, []byte("\n")))-1 {
			t.Fatalf("import: %v", j)
		}
	}
	if !c.indexExists(oldIndex) {
		t.Fatalf("no index %s after importing old events", oldIndex)
	}
	w.Kill()
	c.env = append(c.env, "EVENT_RETENTION_DAYS=30")
	c.startWorker()
	j := c.waitJob("/api/v1/jobs/retention-"+time.Now().UTC().Format("2006-01-02"), 2*time.Minute)
	if j["status"] != "done" || num(j, "counters.deleted") != 500 {
		t.Fatalf("retention job: %v", j)
	}
	if c.indexExists(oldIndex) {
		t.Fatalf("index %s is still there", oldIndex)
	}
	if got := c.countEvents(`type = "purchase"`); got != 300 {
		t.Fatalf("%d events after retention, want the 300 recent ones", got)
	}
}

func (c *cluster) indexExists(name string) bool {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodHead, strings.TrimRight(strings.Split(c.elastic.Hosts[0], ",")[0], "/")+"/"+name, nil)
	if c.elastic.Username != "" {
		req.SetBasicAuth(c.elastic.Username, c.elastic.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
