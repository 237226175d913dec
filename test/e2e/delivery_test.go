package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// receiver is a local webhook receiver that records every delivery it is sent.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	byKey  map[string]int    // deliveries per Idempotency-Key
	events map[string]string // event id (from the body) -> the key it came with
	bodies []string
	auth   []string
	status atomic.Int32 // the status it answers (200 by default)
	delay  atomic.Int64 // how long it takes, in nanoseconds
	total  atomic.Int64
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{byKey: map[string]int{}, events: map[string]string{}}
	r.status.Store(200)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if d := r.delay.Load(); d > 0 {
			time.Sleep(time.Duration(d))
		}
		st := int(r.status.Load())
		if st == 200 {
			key := req.Header.Get("Idempotency-Key")
			var doc struct {
				Event struct {
					ID string `json:"id"`
				} `json:"event"`
			}
			json.Unmarshal(body, &doc)
			r.mu.Lock()
			r.byKey[key]++
			if doc.Event.ID != "" {
				if prev, ok := r.events[doc.Event.ID]; ok && prev != key {
					t.Errorf("event %s delivered with keys %q and %q", doc.Event.ID, prev, key)
				}
				r.events[doc.Event.ID] = key
			}
			r.bodies = append(r.bodies, string(body))
			r.auth = append(r.auth, req.Header.Get("Authorization"))
			r.mu.Unlock()
			r.total.Add(1)
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byKey)
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	t0 := time.Now()
	defer func() { t.Logf("waited %s for %s", time.Since(t0).Round(time.Millisecond), what) }()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) destination(body map[string]any) {
	s.t.Helper()
	if r := s.auth("POST", "/api/v1/destinations", body); r.Status != http.StatusCreated {
		s.t.Fatalf("creating destination: %d %s", r.Status, r.Body)
	}
}

func purchases(source string, from, n int) map[string]any {
	events := make([]map[string]any, n)
	for i := range events {
		events[i] = map[string]any{"id": fmt.Sprintf("ev-%06d", from+i), "type": "purchase", "properties": map[string]any{"n": from + i}}
	}
	return map[string]any{"source": map[string]any{"id": source}, "profile": map[string]any{"id": fmt.Sprintf("p-%d", from)}, "events": events}
}

// TestDeliveryAtLeastOnceAcrossKill9: events sent to an event destination, the server
// killed with -9 while it delivers them and started again: every event that /track
// accepted is delivered, a duplicate only ever with the same idempotency key, and
// events the filter leaves out are not delivered.
func TestDeliveryAtLeastOnceAcrossKill9(t *testing.T) {
	const n = 10000
	rcv := newReceiver(t)
	rcv.delay.Store(int64(time.Millisecond))
	s := start(t, "", "OUTBOUND_ALLOW_PRIVATE=yes")
	s.source("shop")
	s.destination(map[string]any{"id": "crm", "name": "CRM", "enabled": true, "events": true, "filter": `type == "purchase"`,
		"concurrency": 8, "webhook": map[string]any{"url": rcv.URL + "/hook", "auth": map[string]any{"type": "bearer", "token": "tok-crm"}}})
	// Not delivered: another event type.
	s.track(map[string]any{"source": map[string]any{"id": "shop"}, "events": []map[string]any{{"id": "pv-1", "type": "page-view"}}})
	for i := 0; i < n; i += 100 {
		s.track(purchases("shop", i, 100))
	}
	waitFor(t, time.Minute, "some deliveries", func() bool { return rcv.total.Load() >= n/5 })
	before := rcv.total.Load()
	s.restart() // kill -9, then start again on the same data
	start := time.Now()
	waitFor(t, 3*time.Minute, "every event delivered", func() bool { return rcv.distinct() >= n })
	took := time.Since(start)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	dups := 0
	for key, c := range rcv.byKey {
		if !strings.HasSuffix(key, ":crm") {
			t.Errorf("idempotency key %q is not event id:destination id", key)
		}
		dups += c - 1
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("ev-%06d", i)
		if rcv.events[id] != id+":crm" {
			t.Fatalf("event %s: delivered with key %q", id, rcv.events[id])
		}
	}
	if _, ok := rcv.events["pv-1"]; ok {
		t.Errorf("an event the filter leaves out was delivered")
	}
	if rcv.auth[0] != "Bearer tok-crm" {
		t.Errorf("Authorization %q", rcv.auth[0])
	}
	t.Logf("%d events: %d delivered before kill -9, all %d after restart in %s; %d duplicates (same key)", n, before, n, took.Round(time.Millisecond), dups)
}

