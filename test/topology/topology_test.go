// Package topology runs the deployment of deploy/helm on loopback: two collector
// processes (EXPOSE_GUI_API=no) behind a round-robin proxy, one GUI API process and
// one worker, all real `thamesthrive` binaries sharing one OpenSearch and one Redis.
// It is skipped unless ELASTIC_HOST and REDIS_HOST are set; scripts/test-topology.sh
// (`make test-topology`) starts both and sets them.
package topology

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/identity"
	"github.com/thamesthrive/thamesthrive/internal/storage/elastic"
	"github.com/thamesthrive/thamesthrive/test/testserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.Cleanup()
	os.Exit(code)
}

const (
	installToken = "topology-installation-token"
	adminUser    = "admin@example.com"
	adminPass    = "correct horse battery"
)

// deployment is the chart's topology on loopback.
type deployment struct {
	t          *testing.T
	env        []string // shared by every process, as the chart's common env
	elastic    elastic.Config
	collectors []*testserver.Process
	gui        *testserver.Process
	proxy      *roundRobin
	public     string // the proxy's URL: the only way to the collectors
	token      string
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	es, redisHost := os.Getenv("ELASTIC_HOST"), os.Getenv("REDIS_HOST")
	if es == "" || redisHost == "" {
		t.Skip("ELASTIC_HOST and REDIS_HOST must be set (make test-topology starts OpenSearch and Redis)")
	}
	bin := testserver.Binary(t)
	prefix := fmt.Sprintf("tt-topo-%d", time.Now().UnixNano()%1e9)
	d := &deployment{t: t, elastic: elastic.Config{Hosts: strings.Split(es, ","), IndexPrefix: prefix, KeyPaths: identity.DefaultKeys,
		Username: os.Getenv("ELASTIC_HTTP_AUTH_USERNAME"), Password: os.Getenv("ELASTIC_HTTP_AUTH_PASSWORD")}}
	d.env = []string{"PATH=" + os.Getenv("PATH"), "ELASTIC_HOST=" + es, "ELASTIC_INDEX_PREFIX=" + prefix,
		"ELASTIC_HTTP_AUTH_USERNAME=" + os.Getenv("ELASTIC_HTTP_AUTH_USERNAME"), "ELASTIC_HTTP_AUTH_PASSWORD=" + os.Getenv("ELASTIC_HTTP_AUTH_PASSWORD"),
		"REDIS_HOST=" + redisHost, "REDIS_PORT=" + envOr("REDIS_PORT", "6379"), "REDIS_PASSWORD=" + os.Getenv("REDIS_PASSWORD"),
		"SECRETS_KEY=" + strings.Repeat("cd", 32), "LOGGING_LEVEL=info", "HTTP_ADDR=127.0.0.1:0",
		// The test's webhook receiver listens on loopback.
		"OUTBOUND_ALLOW_PRIVATE=yes"}

	// The chart's pre-install hook.
	migrate := exec.Command(bin, "migrate")
	migrate.Env = d.env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if err := elastic.Drop(context.Background(), d.elastic); err != nil {
			t.Logf("dropping %s: %v", prefix, err)
		}
	})
	for range 2 {
		d.collectors = append(d.collectors, testserver.Start(t, append(d.env, "DATA_DIR="+t.TempDir(),
			"EXPOSE_GUI_API=no", "RUN_WORKERS=no")))
	}
	d.gui = testserver.Start(t, append(d.env, "DATA_DIR="+t.TempDir(), "EXPOSE_GUI_API=yes", "RUN_WORKERS=no",
		"TRUSTED_NETWORKS=127.0.0.1/32", "INSTALLATION_TOKEN="+installToken))
	var backends []*url.URL
	for _, c := range d.collectors {
		u, _ := url.Parse(c.URL)
		backends = append(backends, u)
	}
	d.proxy = newRoundRobin(backends)
	srv := httptest.NewServer(d.proxy)
	t.Cleanup(srv.Close)
	d.public = srv.URL
	return d
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (d *deployment) send(base, method, path string, body any, headers ...string) *testserver.Response {
	d.t.Helper()
	r, err := testserver.Send(base, method, path, body, headers...)
	if err != nil {
		d.t.Fatalf("%s %s%s: %v", method, base, path, err)
	}
	return r
}

