// Package chaos injects dependency faults into the production backend under load: two
// `serve` replicas and one `thamesthrive worker` (the real binary) on a Redis and an
// OpenSearch 2.19 of the suite's own, while clients send /track requests round robin
// over both replicas. Redis is restarted and paused, OpenSearch is killed with -9 and
// restarted and paused, and one replica is stopped with SIGTERM. Clients see only
// 200 or 503 with Retry-After, the replicas recover by themselves, and afterwards every
// acknowledged event is stored exactly once, counters are exact, no merge left two live
// profiles, and a local destination received every event.
//
// Skipped unless CHAOS_SERVICES_DIR names the services' state directory (with
// ELASTIC_HOST, REDIS_HOST and REDIS_PORT): scripts/test-chaos.sh (`make test-chaos`)
// starts the servers and sets them. The suite restarts and pauses those servers, so
// it must never be pointed at servers anything else uses.
package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/test/testserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.Cleanup()
	os.Exit(code)
}

const (
	installToken = "chaos-installation-token"
	adminUser    = "admin@example.com"
	adminPass    = "correct horse battery"
	destID       = "chaos-hook"
	// The server's write timeout is 60 s: a client waits a little longer, so that a
	// client timeout means the server hung past its own bound.
	clientTimeout = 65 * time.Second
	// How long one logical request is retried (503s, timeouts, a replica gone) before
	// the client gives up; it must outlast an OpenSearch restart.
	retryBound = 6 * time.Minute
	// Recovery must come within this of the dependency being back.
	recoveryBound = 60 * time.Second
	clients       = 6
	poolSize      = 48 // returning visitors
	emails        = 12 // sign-ins with these e-mails merge the visitors that share one
)

// phase is one fault: what the clients saw while it lasted (from its start to the next
// fault's), and how long the replicas took to serve again.
type phase struct {
	name     string
	statuses map[string]int
	longest  time.Duration
	back     time.Time     // when the dependency was back (zero: not yet)
	outage   time.Duration // fault injected → dependency back
	firstOK  []time.Time   // per replica slot: first 200 answered after back
	recovery time.Duration
	lost     int
	dup      int
	note     string
}

type op struct {
	event, profile, kind string // kind: view, new, signin
	body                 []byte
	phase                *phase
}

type suite struct {
	t        *testing.T
	es       string
	prefix   string
	env      []string
	redis    *server
	search   *server
	replicas []*testserver.Process // slots, round robin; a stopped one is replaced in its slot
	repMu    sync.RWMutex
	next     atomic.Uint64
	http     *http.Client

	mu     sync.Mutex
	cur    *phase
	phases []*phase
	acked  []*op
	failed []string // what must not happen: 500s, 503s without Retry-After, hangs, broken answers, give-ups

	recv     *testserver.Receiver
	short    int      // page views acknowledged but not counted on their profile
	over     int      // counted more than acknowledged
	inflight sync.Map // *testserver.Process → *atomic.Int64: requests it has not answered yet
}

func (s *suite) inFlight(p *testserver.Process) *atomic.Int64 {
	v, _ := s.inflight.LoadOrStore(p, new(atomic.Int64))
	return v.(*atomic.Int64)
}