// TestDeliveryRetriesDeadLettersReplay: a receiver answering 500 gets retries (same
// key) until DELIVERY_MAX_AGE, then the deliveries are dead letters, listed with their
// error; replayed one and then all, they are delivered. A 400 is not retried.
func TestDeliveryRetriesDeadLettersReplay(t *testing.T) {
	rcv := newReceiver(t)
	rcv.status.Store(500)
	var calls atomic.Int64
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		rcv.Config.Handler.ServeHTTP(w, r)
	}))
	defer counting.Close()
	s := start(t, "", "OUTBOUND_ALLOW_PRIVATE=yes", "DELIVERY_MAX_AGE=2s", "DELIVERY_BACKOFF=100ms", "DESTINATION_PAUSE_AFTER=0")
	s.source("shop")
	s.destination(map[string]any{"id": "crm", "name": "CRM", "enabled": true, "events": true,
		"template": `{"id": "{{event@id}}", "n": "{{event@properties.n}}", "label": "order {{event@properties.n}}"}`,
		"webhook":  map[string]any{"url": counting.URL}})
	s.track(purchases("shop", 0, 3))
	base := "/api/v1/destinations/crm"
	waitFor(t, 30*time.Second, "three dead letters", func() bool {
		return at(s.auth("GET", base+"/status", nil).JSON(t), "dead_letters") == float64(3)
	})
	if c := calls.Load(); c < 6 {
		t.Errorf("%d calls for 3 deliveries: no retries", c)
	}
	dead := s.auth("GET", base+"/dead-letters", nil).JSON(t)
	items := dead["items"].([]any)
	first := items[0].(map[string]any)
	if dead["total"] != float64(3) || !strings.Contains(first["error"].(string), "500") || first["attempts"].(float64) < 2 ||
		!strings.HasSuffix(first["id"].(string), ":crm") || !strings.Contains(first["body"].(string), `"n":`) {
		t.Fatalf("dead letters: %v", dead)
	}
	// The delivery log is written beside the dead letter, not in the same step: the
	// third "dead" entry may follow the status by a moment.
	var outcomes map[string]int
	waitFor(t, 10*time.Second, "three dead entries in the delivery log", func() bool {
		log := s.auth("GET", base+"/deliveries?limit=100", nil).JSON(t)
		outcomes = map[string]int{}
		for _, it := range log["items"].([]any) {
			a := it.(map[string]any)
			outcomes[a["outcome"].(string)]++
			if a["outcome"] == "failed" && a["status"] != float64(500) {
				t.Errorf("failed attempt without the status: %v", a)
			}
		}
		return outcomes["dead"] >= 3
	})
	if outcomes["failed"] < 3 || outcomes["dead"] != 3 {
		t.Errorf("delivery log outcomes %v", outcomes)
	}

	rcv.status.Store(200)
	id := first["id"].(string)
	if r := s.auth("POST", base+"/dead-letters/"+id+"/replay", nil); r.Status != 200 || at(r.JSON(t), "replayed") != float64(1) {
		t.Fatalf("replay one: %d %s", r.Status, r.Body)
	}
	waitFor(t, 10*time.Second, "the replayed delivery", func() bool { return rcv.distinct() == 1 })
	rcv.mu.Lock()
	if rcv.byKey[id] != 1 {
		t.Errorf("replayed %s, delivered %v", id, rcv.byKey)
	}
	// The template renders JSON: single placeholders keep their type.
	var body map[string]any
	if err := json.Unmarshal([]byte(rcv.bodies[0]), &body); err != nil || body["label"] == nil {
		t.Errorf("templated body %q: %v", rcv.bodies[0], err)
	} else if _, isNum := body["n"].(float64); !isNum {
		t.Errorf("templated body %q: n is not a number", rcv.bodies[0])
	}
	rcv.mu.Unlock()
	if r := s.auth("POST", base+"/dead-letters/"+id+"/replay", nil); r.Status != 404 {
		t.Errorf("replaying a replayed item: %d %s", r.Status, r.Body)
	}
	if r := s.auth("POST", base+"/dead-letters/replay", nil); r.Status != 200 || at(r.JSON(t), "replayed") != float64(2) {
		t.Fatalf("replay all: %d %s", r.Status, r.Body)
	}
	waitFor(t, 10*time.Second, "every replayed delivery", func() bool { return rcv.distinct() == 3 })
	if st := s.auth("GET", base+"/status", nil).JSON(t); st["dead_letters"] != float64(0) {
		t.Errorf("status after replay: %v", st)
	}

	// A 400 is permanent: dead at the first attempt.
	rcv.status.Store(400)
	before := calls.Load()
	s.track(purchases("shop", 100, 1))
	waitFor(t, 10*time.Second, "the rejected delivery's dead letter", func() bool {
		return at(s.auth("GET", base+"/status", nil).JSON(t), "dead_letters") == float64(1)
	})
	if c := calls.Load() - before; c != 1 {
		t.Errorf("a 400 was tried %d times", c)
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/v1/destinations/nope/deliveries", 404},
		{"GET", "/api/v1/destinations/nope/dead-letters", 404},
		{"POST", "/api/v1/destinations/nope/dead-letters/replay", 404},
		{"GET", "/api/v1/destinations/nope/status", 404},
		{"POST", "/api/v1/destinations/nope/resume", 404},
		{"GET", base + "/deliveries?limit=abc", 400},
		{"POST", base + "/dead-letters/unknown/replay", 404},
	} {
		if r := s.auth(tc.method, tc.path, nil); r.Status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.status)
		}
	}
	if r := s.do("GET", base+"/deliveries", nil); r.Status != 401 {
		t.Errorf("delivery log without a token: %d", r.Status)
	}
}