// admin sends a GUI API request to the GUI process with the admin's token.
func (d *deployment) admin(method, path string, body any) *testserver.Response {
	d.t.Helper()
	if d.token == "" {
		d.token = testserver.AdminToken(d.t, d.gui.URL, installToken, adminUser, adminPass)
	}
	return d.send(d.gui.URL, method, path, body, "Authorization", "Bearer "+d.token)
}

func pageView(source, profile, event string) map[string]any {
	return map[string]any{"source": map[string]any{"id": source}, "profile": map[string]any{"id": profile},
		"session": map[string]any{"id": "s-" + profile},
		"events":  []any{map[string]any{"id": event, "type": "page-view", "properties": map[string]any{"n": event}}}}
}

// roundRobin is the load balancer in front of the collectors: round robin, and a
// backend that refuses connections is left out for a second (a passive health check,
// as cloud load balancers do), so a killed replica stops taking requests.
type roundRobin struct {
	backends []*url.URL
	proxies  []*httputil.ReverseProxy
	down     []atomic.Int64 // unix nanos until which backend i is left out
	next     atomic.Uint64
	served   []atomic.Int64
}

func newRoundRobin(backends []*url.URL) *roundRobin {
	rr := &roundRobin{backends: backends, down: make([]atomic.Int64, len(backends)), served: make([]atomic.Int64, len(backends))}
	for i, u := range backends {
		p := httputil.NewSingleHostReverseProxy(u)
		p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			rr.down[i].Store(time.Now().Add(time.Second).UnixNano())
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}
		rr.proxies = append(rr.proxies, p)
	}
	return rr
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := len(rr.backends)
	start := int(rr.next.Add(1))
	for k := range n {
		i := (start + k) % n
		if time.Now().UnixNano() < rr.down[i].Load() {
			continue
		}
		rr.served[i].Add(1)
		rr.proxies[i].ServeHTTP(w, r)
		return
	}
	http.Error(w, "no backend", http.StatusServiceUnavailable)
}