func TestDependencyFaultsUnderLoad(t *testing.T) {
	dir := os.Getenv("CHAOS_SERVICES_DIR")
	es, redisHost := os.Getenv("ELASTIC_HOST"), os.Getenv("REDIS_HOST")
	if dir == "" || es == "" || redisHost == "" {
		t.Skip("CHAOS_SERVICES_DIR, ELASTIC_HOST and REDIS_HOST must be set: make test-chaos starts the suite's own Redis and OpenSearch (it restarts and pauses them)")
	}
	started := time.Now()
	s := &suite{t: t, es: strings.TrimRight(es, "/"), prefix: "chaos",
		redis: &server{t: t, name: "redis", dir: filepath.Join(dir, "redis")}, search: &server{t: t, name: "opensearch", dir: filepath.Join(dir, "opensearch")},
		http: &http.Client{Timeout: clientTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 16,
			DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}}
	s.env = []string{"PATH=" + os.Getenv("PATH"), "ELASTIC_HOST=" + es, "ELASTIC_INDEX_PREFIX=" + s.prefix,
		"REDIS_HOST=" + redisHost, "REDIS_PORT=" + os.Getenv("REDIS_PORT"),
		"SECRETS_KEY=" + strings.Repeat("ce", 32), "INSTALLATION_TOKEN=" + installToken, "LOGGING_LEVEL=info",
		"HTTP_ADDR=127.0.0.1:0", "TRACK_RATE_LIMIT=0", "RUN_WORKERS=no", "OUTBOUND_ALLOW_PRIVATE=yes", "SHUTDOWN_TIMEOUT=30s"}
	bin := testserver.Binary(t)
	migrate := exec.Command(bin, "migrate")
	migrate.Env = s.env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	for range 2 {
		s.replicas = append(s.replicas, s.startReplica())
	}
	worker := testserver.StartCommand(t, "worker", append(s.env, "DATA_DIR="+t.TempDir(), "WORKER_HTTP_ADDR=127.0.0.1:0"))
	tok := testserver.AdminToken(t, s.replicas[0].URL, installToken, adminUser, adminPass)
	s.admin(tok, "/api/v1/event-sources", map[string]any{"id": "web", "name": "Web", "type": "rest", "enabled": true, "trusted": true})
	s.recv = testserver.NewReceiver(t, destID)
	s.admin(tok, "/api/v1/destinations", map[string]any{"id": destID, "name": "Chaos hook", "enabled": true, "events": true, "concurrency": 4,
		"webhook": map[string]any{"url": s.recv.URL(), "method": "POST", "timeout": "5s"}})
	time.Sleep(2 * time.Second) // the replicas learn of the source and the destination
	t.Logf("set up in %v (load average %s)", time.Since(started).Round(time.Second), loadavg())

	// Faults always end (SIGCONT) even when the test fails half-way.
	t.Cleanup(func() {
		for _, sv := range []*server{s.redis, s.search} {
			if b, err := os.ReadFile(filepath.Join(sv.dir, "pid")); err == nil {
				var pid int
				fmt.Sscan(string(b), &pid)
				if pid > 0 {
					syscall.Kill(pid, syscall.SIGCONT)
				}
			}
		}
	})

	s.setPhase("warm-up")
	stop := s.load()
	time.Sleep(8 * time.Second)

	s.fault("redis restart (SIGTERM, start again on its AOF)", func(p *phase) {
		p.note = fmt.Sprintf("redis down→PONG %v", s.redis.restartRedis().Round(100*time.Millisecond))
	})
	s.fault("redis paused 10 s (SIGSTOP/SIGCONT)", func(p *phase) { s.redis.pause(10 * time.Second) })
	s.fault("opensearch kill -9 + restart", func(p *phase) {
		d := s.search.killOpenSearch(5 * time.Minute)
		p.note = fmt.Sprintf("opensearch kill→yellow %v", d.Round(time.Second))
	})
	s.fault("opensearch paused 10 s (SIGSTOP/SIGCONT)", func(p *phase) { s.search.pause(10 * time.Second) })
	s.fault("serve replica SIGTERM mid-load", func(p *phase) {
		s.repMu.RLock()
		victim := s.replicas[1]
		s.repMu.RUnlock()
		// SIGTERM while the replica has requests in flight: they must be answered.
		busy := s.inFlight(victim)
		for deadline := time.Now().Add(10 * time.Second); busy.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		n := busy.Load()
		t0 := time.Now()
		exited, err := victim.Stop(45 * time.Second)
		if !exited {
			s.fail("replica 1 did not exit within 45 s of SIGTERM")
			victim.Kill()
		} else if err != nil {
			s.fail(fmt.Sprintf("replica 1 exited with %v after SIGTERM\n%s", err, tail(victim.Stderr.String())))
		}
		p.note = fmt.Sprintf("%d requests in flight at SIGTERM, graceful stop %v", n, time.Since(t0).Round(100*time.Millisecond))
		time.Sleep(3 * time.Second) // the other replica carries the load alone
		fresh := s.startReplica()
		s.repMu.Lock()
		s.replicas[1] = fresh
		s.repMu.Unlock()
	})
	s.setPhase("after")
	time.Sleep(2 * time.Second)
	stopped := time.Now()
	stop()
	t.Logf("load stopped in %v; %d requests acknowledged", time.Since(stopped).Round(100*time.Millisecond), len(s.acked))

	s.verify()
	s.report(time.Since(started))
	if exited, err := worker.Stop(30 * time.Second); !exited || err != nil {
		t.Errorf("worker did not stop cleanly on SIGTERM: exited %v, %v", exited, err)
	}
	for _, f := range s.failed {
		t.Error(f)
	}
}

func (s *suite) startReplica() *testserver.Process {
	return testserver.Start(s.t, append(s.env, "DATA_DIR="+s.t.TempDir()))
}

