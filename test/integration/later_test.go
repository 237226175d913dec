package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/test/testserver"
)

// deploy creates and deploys a chain of nodes as flow id through r, with a rule for
// eventType when it is not empty.
func (c *cluster) deploy(r *replica, id, eventType string, nodes ...map[string]any) {
	c.t.Helper()
	var edges []any
	for i := 1; i < len(nodes); i++ {
		edges = append(edges, map[string]any{"source": nodes[i-1]["id"], "source_port": "payload", "target": nodes[i]["id"], "target_port": "payload"})
	}
	list := make([]any, len(nodes))
	for i, n := range nodes {
		list[i] = n
	}
	reqs := []*response{
		c.auth(r, "POST", "/api/v1/flows", map[string]any{"id": id, "name": id, "draft": map[string]any{"nodes": list, "edges": edges}}),
		c.auth(r, "POST", "/api/v1/flows/"+id+"/deploy", nil),
	}
	if eventType != "" {
		reqs = append(reqs, c.auth(r, "POST", "/api/v1/rules", map[string]any{"name": id, "event_type": eventType, "flow_id": id}))
	}
	for _, res := range reqs {
		if res.Status != http.StatusCreated && res.Status != http.StatusOK {
			c.t.Fatalf("flow %s: %d %s", id, res.Status, res.Body)
		}
	}
}

func flowNode(id, typ string, config map[string]any) map[string]any {
	return map[string]any{"id": id, "type": typ, "config": config}
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestSleepResumedByWorker: a flow run on a serve replica (RUN_WORKERS=no) sleeps 2 s;
// the replica is killed with -9 right after /track answered; a `thamesthrive worker`
// started afterwards resumes the run (outbox → sweeper → Redis delayed set) and
// commits the rest of the flow to the profile, once.
func TestSleepResumedByWorker(t *testing.T) {
	c := newClusterEnv(t, 1, "RUN_WORKERS=no")
	r0 := c.replicas[0]
	c.source(r0, "shop")
	c.deploy(r0, "nurture", "signup",
		flowNode("start", "start", nil),
		flowNode("before", "set-data", map[string]any{"set": map[string]any{"profile@traits.stage": "before", "memory@plan": "{{event@properties.plan}}"}}),
		flowNode("wait", "sleep", map[string]any{"duration": "2s"}),
		flowNode("after", "set-data", map[string]any{"set": map[string]any{"profile@traits.stage": "after", "profile@traits.plan": "{{memory@plan}}"}}),
		flowNode("count", "increment-counter", map[string]any{"counter": "resumed"}))
	// The sleep starts while the request is processed: it is over 2 s after the request
	// was sent, not after its answer (a replica's first /track can take most of a second).
	sent := time.Now()
	res := r0.do("POST", "/track", map[string]any{"source": map[string]any{"id": "shop"}, "profile": map[string]any{"id": "p-it-sleep"},
		"events": []any{map[string]any{"type": "signup", "properties": map[string]any{"plan": "gold"}}}})
	if res.Status != http.StatusOK {
		t.Fatalf("/track: %d %s", res.Status, res.Body)
	}
	tracked := time.Now()
	r0.kill()
	r1 := c.start(1)
	w := c.startWorker()
	defer w.Kill()
	profile := func() map[string]any {
		res := c.auth(r1, "GET", "/api/v1/profiles/p-it-sleep", nil)
		if res.Status != http.StatusOK {
			return nil
		}
		return res.JSON(t)
	}
	eventually(t, 60*time.Second, "the resumed flow", func() bool { return testserver.At(profile(), "traits.stage") == "after" })
	if d := time.Since(sent); d < 2*time.Second {
		t.Errorf("resumed after %s, before the sleep was over", d)
	}
	time.Sleep(3 * time.Second)
	p := profile()
	if testserver.At(p, "traits.plan") != "gold" || testserver.At(p, "stats.counters.resumed") != 1.0 {
		t.Errorf("after the resume: plan %v, counter %v; want gold, 1", testserver.At(p, "traits.plan"), testserver.At(p, "stats.counters.resumed"))
	}
	t.Logf("resumed by the worker %s after /track", time.Since(tracked).Round(100*time.Millisecond))
}

// TestScheduleFiresOnceWithTwoWorkers: a schedule every 2 s with two worker processes
// fires its flow (a webhook to a local receiver) once per due time: no due time is
// received twice.
func TestScheduleFiresOnceWithTwoWorkers(t *testing.T) {
	c := newClusterEnv(t, 1, "RUN_WORKERS=no", "OUTBOUND_ALLOW_PRIVATE=yes")
	r0 := c.replicas[0]
	var mu sync.Mutex
	dues := map[string]int{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		due, _ := m["due"].(string)
		mu.Lock()
		dues[due]++
		mu.Unlock()
	}))
	defer hook.Close()
	c.deploy(r0, "ping", "", flowNode("start", "start", nil),
		flowNode("call", "webhook", map[string]any{"url": hook.URL + "/tick", "method": "POST", "timeout": "5s",
			"body": map[string]any{"due": "{{event@properties.due}}"}}))
	w1, w2 := c.startWorker(), c.startWorker()
	defer w1.Kill()
	defer w2.Kill()
	if res := c.auth(r0, "POST", "/api/v1/schedules", map[string]any{"id": "it-ping", "name": "Ping", "cron": "@every 2s", "flow_id": "ping"}); res.Status != http.StatusCreated {
		t.Fatalf("schedule: %d %s", res.Status, res.Body)
	}
	count := func() (distinct, total int) {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range dues {
			distinct++
			total += n
		}
		return
	}
	eventually(t, 60*time.Second, "five scheduled runs", func() bool { d, _ := count(); return d >= 5 })
	if res := c.auth(r0, "DELETE", "/api/v1/schedules/it-ping", nil); res.Status != http.StatusNoContent {
		t.Fatalf("delete: %d", res.Status)
	}
	time.Sleep(3 * time.Second)
	distinct, total := count()
	if total != distinct {
		mu.Lock()
		t.Errorf("%d runs for %d due times (with two workers): %v", total, distinct, dues)
		mu.Unlock()
	}
	t.Logf("two workers: %d due times fired, %d runs", distinct, total)
}

