package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// snapshotRoot is a directory the cluster lists in path.repo (scripts/services sets one
// for OpenSearch), or "" when it has none.
func snapshotRoot(t *testing.T, base string) string {
	var res struct {
		Nodes map[string]struct {
			Settings struct {
				Path struct {
					Repo any `json:"repo"`
				} `json:"path"`
			} `json:"settings"`
		} `json:"nodes"`
	}
	es(t, base, "GET", "/_nodes/_local/settings", nil, &res)
	for _, n := range res.Nodes {
		switch r := n.Settings.Path.Repo.(type) {
		case string:
			return r
		case []any:
			if len(r) > 0 {
				return fmt.Sprint(r[0])
			}
		}
	}
	return ""
}

// TestSnapshotUnderLoadThenRestore runs the backup and restore of the production backend
// that docs/production.md gives, with /track under load: a filesystem snapshot
// repository, a snapshot of the prefix's indices taken while requests are answered, the
// indices and templates deleted, the snapshot restored with its aliases, the document
// cache's Redis keys deleted, `migrate`, `serve`. Every event acknowledged before the
// snapshot began is found again, through the store and through the API.
func TestSnapshotUnderLoadThenRestore(t *testing.T) {
	c := newCluster(t, 2)
	base := os.Getenv("ELASTIC_HOST")
	root := snapshotRoot(t, base)
	if root == "" {
		t.Skip("the cluster has no path.repo (scripts/services/up.sh sets one for OpenSearch)")
	}
	c.source(c.replicas[0], "web")
	repo, snap := c.prefix, "tt-under-load"
	location := filepath.Join(root, c.prefix)
	t.Cleanup(func() {
		es(t, base, "DELETE", "/_snapshot/"+repo+"/"+snap, nil, nil)
		es(t, base, "DELETE", "/_snapshot/"+repo, nil, nil)
	})
	// Once: the repository.
	if st := es(t, base, "PUT", "/_snapshot/"+repo, map[string]any{"type": "fs", "settings": map[string]any{"location": location}}, nil); st != 200 {
		t.Fatalf("registering the snapshot repository: %d", st)
	}

	// Each replica knows the source before the load starts (configuration caches live 5 s).
	for i, r := range c.replicas {
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, st := trackOnce(r, pageView("snap-warm", "s-snap-warm", fmt.Sprintf("snap-warm-%d-%d", i, time.Now().UnixNano())))
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d does not take /track: %d", i, st)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	var (
		mu     sync.Mutex
		acked  []string
		seq    atomic.Int64
		stop   = make(chan struct{})
		wg     sync.WaitGroup
		failed atomic.Int64
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := seq.Add(1)
				r := c.replicas[int(n)%len(c.replicas)]
				pid := fmt.Sprintf("snap-p%02d", n%40)
				eid := fmt.Sprintf("snap-e%06d", n)
				if ok, _ := trackOnce(r, pageView(pid, "s-"+pid, eid)); ok {
					mu.Lock()
					acked = append(acked, eid)
					mu.Unlock()
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	// Load for a while first: at least 200 events stored, or 30 s on a busy machine.
	for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
	}
	mu.Lock()
	before := append([]string(nil), acked...) // answered 200 before the snapshot began
	mu.Unlock()
	t0 := time.Now()
	var snapRes struct {
		Snapshot struct {
			State  string `json:"state"`
			Shards struct {
				Total, Failed, Successful int
			} `json:"shards"`
		} `json:"snapshot"`
	}
	st := es(t, base, "PUT", "/_snapshot/"+repo+"/"+snap+"?wait_for_completion=true",
		map[string]any{"indices": c.prefix + "-*", "include_global_state": false}, &snapRes)
	took := time.Since(t0)
	time.Sleep(time.Second) // the load goes on past the snapshot
	close(stop)
	wg.Wait()
	if st != 200 || snapRes.Snapshot.State != "SUCCESS" || snapRes.Snapshot.Shards.Failed != 0 {
		t.Fatalf("snapshot: status %d, %+v", st, snapRes.Snapshot)
	}
	if len(before) < 20 {
		t.Fatalf("only %d requests acknowledged before the snapshot: the load did not run", len(before))
	}
	if n := failed.Load(); n > 0 {
		t.Errorf("%d /track requests failed during the snapshot", n)
	}
	t.Logf("snapshot of %d shards took %v under load; %d events acknowledged before it began, %d in all",
		snapRes.Snapshot.Shards.Total, took.Round(time.Millisecond), len(before), len(acked))

	// The loss: serve stopped, the indices and templates gone.
	for _, r := range c.replicas {
		r.Stop(20 * time.Second)
	}
	var indices map[string]struct{}
	es(t, base, "GET", "/"+c.prefix+"-*/_mapping", nil, &indices)
	var names []string
	for name := range indices {
		names = append(names, name)
	}
	if st := es(t, base, "DELETE", "/"+strings.Join(names, ","), nil, nil); st != 200 {
		t.Fatalf("deleting %v: %d", names, st)
	}
	for _, k := range []string{"events", "profiles", "sessions", "entities", "profile-keys", "outbox"} {
		es(t, base, "DELETE", "/_index_template/"+c.prefix+"-"+k+"-v1", nil, nil)
	}

	// The restore, as docs/production.md gives it.
	var restored struct {
		Snapshot struct {
			Indices []string `json:"indices"`
			Shards  struct{ Total, Failed int }
		} `json:"snapshot"`
	}
	st = es(t, base, "POST", "/_snapshot/"+repo+"/"+snap+"/_restore?wait_for_completion=true",
		map[string]any{"indices": c.prefix + "-*", "include_aliases": true}, &restored)
	if st != 200 || restored.Snapshot.Shards.Failed != 0 || len(restored.Snapshot.Indices) != len(names) {
		t.Fatalf("restore: status %d, %+v, deleted %v", st, restored.Snapshot, names)
	}
	redisCLI := []string{"-h", os.Getenv("REDIS_HOST"), "-p", envOr("REDIS_PORT", "6379")}
	if pw := os.Getenv("REDIS_PASSWORD"); pw != "" {
		redisCLI = append(redisCLI, "-a", pw)
	}
	out, err := exec.Command("redis-cli", append(redisCLI, "--scan", "--pattern", c.prefix+":doc:*")...).Output()
	if err != nil {
		t.Fatalf("redis-cli --scan: %v", err)
	}
	if keys := strings.Fields(string(out)); len(keys) > 0 {
		for i := 0; i < len(keys); i += 500 {
			if err := exec.Command("redis-cli", append(append(redisCLI, "del"), keys[i:min(i+500, len(keys))]...)...).Run(); err != nil {
				t.Fatalf("redis-cli del: %v", err)
			}
		}
	}
	if exited, code, out := runBinary(t, c.env, 120*time.Second, "migrate"); !exited || code != 0 {
		t.Fatalf("migrate after restore: %d\n%s", code, out)
	}
	c.replicas = []*replica{c.start(0)}

	s := c.openStore()
	ctx := context.Background()
	s.Refresh(ctx)
	lost := 0
	for i := 0; i < len(before); i += 500 {
		chunk := before[i:min(i+500, len(before))]
		got, err := s.Events().Existing(ctx, chunk)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range chunk {
			if !got[id] {
				lost++
				if lost <= 10 {
					t.Errorf("event %s, acknowledged before the snapshot, is not in the restored indices", id)
				}
			}
		}
	}
	// And through the API of the restored deployment.
	r := c.replicas[0]
	for _, id := range []string{before[0], before[len(before)/2], before[len(before)-1]} {
		if res := c.auth(r, "GET", "/api/v1/events/"+id, nil); res.Status != http.StatusOK {
			t.Errorf("GET event %s after restore: %d", id, res.Status)
		}
	}
	res := c.auth(r, "POST", "/api/v1/events/search", map[string]any{"where": `type == "page-view"`, "limit": 0, "exact_total": true})
	total, _ := res.JSON(t)["total"].(float64)
	if int(total) < len(before) {
		t.Errorf("events search after restore finds %v, %d were acknowledged before the snapshot", total, len(before))
	}
	if ok, st := trackOnce(r, pageView("snap-p01", "s-snap-p01", "snap-after")); !ok {
		t.Errorf("track after restore: %d", st)
	}
	t.Logf("restored: %v events, %d acknowledged before the snapshot, %d of them lost", total, len(before), lost)
}