func (s *suite) admin(tok, path string, body any) {
	s.t.Helper()
	r, err := testserver.Send(s.replicas[0].URL, "POST", path, body, "Authorization", "Bearer "+tok)
	if err != nil || r.Status != http.StatusCreated {
		s.t.Fatalf("POST %s: %v %+v", path, err, r)
	}
}

func (s *suite) fail(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failed) < 50 {
		s.failed = append(s.failed, msg)
	}
}

func (s *suite) setPhase(name string) *phase {
	p := &phase{name: name, statuses: map[string]int{}, firstOK: make([]time.Time, len(s.replicas))}
	s.mu.Lock()
	s.cur = p
	s.phases = append(s.phases, p)
	s.mu.Unlock()
	return p
}

// fault runs inject under the load (which returns when the dependency is back), then
// waits until every replica answered a 200 after that.
func (s *suite) fault(name string, inject func(p *phase)) {
	p := s.setPhase(name)
	time.Sleep(3 * time.Second) // steady load before the fault
	s.t.Logf("fault: %s (load average %s)", name, loadavg())
	t0 := time.Now()
	inject(p)
	back := time.Now()
	s.mu.Lock()
	p.back, p.outage = back, back.Sub(t0)
	s.mu.Unlock()
	deadline := back.Add(2 * recoveryBound) // measured a while past the bound, to report it
	for {
		s.mu.Lock()
		done := true
		var last time.Time
		for _, ok := range p.firstOK {
			if ok.IsZero() {
				done = false
			} else if ok.After(last) {
				last = ok
			}
		}
		if done {
			p.recovery = last.Sub(back)
		}
		s.mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			p.recovery = -1
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p.recovery < 0 || p.recovery > recoveryBound {
		s.fail(fmt.Sprintf("%s: every replica answered 200 only %v after the dependency was back (bound %v)", name, p.recovery, recoveryBound))
	}
	s.t.Logf("  back after %v (%s), every replica served again %v later", p.outage.Round(100*time.Millisecond), p.note, p.recovery.Round(10*time.Millisecond))
	time.Sleep(3 * time.Second) // settle
}

// load starts the clients; stop waits for each to finish its current request.
func (s *suite) load() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 17))
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				s.send(s.makeOp(rng, c, n))
				time.Sleep(time.Duration(10+rng.IntN(20)) * time.Millisecond) // a few requests a second per client
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

func (s *suite) makeOp(rng *rand.Rand, c, n int) *op {
	o := &op{event: fmt.Sprintf("ev-%d-%06d", c, n)}
	x := rng.Float64()
	var ev map[string]any
	switch {
	case x < 0.08: // a new visitor
		o.kind, o.profile = "new", fmt.Sprintf("new-%d-%06d", c, n)
		ev = map[string]any{"id": o.event, "type": "page-view"}
	case x < 0.18: // a returning visitor signs in: visitors with one e-mail merge
		k := rng.IntN(poolSize)
		o.kind, o.profile = "signin", fmt.Sprintf("v%02d", k)
		ev = map[string]any{"id": o.event, "type": "sign-in",
			"properties": map[string]any{"email": map[string]any{"main": fmt.Sprintf("User%02d@Example.com", k%emails)}}}
	default: // a returning visitor
		o.kind, o.profile = "view", fmt.Sprintf("v%02d", rng.IntN(poolSize))
		ev = map[string]any{"id": o.event, "type": "page-view"}
	}
	o.body, _ = json.Marshal(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": o.profile},
		"session": map[string]any{"id": "s-" + o.profile}, "events": []any{ev}})
	return o
}