// TestTopology is the chart's topology at work.
func TestTopology(t *testing.T) {
	d := newDeployment(t)

	t.Run("collector routes only on the collectors", func(t *testing.T) {
		d.admin("POST", "/api/v1/event-sources", map[string]any{"id": "web", "name": "Web", "type": "rest", "enabled": true})
		cases := []struct {
			name, base, method, path string
			body                     any
			want                     int
		}{
			{"track through the proxy", d.public, "POST", "/track", pageView("web", "p-route", "e-route-1"), 200},
			{"track through the proxy again (other collector)", d.public, "POST", "/track", pageView("web", "p-route", "e-route-2"), 200},
			{"GUI API through the proxy", d.public, "GET", "/api/v1/openapi.json", nil, 404},
			{"login through the proxy", d.public, "POST", "/api/v1/auth/token", map[string]string{"username": adminUser, "password": adminPass}, 404},
			{"install through the proxy", d.public, "POST", "/api/v1/install", map[string]string{"username": "x@example.com", "password": "whatever1", "token": installToken}, 404},
			{"GUI through the proxy", d.public, "GET", "/gui/", nil, 404},
			{"health through the proxy", d.public, "GET", "/healthz", nil, 200},
			{"GUI API on the GUI process (exists: asks for a token)", d.gui.URL, "GET", "/api/v1/openapi.json", nil, 401},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if r := d.send(c.base, c.method, c.path, c.body); r.Status != c.want {
					t.Fatalf("%s %s: %d %s, want %d", c.method, c.path, r.Status, r.Body, c.want)
				}
			})
		}
		if r := d.admin("GET", "/api/v1/openapi.json", nil); r.Status != http.StatusOK {
			t.Errorf("GUI API on the GUI process with a token: %d", r.Status)
		}
		for i, c := range d.collectors { // each collector, directly
			if r := d.send(c.URL, "GET", "/api/v1/openapi.json", nil); r.Status != 404 {
				t.Errorf("collector %d answers the GUI API: %d", i, r.Status)
			}
		}
	})

	t.Run("a configuration change through the GUI API applies on the collectors", func(t *testing.T) {
		body := pageView("late", "p-late", "")
		body["events"] = []any{map[string]any{"type": "page-view"}}
		for i, c := range d.collectors { // both now cache "late does not exist"
			if r := d.send(c.URL, "POST", "/track", body); r.Status != http.StatusUnauthorized {
				t.Fatalf("unknown source on collector %d: %d", i, r.Status)
			}
		}
		waitFor := func(what string, want int) {
			t.Helper()
			start := time.Now()
			for i, c := range d.collectors {
				for {
					if r := d.send(c.URL, "POST", "/track", body); r.Status == want {
						break
					}
					if time.Since(start) > 10*time.Second {
						t.Fatalf("%s: collector %d still answers otherwise after %v", what, i, time.Since(start))
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			t.Logf("%s: applied on both collectors after %v", what, time.Since(start).Round(time.Millisecond))
		}
		if r := d.admin("POST", "/api/v1/event-sources", map[string]any{"id": "late", "name": "Late", "type": "rest", "enabled": true}); r.Status != http.StatusCreated {
			t.Fatalf("creating source: %d %s", r.Status, r.Body)
		}
		waitFor("source created", http.StatusOK)
		r := d.admin("GET", "/api/v1/event-sources/late", nil)
		src := r.JSON(t)
		src["enabled"] = false
		if r := d.admin("PUT", "/api/v1/event-sources/late", src); r.Status != http.StatusOK {
			t.Fatalf("disabling: %d %s", r.Status, r.Body)
		}
		waitFor("source disabled", http.StatusUnauthorized)
	})

	t.Run("the worker delivers", func(t *testing.T) { workerDelivers(t, d) })

	// Last: it kills a collector.
	t.Run("a collector killed with kill -9 under load loses nothing acknowledged", func(t *testing.T) {
		killUnderLoad(t, d)
	})
}

func killUnderLoad(t *testing.T, d *deployment) {
	const profiles, workers = 20, 12
	var mu sync.Mutex
	var acked []string
	statuses := map[string]int{} // answers other than 200, and transport errors
	var afterKill atomic.Int64
	var killed atomic.Bool
	stop := testserver.Load(workers, func(n int64) {
		pid := fmt.Sprintf("kp%02d", n%profiles)
		eid := fmt.Sprintf("kill-%07d", n)
		r, err := testserver.Send(d.public, "POST", "/track", pageView("web", pid, eid))
		mu.Lock()
		switch {
		case err != nil:
			statuses["transport error"]++
		case r.Status == http.StatusOK:
			acked = append(acked, eid)
			if killed.Load() {
				afterKill.Add(1)
			}
		default:
			statuses[fmt.Sprint(r.Status)]++
		}
		mu.Unlock()
	})
	// Load until enough is acknowledged on both sides of the kill (the machine may be
	// slow: the amounts, not the durations, decide).
	waitAcked := func(what string, enough func() bool, limit time.Duration) {
		deadline := time.Now().Add(limit)
		for !enough() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		t.Logf("%s: %d acknowledged, other answers %v", what, len(acked), statuses)
		mu.Unlock()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitAcked("before the kill", func() bool { return count() >= 200 }, 30*time.Second)
	cpu0, served0 := procCPU(t, d.collectors[0].Cmd.Process.Pid), d.proxy.served[0].Load()
	d.collectors[1].Kill() // SIGKILL: nothing flushed, nothing finished
	killed.Store(true)
	waitAcked("after the kill", func() bool { return afterKill.Load() >= 200 }, 30*time.Second)
	stop()
	cpu, served := procCPU(t, d.collectors[0].Cmd.Process.Pid)-cpu0, d.proxy.served[0].Load()-served0
	if served > 0 {
		t.Logf("surviving collector after the kill: %.0f µs of CPU per request over %d requests (OpenSearch and Redis on the same machine); peak RSS %d MB; GUI process peak RSS %d MB",
			float64(cpu.Microseconds())/float64(served), served, peakRSS(t, d.collectors[0].Cmd.Process.Pid)>>20, peakRSS(t, d.gui.Cmd.Process.Pid)>>20)
	}

	if len(acked)-int(afterKill.Load()) < 20 {
		t.Fatalf("only %d requests acknowledged before the kill: the load did not run", len(acked)-int(afterKill.Load()))
	}
	if afterKill.Load() < 20 {
		t.Errorf("only %d requests acknowledged after the kill: the surviving collector did not take over", afterKill.Load())
	}
	s, err := elastic.Open(context.Background(), d.elastic)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for i := 0; i < len(acked); i += 500 {
		chunk := acked[i:min(i+500, len(acked))]
		got, err := s.Events().Existing(ctx, chunk)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range chunk {
			if !got[id] {
				lost++
				if lost <= 10 {
					t.Errorf("acknowledged event %s is lost", id)
				}
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged events lost", lost, len(acked))
	}
	t.Logf("%d requests acknowledged (%d after the kill), all stored; the proxy sent %d and %d to the two collectors",
		len(acked), afterKill.Load(), d.proxy.served[0].Load(), d.proxy.served[1].Load())
}

// procCPU is the user+system CPU time process pid has used (Linux /proc).
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Logf("reading CPU time: %v", err)
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ") ".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// peakRSS is the process's peak resident set (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(l, "VmHWM:"), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

// startWorker runs `thamesthrive worker` with the deployment's environment, its ops
// routes on a free port, and checks that it is ready.
func startWorker(t *testing.T, d *deployment) *testserver.Process {
	t.Helper()
	w := testserver.StartCommand(t, "worker", append(d.env, "DATA_DIR="+t.TempDir(), "WORKER_HTTP_ADDR=127.0.0.1:0"))
	if r, err := testserver.Send(w.URL, "GET", "/readyz", nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("worker /readyz: %v %+v", err, r)
	}
	return w
}

// workerDelivers: an event collected by a collector reaches a webhook destination,
// delivered by the worker process (collector and GUI run with RUN_WORKERS=no).
func workerDelivers(t *testing.T, d *deployment) {
	startWorker(t, d)
	got := make(chan string, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	t.Cleanup(hook.Close)
	dest := map[string]any{"id": "topology-hook", "name": "Topology hook", "enabled": true, "events": true,
		"webhook": map[string]any{"url": hook.URL + "/hook", "method": "POST", "timeout": "3s"}}
	if r := d.admin("POST", "/api/v1/destinations", dest); r.Status != http.StatusCreated {
		t.Fatalf("creating the destination: %d %s", r.Status, r.Body)
	}
	// Let the collectors learn of the destination (configuration propagates through
	// Redis); then track until one delivery carries the event id.
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		eid := fmt.Sprintf("deliver-%03d", n)
		if r := d.send(d.public, "POST", "/track", pageView("web", "p-deliver", eid)); r.Status != http.StatusOK {
			t.Fatalf("/track: %d %s", r.Status, r.Body)
		}
		wait := time.After(2 * time.Second)
	drain:
		for {
			select {
			case body := <-got:
				if strings.Contains(body, "deliver-") {
					t.Logf("delivered by the worker: %.200s", body)
					return
				}
			case <-wait:
				break drain
			}
		}
	}
	t.Fatal("no event reached the webhook destination within 30s")
}
