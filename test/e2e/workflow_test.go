package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// hookServer records what webhooks send it.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		h.mu.Lock()
		h.bodies = append(h.bodies, m)
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) received() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.bodies...)
}

// bigSpenderFlow is the flow of issue 4's scenario: start → if(price > 100) → on true
// add-segment "big-spender", increment-counter "purchases" and a webhook to url.
func bigSpenderFlow(url string) map[string]any {
	edge := func(src, port, dst string) map[string]any {
		return map[string]any{"source": src, "source_port": port, "target": dst, "target_port": "payload"}
	}
	return map[string]any{
		"id": "big-spender", "name": "Big spender", "description": "Purchases over 100",
		"draft": map[string]any{
			"nodes": []any{
				map[string]any{"id": "start", "type": "start", "position": map[string]any{"x": 0, "y": 0}},
				map[string]any{"id": "check", "type": "if", "config": map[string]any{"condition": "event@properties.price > 100"}},
				map[string]any{"id": "segment", "type": "add-segment", "config": map[string]any{"segment": "big-spender"}},
				map[string]any{"id": "count", "type": "increment-counter", "config": map[string]any{"counter": "purchases"}},
				map[string]any{"id": "notify", "type": "webhook", "config": map[string]any{
					"url": url + "/purchases", "method": "POST", "timeout": "5s",
					"body": map[string]any{"profile": "{{profile@id}}", "price": "{{event@properties.price}}", "segments": "{{profile@segments}}"}}},
				map[string]any{"id": "answer", "type": "tracker-response", "config": map[string]any{"response": map[string]any{"big_spender": true}}},
			},
			"edges": []any{edge("start", "payload", "check"), edge("check", "true", "segment"), edge("check", "true", "count"),
				edge("segment", "payload", "notify"), edge("check", "true", "answer")},
		},
	}
}

func purchase(profile string, price float64) map[string]any {
	return map[string]any{"source": map[string]any{"id": "shop"}, "profile": map[string]any{"id": profile},
		"events": []any{map[string]any{"type": "purchase", "properties": map[string]any{"price": price}}}}
}

func setUpBigSpender(t *testing.T, s *server, hookURL string) {
	t.Helper()
	s.source("shop")
	if r := s.auth("POST", "/api/v1/flows", bigSpenderFlow(hookURL)); r.Status != http.StatusCreated {
		t.Fatalf("creating the flow: %d %s", r.Status, r.Body)
	}
	if r := s.auth("POST", "/api/v1/flows/big-spender/deploy", nil); r.Status != http.StatusOK {
		t.Fatalf("deploying: %d %s", r.Status, r.Body)
	}
	rule := map[string]any{"id": "purchases", "name": "Purchases", "event_type": "purchase", "flow_id": "big-spender"}
	if r := s.auth("POST", "/api/v1/rules", rule); r.Status != http.StatusCreated {
		t.Fatalf("creating the rule: %d %s", r.Status, r.Body)
	}
}