// TestDestinationPausedAndResumed: after DESTINATION_PAUSE_AFTER failures in a row a
// destination is paused (nothing more is sent, deliveries wait); resumed through the
// API, the waiting deliveries go out.
func TestDestinationPausedAndResumed(t *testing.T) {
	rcv := newReceiver(t)
	rcv.status.Store(503)
	s := start(t, "", "OUTBOUND_ALLOW_PRIVATE=yes", "DELIVERY_BACKOFF=50ms", "DESTINATION_PAUSE_AFTER=3")
	s.source("shop")
	s.destination(map[string]any{"id": "crm", "name": "CRM", "enabled": true, "events": true, "concurrency": 1,
		"webhook": map[string]any{"url": rcv.URL}})
	s.track(purchases("shop", 0, 5))
	base := "/api/v1/destinations/crm"
	waitFor(t, 20*time.Second, "the destination paused", func() bool { return at(s.auth("GET", base+"/status", nil).JSON(t), "paused") == true })
	st := s.auth("GET", base+"/status", nil).JSON(t)
	if st["queued"] != float64(5) || !strings.Contains(st["reason"].(string), "3 failed deliveries") {
		t.Fatalf("status: %v", st)
	}
	rcv.status.Store(200)
	if r := s.auth("POST", base+"/resume", nil); r.Status != 200 || at(r.JSON(t), "paused") != false {
		t.Fatalf("resume: %d %s", r.Status, r.Body)
	}
	defer func() {
		if t.Failed() {
			s.Cmd.Process.Signal(syscall.SIGQUIT)
			time.Sleep(time.Second)
			t.Log(s.Stderr.String())
		}
	}()
	waitFor(t, 20*time.Second, "the waiting deliveries", func() bool { return rcv.distinct() == 5 })
	if r := s.auth("POST", base+"/pause", nil); r.Status != 200 || at(r.JSON(t), "paused") != true {
		t.Fatalf("pause: %d %s", r.Status, r.Body)
	}
}

