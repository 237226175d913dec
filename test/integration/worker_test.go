package integration

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/test/testserver"
)

// workerEnv is the environment of a cluster's worker processes.
func (c *cluster) startWorker() *testserver.Process {
	c.t.Helper()
	return testserver.StartCommand(c.t, "worker", append(c.env, "DATA_DIR="+c.t.TempDir(), "WORKER_HTTP_ADDR=127.0.0.1:0"))
}

func (c *cluster) hookDestination(id, url string, concurrency int) {
	c.t.Helper()
	dest := map[string]any{"id": id, "name": "Hook " + id, "enabled": true, "events": true, "concurrency": concurrency,
		"webhook": map[string]any{"url": url, "method": "POST", "timeout": "5s"}}
	if r := c.auth(c.replicas[0], "POST", "/api/v1/destinations", dest); r.Status != http.StatusCreated {
		c.t.Fatalf("creating the destination: %d %s", r.Status, r.Body)
	}
}

// track sends n page views (ids prefix00000…) from 8 clients spread over the live
// replicas and returns the acknowledged event ids; during is called with the count
// acknowledged so far after each request.
func (c *cluster) track(n int, prefix string, during func(acked int)) []string {
	var mu sync.Mutex
	var acked []string
	var seq atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(seq.Add(1)) - 1
				if i >= n {
					return
				}
				r := c.replicas[i%len(c.replicas)]
				if r.killed() {
					r = c.replicas[0]
				}
				eid := fmt.Sprintf("%s%05d", prefix, i)
				pid := fmt.Sprintf("p%02d", i%40)
				if ok, _ := trackOnce(r, pageView(pid, "s-"+pid, eid)); ok {
					mu.Lock()
					acked = append(acked, eid)
					k := len(acked)
					mu.Unlock()
					if during != nil {
						during(k)
					}
				}
			}
		}()
	}
	wg.Wait()
	return acked
}

func waitDelivered(t *testing.T, rc *testserver.Receiver, dest string, acked []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		miss := rc.Missing(acked)
		if len(miss) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged events never delivered, e.g. %v", len(miss), len(acked), miss[:min(5, len(miss))])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestWorkerDeliversFromOpenSearch: events tracked by a `serve` replica on OpenSearch
// (RUN_WORKERS=no) reach a local receiver through the outbox, the sweeper and the
// Redis queue, delivered by a `thamesthrive worker` process, each once; the worker
// serves its ops routes and drains on SIGTERM.
func TestWorkerDeliversFromOpenSearch(t *testing.T) {
	c := newClusterEnv(t, 1, "OUTBOUND_ALLOW_PRIVATE=yes", "RUN_WORKERS=no")
	c.source(c.replicas[0], "web")
	w := c.startWorker()
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := testserver.Send(w.URL, "GET", path, nil)
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("worker %s: %v %+v", path, err, res)
		}
	}
	const dest = "it-hook"
	rc := testserver.NewReceiver(t, dest)
	c.hookDestination(dest, rc.URL()+"/hook", 8)
	time.Sleep(time.Second) // the replica learns of the destination

	const n = 1000
	cpu0 := cpuSeconds(w.Cmd.Process.Pid)
	t0 := time.Now()
	acked := c.track(n, "we", nil)
	if len(acked) != n {
		t.Fatalf("%d of %d events acknowledged", len(acked), n)
	}
	waitDelivered(t, rc, dest, acked, 2*time.Minute)
	wall := time.Since(t0)
	cpu := cpuSeconds(w.Cmd.Process.Pid) - cpu0
	if keys, extra := rc.Duplicates(); keys > 0 {
		t.Errorf("%d events delivered more than once (%d repeats) with no crash", keys, extra)
	}
	if len(rc.Bad()) > 0 {
		t.Errorf("deliveries with a key that does not name their event: %v", rc.Bad()[:min(5, len(rc.Bad()))])
	}
	t.Logf("%d events tracked and delivered by one worker in %s (%.0f/s, bounded by /track on OpenSearch); worker CPU %.2fs: %.0f deliveries per worker CPU-second",
		n, wall.Round(time.Millisecond), float64(n)/wall.Seconds(), cpu, float64(n)/cpu)

	res, err := testserver.Send(w.URL, "GET", "/metrics", nil)
	if err != nil || !strings.Contains(string(res.Body), `thamesthrive_deliveries_total{destination="it-hook",outcome="delivered"}`) ||
		!strings.Contains(string(res.Body), "thamesthrive_outbox_swept_total") {
		t.Errorf("worker /metrics lacks the delivery counters: %v", err)
	}
	// SIGTERM: the worker drains and exits 0.
	if exited, err := w.Stop(40 * time.Second); !exited || err != nil {
		t.Fatalf("worker did not stop cleanly on SIGTERM: exited %v, %v\n%s", exited, err, w.Stderr)
	}
}

// TestWorkerKill9: 2,000 events tracked through two replicas while two workers deliver
// them; one worker and one replica are killed with -9 part-way and a new worker starts.
// Every acknowledged event is delivered at least once, and a repeat carries the key of
// the first delivery (the receiver checks each key against the event in the body).
func TestWorkerKill9(t *testing.T) {
	c := newClusterEnv(t, 2, "OUTBOUND_ALLOW_PRIVATE=yes", "RUN_WORKERS=no", "DELIVERY_LEASE=3s")
	c.source(c.replicas[0], "web")
	w1, w2 := c.startWorker(), c.startWorker()
	const dest = "it-kill"
	rc := testserver.NewReceiver(t, dest)
	c.hookDestination(dest, rc.URL()+"/hook", 8)
	time.Sleep(time.Second)

	const n = 2000
	var once sync.Once
	acked := c.track(n, "ke", func(k int) {
		if k >= n/3 && rc.Total() > 0 {
			once.Do(func() {
				w1.Cmd.Process.Signal(syscall.SIGKILL)
				c.replicas[1].kill()
				t.Logf("killed worker 1 and replica 1 with -9 after %d acknowledged, %d delivered", k, rc.Total())
			})
		}
	})
	c.startWorker()
	if len(acked) < n/2 {
		t.Fatalf("only %d of %d events acknowledged", len(acked), n)
	}
	waitDelivered(t, rc, dest, acked, 3*time.Minute)
	keys, extra := rc.Duplicates()
	if len(rc.Bad()) > 0 {
		t.Errorf("deliveries with a key that does not name their event: %v", rc.Bad()[:min(5, len(rc.Bad()))])
	}
	t.Logf("%d acknowledged events all delivered; %d delivered twice or more (%d repeats), each with its first key; %d deliveries in all",
		len(acked), keys, extra, rc.Total())
	_ = w2
}

// TestServeRunsWorkersWhenTold: with RUN_WORKERS=yes a production `serve` sweeps and
// delivers itself, no worker process needed.
func TestServeRunsWorkersWhenTold(t *testing.T) {
	c := newClusterEnv(t, 1, "OUTBOUND_ALLOW_PRIVATE=yes", "RUN_WORKERS=yes")
	c.source(c.replicas[0], "web")
	const dest = "it-serve"
	rc := testserver.NewReceiver(t, dest)
	c.hookDestination(dest, rc.URL()+"/hook", 4)
	time.Sleep(time.Second)
	acked := c.track(100, "se", nil)
	if len(acked) != 100 {
		t.Fatalf("%d of 100 events acknowledged", len(acked))
	}
	waitDelivered(t, rc, dest, acked, time.Minute)
	if keys, _ := rc.Duplicates(); keys > 0 || len(rc.Bad()) > 0 {
		t.Errorf("%d repeated, bad keys %v", keys, rc.Bad())
	}
}