// send is a client SDK: it retries with the same body (and event id) until a 200, on
// 503 after Retry-After, on a transport error or timeout at once on the next replica.
func (s *suite) send(o *op) {
	s.mu.Lock()
	o.phase = s.cur
	s.mu.Unlock()
	giveUp := time.Now().Add(retryBound)
	for attempt := 0; ; attempt++ {
		s.repMu.RLock()
		slot := int(s.next.Add(1) % uint64(len(s.replicas)))
		rep := s.replicas[slot]
		s.repMu.RUnlock()
		req, _ := http.NewRequest("POST", rep.URL+"/track", bytes.NewReader(o.body))
		req.Header.Set("Content-Type", "application/json")
		// Marks the POST as safe to replay for Go's transport, which then retries it on
		// a keep-alive connection the server closed before reading it.
		req.Header.Set("Idempotency-Key", o.event)
		busy := s.inFlight(rep)
		busy.Add(1)
		t0 := time.Now()
		res, err := s.http.Do(req)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		took := time.Since(t0)
		busy.Add(-1)
		now := time.Now()
		var class string
		retryAfter := time.Duration(0)
		switch {
		case err != nil && isTimeout(err):
			class = "timeout"
		case err != nil && isRefused(err):
			class = "refused" // a stopped replica: the load balancer's business, not an answer
		case err != nil:
			class = "broken"
		case res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "":
			class = "503"
			var sec int
			fmt.Sscan(res.Header.Get("Retry-After"), &sec)
			retryAfter = time.Duration(sec) * time.Second
		case res.StatusCode == http.StatusServiceUnavailable:
			class = "503 without Retry-After"
		default:
			class = fmt.Sprint(res.StatusCode)
		}
		s.mu.Lock()
		p := s.cur
		p.statuses[class]++
		if took > p.longest {
			p.longest = took
		}
		if class == "200" && !p.back.IsZero() && now.After(p.back) && slot < len(p.firstOK) && p.firstOK[slot].IsZero() {
			p.firstOK[slot] = now
		}
		if class == "200" {
			s.acked = append(s.acked, o)
		}
		s.mu.Unlock()
		switch class {
		case "200":
			return
		case "503", "refused":
		case "timeout", "broken":
			s.fail(fmt.Sprintf("%s: event %s: %s after %v: %v", p.name, o.event, class, took.Round(time.Millisecond), err))
		default:
			s.fail(fmt.Sprintf("%s: event %s: %s after %v: %.300s", p.name, o.event, class, took.Round(time.Millisecond), body))
			if class != "503 without Retry-After" && class != "429" {
				return // not something a retry fixes
			}
		}
		if time.Now().After(giveUp) {
			s.fail(fmt.Sprintf("%s: event %s: no 200 within %v of retries (last: %s)", p.name, o.event, retryBound, class))
			return
		}
		wait := min(retryAfter, time.Second)
		if class == "refused" {
			wait = 50 * time.Millisecond
		}
		time.Sleep(wait + time.Duration(rand.IntN(200))*time.Millisecond)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// verify counts what was stored against what was acknowledged.
func (s *suite) verify() {
	t := s.t
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := s.esDo(ctx, "POST", "/"+s.prefix+"-*/_refresh", nil, nil); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	// Every acknowledged event stored exactly once (by id, over every monthly index).
	stored := map[string]int{}
	for i := 0; i < len(s.acked); i += 1000 {
		var ids []string
		for _, o := range s.acked[i:min(i+1000, len(s.acked))] {
			ids = append(ids, o.event)
		}
		var res struct {
			Hits struct {
				Hits []struct {
					ID string `json:"_id"`
				} `json:"hits"`
			} `json:"hits"`
		}
		q := map[string]any{"size": 2 * len(ids), "_source": false, "query": map[string]any{"ids": map[string]any{"values": ids}}}
		if err := s.esDo(ctx, "POST", "/"+s.prefix+"-events/_search", q, &res); err != nil {
			t.Fatalf("counting events: %v", err)
		}
		for _, h := range res.Hits.Hits {
			stored[h.ID]++
		}
	}
	seen := map[string]bool{}
	for _, o := range s.acked {
		if seen[o.event] {
			continue
		}
		seen[o.event] = true
		switch n := stored[o.event]; {
		case n == 0:
			o.phase.lost++
			s.fail(fmt.Sprintf("%s: acknowledged event %s (%s of %s) is not stored", o.phase.name, o.event, o.kind, o.profile))
		case n > 1:
			o.phase.dup += n - 1
			s.fail(fmt.Sprintf("%s: event %s stored %d times", o.phase.name, o.event, n))
		}
	}

	// Profiles: each id resolves to one live profile; its views are the acknowledged
	// page views of every id merged into it; one live profile per e-mail.
	var res struct {
		Hits struct {
			Hits []struct {
				Source struct {
					ID       string   `json:"id"`
					IDs      []string `json:"ids"`
					Metadata struct {
						MergedInto string `json:"merged_into"`
					} `json:"metadata"`
					Stats struct {
						Views int64 `json:"views"`
					} `json:"stats"`
					Data struct {
						Contact struct {
							Email struct {
								Main string `json:"main"`
							} `json:"email"`
						} `json:"contact"`
					} `json:"data"`
				} `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	q := map[string]any{"size": 10000, "query": map[string]any{"match_all": map[string]any{}},
		"_source": []string{"id", "ids", "metadata.merged_into", "stats.views", "data.contact.email.main"}}
	if err := s.esDo(ctx, "POST", "/"+s.prefix+"-profiles/_search", q, &res); err != nil {
		t.Fatalf("reading profiles: %v", err)
	}
	owner := map[string]string{} // profile id → live profile holding it
	mergedInto := map[string]string{}
	views := map[string]int64{}
	byEmail := map[string][]string{}
	for _, h := range res.Hits.Hits {
		p := h.Source
		if p.Metadata.MergedInto != "" {
			mergedInto[p.ID] = p.Metadata.MergedInto
			continue
		}
		views[p.ID] = p.Stats.Views
		for _, id := range append([]string{p.ID}, p.IDs...) {
			if o, ok := owner[id]; ok && o != p.ID {
				s.fail(fmt.Sprintf("profile id %s is held by two live profiles: %s and %s", id, o, p.ID))
			}
			owner[id] = p.ID
		}
		if e := p.Data.Contact.Email.Main; e != "" {
			byEmail[e] = append(byEmail[e], p.ID)
		}
	}
	for e, live := range byEmail {
		if len(live) > 1 {
			s.fail(fmt.Sprintf("e-mail %s: %d live profiles %v after merging", e, len(live), live))
		}
	}
	resolve := func(id string) string {
		for hops := 0; hops < 20; hops++ {
			if o, ok := owner[id]; ok {
				return o
			}
			next, ok := mergedInto[id]
			if !ok {
				return ""
			}
			id = next
		}
		return ""
	}
	want := map[string]int64{}
	for _, o := range s.acked {
		live := resolve(o.profile)
		if live == "" {
			o.phase.lost++
			s.fail(fmt.Sprintf("%s: profile %s of acknowledged event %s is not stored", o.phase.name, o.profile, o.event))
			continue
		}
		if o.kind != "signin" {
			want[live]++
		}
	}
	short, over := 0, 0
	for live, n := range want {
		if views[live] != n {
			if views[live] < n {
				short += int(n - views[live])
			} else {
				over += int(views[live] - n)
			}
			s.fail(fmt.Sprintf("profile %s: views %d, acknowledged page views %d of the ids merged into it", live, views[live], n))
		}
	}
	s.short, s.over = short, over
	t.Logf("stored: %d acknowledged events checked by id; %d live profiles (%d merged away), %d with views: %d views short, %d over",
		len(seen), len(views), len(mergedInto), len(want), short, over)

	// The destination got every acknowledged event at least once, repeats only with the
	// same Idempotency-Key.
	var ackedIDs []string
	for _, o := range s.acked {
		ackedIDs = append(ackedIDs, o.event)
	}
	deadline := time.Now().Add(3 * time.Minute)
	var missing []string
	for {
		missing = s.recv.Missing(ackedIDs)
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(missing) > 0 {
		s.fail(fmt.Sprintf("%d acknowledged events never reached the destination, e.g. %v", len(missing), missing[:min(5, len(missing))]))
	}
	keys, extra := s.recv.Duplicates()
	bad := s.recv.Bad()
	if len(bad) > 0 {
		s.fail(fmt.Sprintf("%d deliveries with a key that does not name their event, e.g. %v", len(bad), bad[:min(3, len(bad))]))
	}
	t.Logf("destination: %d deliveries, every acknowledged event delivered: %v; %d keys delivered more than once (%d repeats, each with its event's key)",
		s.recv.Total(), len(missing) == 0, keys, extra)
}

func (s *suite) esDo(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(ctx, method, s.es+path, rd)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %.500s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (s *suite) report(total time.Duration) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-46s | %-40s | %-8s | %-9s | %s\n", "fault", "statuses clients saw", "longest", "recovery", "lost/dup")
	fmt.Fprintf(&b, "%s\n", strings.Repeat("-", 130))
	for _, p := range s.phases {
		var keys []string
		for k := range p.statuses {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var st []string
		for _, k := range keys {
			st = append(st, fmt.Sprintf("%s×%d", k, p.statuses[k]))
		}
		rec := "-"
		switch {
		case p.back.IsZero():
		case p.recovery < 0:
			rec = "none"
		default:
			rec = p.recovery.Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(&b, "%-46s | %-40s | %-8s | %-9s | %d/%d", p.name, strings.Join(st, " "), p.longest.Round(10*time.Millisecond), rec, p.lost, p.dup)
		if p.note != "" {
			fmt.Fprintf(&b, "  (%s)", p.note)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "acknowledged %d; profile views short %d, over %d; whole test %v, load average %s\n",
		len(s.acked), s.short, s.over, total.Round(time.Second), loadavg())
	s.t.Log(b.String())
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