// TestProfileDestinationOnlyOnChange: a profile destination gets the rendered profile
// when it changed since the last delivery, not on every request.
func TestProfileDestinationOnlyOnChange(t *testing.T) {
	rcv := newReceiver(t)
	s := start(t, "", "OUTBOUND_ALLOW_PRIVATE=yes")
	s.source("shop")
	s.destination(map[string]any{"id": "ads", "name": "Ads", "enabled": true, "profiles": true,
		"filter": `data.contact.email.main EXISTS`, "concurrency": 1,
		"template": `{"email": "{{profile@data.contact.email.main}}"}`, "webhook": map[string]any{"url": rcv.URL}})
	send := func(events ...map[string]any) {
		s.track(map[string]any{"source": map[string]any{"id": "shop"}, "profile": map[string]any{"id": "p1"}, "session": map[string]any{"id": "s1"}, "events": events})
	}
	send(map[string]any{"type": "page-view"}) // no e-mail: filtered out
	send(map[string]any{"type": "sign-in", "properties": map[string]any{"email": map[string]any{"main": "a@example.com"}}})
	waitFor(t, 10*time.Second, "the first delivery", func() bool { return rcv.total.Load() == 1 })
	for i := 0; i < 3; i++ {
		send(map[string]any{"type": "page-view"}) // the rendered payload is unchanged
	}
	send(map[string]any{"type": "sign-in", "properties": map[string]any{"email": map[string]any{"main": "b@example.com"}}})
	waitFor(t, 10*time.Second, "the second delivery", func() bool { return rcv.total.Load() == 2 })
	waitFor(t, 10*time.Second, "the queue empty", func() bool {
		return at(s.auth("GET", "/api/v1/destinations/ads/status", nil).JSON(t), "queued") == float64(0)
	})
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.total.Load() != 2 || rcv.bodies[0] != `{"email":"a@example.com"}` || rcv.bodies[1] != `{"email":"b@example.com"}` {
		t.Fatalf("deliveries %v", rcv.bodies)
	}
	log := s.auth("GET", "/api/v1/destinations/ads/deliveries", nil).JSON(t)
	skipped := 0
	for _, it := range log["items"].([]any) {
		if it.(map[string]any)["outcome"] == "skipped" {
			skipped++
		}
	}
	if skipped != 3 {
		t.Errorf("%d skipped (unchanged) deliveries, want 3: %v", skipped, log)
	}
}

// TestSlowReceiverDoesNotSlowTrack compares /track latency without a destination and
// with one whose receiver takes 2 s per call, in the same run. The figures are logged
// (not asserted: timings vary with the machine).
func TestSlowReceiverDoesNotSlowTrack(t *testing.T) {
	rcv := newReceiver(t)
	rcv.delay.Store(int64(2 * time.Second))
	s := start(t, "", "OUTBOUND_ALLOW_PRIVATE=yes")
	s.source("shop")
	measure := func(from int) (p50, p99 time.Duration) {
		var ds []time.Duration
		for i := 0; i < 200; i++ {
			t0 := time.Now()
			s.track(purchases("shop", from+i*2, 2))
			ds = append(ds, time.Since(t0))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2], ds[len(ds)*99/100]
	}
	measure(0) // warm up
	b50, b99 := measure(1000)
	s.destination(map[string]any{"id": "slow", "name": "Slow", "enabled": true, "events": true, "webhook": map[string]any{"url": rcv.URL, "timeout": "10s"}})
	time.Sleep(100 * time.Millisecond)
	w50, w99 := measure(2000)
	st := s.auth("GET", "/api/v1/destinations/slow/status", nil).JSON(t)
	if st["queued"].(float64) < 300 {
		t.Fatalf("the slow receiver's deliveries are not queued: %v", st)
	}
	t.Logf("/track latency p50/p99: without destination %s/%s; with a 2 s receiver %s/%s (%v deliveries queued behind it)",
		b50.Round(10*time.Microsecond), b99.Round(10*time.Microsecond), w50.Round(10*time.Microsecond), w99.Round(10*time.Microsecond), st["queued"])
}