func TestWorkflowScenario(t *testing.T) {
	hook := newHookServer(t)
	s := start(t, "", "OUTBOUND_ALLOW_PRIVATE=yes")
	setUpBigSpender(t, s, hook.URL)

	// Rules can use the segment-entered events segmentation adds in the same request.
	if r := s.auth("POST", "/api/v1/segments", map[string]any{"name": "Buyers", "condition": "stats.counters.purchases > 0"}); r.Status != http.StatusCreated {
		t.Fatalf("creating the segment: %d %s", r.Status, r.Body)
	}
	welcome := map[string]any{"id": "welcome", "name": "Welcome buyers", "draft": map[string]any{
		"nodes": []any{map[string]any{"id": "start", "type": "start"},
			map[string]any{"id": "mark", "type": "set-data", "config": map[string]any{"set": map[string]any{"profile@traits.welcomed": true}}}},
		"edges": []any{map[string]any{"source": "start", "source_port": "payload", "target": "mark", "target_port": "payload"}}}}
	for _, r := range []*response{
		s.auth("POST", "/api/v1/flows", welcome),
		s.auth("POST", "/api/v1/flows/welcome/deploy", nil),
		s.auth("POST", "/api/v1/rules", map[string]any{"name": "Welcome", "event_type": "segment-entered", "flow_id": "welcome"}),
	} {
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("setting up the welcome flow: %d %s", r.Status, r.Body)
		}
	}

	var eventIDs []string
	for _, price := range []float64{150, 50, 300} {
		r := s.do("POST", "/track", purchase("p-buyer", price))
		if r.Status != http.StatusOK {
			t.Fatalf("/track: %d %s", r.Status, r.Body)
		}
		body := r.JSON(t)
		if want := price > 100; (at(body, "response.big_spender") == true) != want {
			t.Fatalf("price %v: response %v", price, body["response"])
		}
		eventIDs = append(eventIDs, body["events"].([]any)[0].(string))
	}

	p := s.get("/api/v1/profiles/p-buyer")
	if segs, _ := p["segments"].([]any); len(segs) != 2 || !slices.Contains(segs, any("big-spender")) || !slices.Contains(segs, any("buyers")) {
		t.Fatalf("segments = %v", p["segments"])
	}
	if n := at(p, "stats.counters.purchases"); n != 2.0 {
		t.Fatalf("purchases counter = %v", n)
	}
	if at(p, "traits.welcomed") != true {
		t.Fatalf("the segment-entered rule did not run: traits %v", p["traits"])
	}
	got := hook.received()
	if len(got) != 2 {
		t.Fatalf("the test server received %d calls: %v", len(got), got)
	}
	for i, price := range []float64{150, 300} {
		b := got[i]
		if b["profile"] != "p-buyer" || b["price"] != price {
			t.Fatalf("call %d: %v", i, b)
		}
		if segs, _ := b["segments"].([]any); !slices.Contains(segs, any("big-spender")) {
			t.Fatalf("call %d: segments %v", i, b["segments"])
		}
	}
	for _, id := range eventIDs {
		ev := s.get("/api/v1/events/" + id)
		rules, _ := at(ev, "metadata.processed_by.rules").([]any)
		flows, _ := at(ev, "metadata.processed_by.flows").([]any)
		if len(rules) != 1 || rules[0] != "purchases" || len(flows) != 1 || flows[0] != "big-spender" {
			t.Fatalf("event %s processed_by %v", id, at(ev, "metadata.processed_by"))
		}
	}

	runs := s.get("/api/v1/flows/big-spender/runs")
	if runs["total"] != 3.0 {
		t.Fatalf("runs: %v", runs)
	}
	for _, it := range runs["items"].([]any) {
		if at(it, "status") != "ok" || at(it, "flow_version") != 1.0 {
			t.Fatalf("run %v", it)
		}
	}

	// The debugger runs the draft against a given event and stores nothing.
	r := s.auth("POST", "/api/v1/flows/big-spender/debug", map[string]any{
		"event": map[string]any{"type": "purchase", "properties": map[string]any{"price": 999}}, "profile_id": "p-buyer"})
	if r.Status != http.StatusOK {
		t.Fatalf("debug: %d %s", r.Status, r.Body)
	}
	dbg := r.JSON(t)
	diff, _ := dbg["profile_diff"].([]any)
	if len(diff) != 1 || at(diff[0], "path") != "stats.counters.purchases" || at(diff[0], "after") != 3.0 {
		t.Fatalf("debug diff = %v", dbg["profile_diff"])
	}
	if n := at(s.get("/api/v1/profiles/p-buyer"), "stats.counters.purchases"); n != 2.0 {
		t.Fatalf("the debugger stored its changes: purchases = %v", n)
	}

	// Rules and deployments survive a restart.
	s.restart()
	if r := s.do("POST", "/track", purchase("p-buyer", 120)); r.Status != http.StatusOK {
		t.Fatalf("/track after restart: %d %s", r.Status, r.Body)
	}
	if n := at(s.get("/api/v1/profiles/p-buyer"), "stats.counters.purchases"); n != 3.0 {
		t.Fatalf("after restart purchases = %v", n)
	}
}

// TestWorkflowOutboundGuard runs the same flow with the default
// OUTBOUND_ALLOW_PRIVATE=no: the webhook to a loopback address is refused, the rest
// of the flow and the request succeed, and the run shows why.
func TestWorkflowOutboundGuard(t *testing.T) {
	hook := newHookServer(t)
	s := start(t, "")
	setUpBigSpender(t, s, hook.URL)
	if r := s.do("POST", "/track", purchase("p-guarded", 500)); r.Status != http.StatusOK {
		t.Fatalf("/track: %d %s", r.Status, r.Body)
	}
	if len(hook.received()) != 0 {
		t.Fatal("a webhook reached a loopback address")
	}
	if n := at(s.get("/api/v1/profiles/p-guarded"), "stats.counters.purchases"); n != 1.0 {
		t.Fatalf("purchases = %v", n)
	}
	runs := s.get("/api/v1/flows/big-spender/runs")
	items := runs["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("runs: %v", runs)
	}
	var notify map[string]any
	for _, n := range at(items[0], "nodes").([]any) {
		if at(n, "node_id") == "notify" {
			notify = n.(map[string]any)
		}
	}
	ports, _ := notify["ports"].([]any)
	if len(ports) != 1 || ports[0] != "error" || !strings.Contains(notify["error"].(string), "not allowed") {
		t.Fatalf("webhook trace %v", notify)
	}
}