// TestVisitEndedOnProduction: with SESSION_TIMEOUT=2s the worker ends an inactive
// session with one visit-ended event, processed through the pipeline (a rule runs).
func TestVisitEndedOnProduction(t *testing.T) {
	c := newClusterEnv(t, 1, "RUN_WORKERS=no", "SESSION_TIMEOUT=2s")
	r0 := c.replicas[0]
	c.source(r0, "web")
	c.deploy(r0, "visit-summary", "visit-ended", flowNode("start", "start", nil),
		flowNode("mark", "set-data", map[string]any{"set": map[string]any{"profile@traits.ended_session": "{{event@properties.session_id}}"}}),
		flowNode("count", "increment-counter", map[string]any{"counter": "visits_ended"}))
	w := c.startWorker()
	defer w.Kill()
	for i := 0; i < 2; i++ {
		res := r0.do("POST", "/track", map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "p-it-visit"},
			"session": map[string]any{"id": "s-it-1"}, "events": []any{map[string]any{"type": "page-view"}}})
		if res.Status != http.StatusOK {
			t.Fatalf("/track: %d %s", res.Status, res.Body)
		}
	}
	profile := func() map[string]any { return c.auth(r0, "GET", "/api/v1/profiles/p-it-visit", nil).JSON(t) }
	eventually(t, 60*time.Second, "visit-ended", func() bool { return testserver.At(profile(), "traits.ended_session") == "s-it-1" })
	time.Sleep(4 * time.Second)
	if n := testserver.At(profile(), "stats.counters.visits_ended"); n != 1.0 {
		t.Errorf("visits ended = %v, want 1", n)
	}
}