// TestRetriedEventQueuedOnce: a client's retry of an event stored already plans its
// deliveries again (docs/architecture.md, "Background work"); on the embedded store the
// event's delivery was queued in its own transaction, so the retry — with the profile
// id (the pipeline's path) or without (a replay answered from the stored event), before
// the delivery or after it — adds no second work item: the receiver gets the event once.
func TestRetriedEventQueuedOnce(t *testing.T) {
	rcv := newReceiver(t)
	s := start(t, "", "OUTBOUND_ALLOW_PRIVATE=yes")
	s.source("shop")
	s.destination(map[string]any{"id": "crm", "name": "CRM", "enabled": true, "events": true, "concurrency": 1,
		"webhook": map[string]any{"url": rcv.URL + "/hook"}})
	base := "/api/v1/destinations/crm"
	if r := s.auth("POST", base+"/pause", nil); r.Status >= 300 {
		t.Fatalf("pause: %d %s", r.Status, r.Body)
	}
	withProfile := map[string]any{"source": map[string]any{"id": "shop"}, "profile": map[string]any{"id": "p-retry"},
		"events": []map[string]any{{"id": "ev-retry", "type": "purchase"}}}
	bare := map[string]any{"source": map[string]any{"id": "shop"}, "events": []map[string]any{{"id": "ev-retry", "type": "purchase"}}}
	retry := func(when string) {
		t.Helper()
		for _, body := range []map[string]any{withProfile, bare} {
			res := s.track(body)
			if len(res.Events) != 1 || res.Events[0] != "ev-retry" || len(res.Warnings) == 0 ||
				!strings.Contains(strings.Join(res.Warnings, " "), "already received") {
				t.Fatalf("retry %s: %+v", when, res)
			}
		}
	}
	first := s.track(withProfile)
	if len(first.Warnings) != 0 {
		t.Fatalf("first attempt: warnings %v", first.Warnings)
	}
	retry("while queued")
	if q := at(s.auth("GET", base+"/status", nil).JSON(t), "queued"); q != float64(1) {
		t.Fatalf("queued deliveries after two retries: %v, want 1", q)
	}
	if r := s.auth("POST", base+"/resume", nil); r.Status >= 300 {
		t.Fatalf("resume: %d %s", r.Status, r.Body)
	}
	waitFor(t, 30*time.Second, "the delivery", func() bool { return rcv.total.Load() >= 1 })
	retry("after the delivery")
	// A later event to the same destination (one delivery at a time, in queue order):
	// once it arrives, a work item the retries had queued would have arrived before it.
	s.track(map[string]any{"source": map[string]any{"id": "shop"}, "profile": map[string]any{"id": "p-retry"},
		"events": []map[string]any{{"id": "ev-after", "type": "purchase"}}})
	waitFor(t, 30*time.Second, "the later event's delivery", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return rcv.byKey["ev-after:crm"] > 0
	})
	rcv.mu.Lock()
	byKey := maps.Clone(rcv.byKey)
	rcv.mu.Unlock()
	if byKey["ev-retry:crm"] != 1 || len(byKey) != 2 {
		t.Fatalf("deliveries by key %v: want ev-retry:crm and ev-after:crm once each", byKey)
	}
	// The acknowledgement's deletion is committed after the delivery is counted.
	waitFor(t, 10*time.Second, "an empty queue", func() bool {
		return at(s.auth("GET", base+"/status", nil).JSON(t), "queued") == float64(0)
	})
}
