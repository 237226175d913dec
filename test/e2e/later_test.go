package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func flowEdge(src, dst string) map[string]any {
	return map[string]any{"source": src, "source_port": "payload", "target": dst, "target_port": "payload"}
}

// deployFlow creates and deploys a flow of the given nodes (a chain, in order) and a
// rule that runs it for eventType.
func deployFlow(t *testing.T, s *server, id, eventType string, nodes ...map[string]any) {
	t.Helper()
	var edges []any
	for i := 1; i < len(nodes); i++ {
		edges = append(edges, flowEdge(nodes[i-1]["id"].(string), nodes[i]["id"].(string)))
	}
	list := make([]any, len(nodes))
	for i, n := range nodes {
		list[i] = n
	}
	flow := map[string]any{"id": id, "name": id, "draft": map[string]any{"nodes": list, "edges": edges}}
	for _, r := range []*response{
		s.auth("POST", "/api/v1/flows", flow),
		s.auth("POST", "/api/v1/flows/"+id+"/deploy", nil),
		s.auth("POST", "/api/v1/rules", map[string]any{"name": id, "event_type": eventType, "flow_id": id}),
	} {
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("setting up flow %s: %d %s", id, r.Status, r.Body)
		}
	}
}

func node(id, typ string, config map[string]any) map[string]any {
	n := map[string]any{"id": id, "type": typ}
	if config != nil {
		n["config"] = config
	}
	return n
}

// TestSleepResumesAfterKill9: a flow sleeps 2 s after setting a trait; the server is
// killed with -9 right after /track answered and started again; the rest of the flow
// runs after the delay, with the flow's memory and payload of before the sleep, and
// commits its changes to the profile as it is then.
func TestSleepResumesAfterKill9(t *testing.T) {
	t.Parallel() // mostly waiting for due times: overlap with the others
	s := start(t, "")
	s.source("shop")
	deployFlow(t, s, "nurture", "signup",
		node("start", "start", nil),
		node("before", "set-data", map[string]any{"set": map[string]any{"profile@traits.stage": "before", "memory@plan": "{{event@properties.plan}}"}}),
		node("wait", "sleep", map[string]any{"duration": "2s"}),
		node("after", "set-data", map[string]any{"set": map[string]any{"profile@traits.stage": "after", "profile@traits.plan": "{{memory@plan}}"}}),
		node("count", "increment-counter", map[string]any{"counter": "resumed"}),
	)
	tracked := time.Now()
	s.track(map[string]any{"source": map[string]any{"id": "shop"}, "profile": map[string]any{"id": "p-sleep"},
		"events": []any{map[string]any{"type": "signup", "properties": map[string]any{"plan": "gold"}}}})
	p := s.get("/api/v1/profiles/p-sleep")
	if at(p, "traits.stage") != "before" {
		t.Fatalf("right after /track: stage = %v, want before", at(p, "traits.stage"))
	}
	s.restart() // kill -9, then start again on the same file
	waitFor(t, 30*time.Second, "the resumed flow", func() bool {
		return at(s.get("/api/v1/profiles/p-sleep"), "traits.stage") == "after"
	})
	resumed := time.Since(tracked)
	p = s.get("/api/v1/profiles/p-sleep")
	if at(p, "traits.plan") != "gold" {
		t.Errorf("memory@ across the sleep: plan = %v, want gold", at(p, "traits.plan"))
	}
	if resumed < 2*time.Second {
		t.Errorf("resumed after %s, before the 2 s sleep was over", resumed)
	}
	// Resumed once: the counter after the sleep is 1, also some time later.
	time.Sleep(3 * time.Second)
	p = s.get("/api/v1/profiles/p-sleep")
	if c := at(p, "stats.counters.resumed"); c != 1.0 {
		t.Errorf("counter after the sleep = %v, want 1 (resumed exactly once)", c)
	}
	t.Logf("resumed %s after /track (sleep 2 s, kill -9 and restart in between)", resumed.Round(10*time.Millisecond))
}

// TestSleepLimitsAndDebugger: a sleep longer than 90 days is refused when the flow is
// saved, with the field named; the debugger does not sleep but reports it.
func TestSleepLimitsAndDebugger(t *testing.T) {
	t.Parallel() // mostly waiting for due times: overlap with the others
	s := start(t, "")
	flow := map[string]any{"id": "too-long", "name": "too long", "draft": map[string]any{
		"nodes": []any{node("start", "start", nil), node("wait", "sleep", map[string]any{"duration": "2161h"})},
		"edges": []any{flowEdge("start", "wait")}}}
	r := s.auth("POST", "/api/v1/flows", flow)
	if r.Status < 400 || r.Status >= 500 || !strings.Contains(string(r.Body), "duration") {
		t.Fatalf("a 2161h sleep: %d %s, want a 4xx naming the duration", r.Status, r.Body)
	}
	flow["draft"].(map[string]any)["nodes"].([]any)[1] = node("wait", "sleep", map[string]any{"duration": "2160h"})
	flow["draft"].(map[string]any)["nodes"] = append(flow["draft"].(map[string]any)["nodes"].([]any),
		node("after", "set-data", map[string]any{"set": map[string]any{"payload@woke": true}}))
	flow["draft"].(map[string]any)["edges"] = append(flow["draft"].(map[string]any)["edges"].([]any), flowEdge("wait", "after"))
	if r := s.auth("POST", "/api/v1/flows", flow); r.Status != http.StatusCreated {
		t.Fatalf("a 90-day sleep: %d %s", r.Status, r.Body)
	}
	r = s.auth("POST", "/api/v1/flows/too-long/debug", map[string]any{"event": map[string]any{"type": "x"}})
	if r.Status != http.StatusOK {
		t.Fatalf("debug: %d %s", r.Status, r.Body)
	}
	body := string(r.Body)
	if !strings.Contains(body, "would sleep") || !strings.Contains(body, `"woke":true`) {
		t.Errorf("debug run: want the sleep reported and the rest run; got %s", body)
	}
}

// TestScheduledEventProcessedLater: a flow schedules a reminder event 2 s ahead; it is
// stored and processed then, through the pipeline: a rule for its type runs.
func TestScheduledEventProcessedLater(t *testing.T) {
	t.Parallel() // mostly waiting for due times: overlap with the others
	s := start(t, "")
	s.source("shop")
	deployFlow(t, s, "remind", "cart-abandoned",
		node("start", "start", nil),
		node("later", "schedule-event", map[string]any{"type": "reminder", "delay": "2s", "properties": map[string]any{"cart": "{{event@properties.cart}}"}}),
	)
	deployFlow(t, s, "on-reminder", "reminder",
		node("start", "start", nil),
		node("mark", "set-data", map[string]any{"set": map[string]any{"profile@traits.reminded_cart": "{{event@properties.cart}}"}}),
	)
	tracked := time.Now()
	s.track(map[string]any{"source": map[string]any{"id": "shop"}, "profile": map[string]any{"id": "p-cart"},
		"events": []any{map[string]any{"type": "cart-abandoned", "properties": map[string]any{"cart": "c-42"}}}})
	if v := at(s.get("/api/v1/profiles/p-cart"), "traits.reminded_cart"); v != nil {
		t.Fatalf("reminder processed at once: %v", v)
	}
	waitFor(t, 30*time.Second, "the scheduled reminder", func() bool {
		return at(s.get("/api/v1/profiles/p-cart"), "traits.reminded_cart") == "c-42"
	})
	if d := time.Since(tracked); d < 2*time.Second {
		t.Errorf("processed after %s, before it was due", d)
	}
	r := s.auth("POST", "/api/v1/events/search", map[string]any{"where": `type == "reminder"`, "limit": 10})
	if r.Status != http.StatusOK {
		t.Fatalf("search: %d %s", r.Status, r.Body)
	}
	res := r.JSON(t)
	if at(res, "total") != 1.0 || at(firstItem(res), "source.id") != "internal" {
		t.Errorf("want one stored reminder from source internal, got %s", r.Body)
	}
}

// TestVisitEnded: with SESSION_TIMEOUT=4s, a session whose last request is 4 s old
// ends with one visit-ended event (its views counted) that a rule uses; a session that
// gets a request before its timeout is not ended then.
func TestVisitEnded(t *testing.T) {
	t.Parallel() // mostly waiting for due times: overlap with the others
	s := start(t, "", "SESSION_TIMEOUT=4s")
	s.source("web")
	deployFlow(t, s, "visit-summary", "visit-ended",
		node("start", "start", nil),
		node("mark", "set-data", map[string]any{"set": map[string]any{"profile@traits.last_visit_views": "{{event@properties.views}}",
			"profile@traits.last_visit_session": "{{event@properties.session_id}}"}}),
		node("count", "increment-counter", map[string]any{"counter": "visits_ended"}),
	)
	view := func(session string) {
		s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "p-visit"},
			"session": map[string]any{"id": session}, "events": []any{map[string]any{"type": "page-view"}}})
	}
	view("s-1")
	view("s-1")
	time.Sleep(2 * time.Second)
	view("s-1") // active again before the timeout: it ends 4 s after this one
	time.Sleep(2 * time.Second)
	if sess := s.get("/api/v1/sessions/s-1"); at(sess, "metadata.status") == "ended" {
		t.Fatalf("session ended 2 s after its last request (timeout 4 s)")
	}
	waitFor(t, 30*time.Second, "visit-ended", func() bool {
		return at(s.get("/api/v1/profiles/p-visit"), "traits.last_visit_session") == "s-1"
	})
	p := s.get("/api/v1/profiles/p-visit")
	if at(p, "traits.last_visit_views") != 3.0 {
		t.Errorf("views = %v, want 3", at(p, "traits.last_visit_views"))
	}
	if sess := s.get("/api/v1/sessions/s-1"); at(sess, "metadata.status") != "ended" {
		t.Errorf("session status = %v, want ended", at(sess, "metadata.status"))
	}
	time.Sleep(4 * time.Second)
	if c := at(s.get("/api/v1/profiles/p-visit"), "stats.counters.visits_ended"); c != 1.0 {
		t.Errorf("visits ended = %v, want 1 (exactly once)", c)
	}
	r := s.auth("POST", "/api/v1/events/search", map[string]any{"where": `type == "visit-ended"`, "limit": 10})
	if res := r.JSON(t); at(res, "total") != 1.0 || at(firstItem(res), "properties.duration") == nil {
		t.Errorf("want one visit-ended event with its duration, got %s", r.Body)
	}
}

func firstItem(res map[string]any) any {
	items, _ := res["items"].([]any)
	if len(items) == 0 {
		return nil
	}
	return items[0]
}

// TestScheduleFires: a schedule with target once fires its flow every 2 s (a webhook
// to a local receiver), once per due time; disabled, it stops. A schedule over a
// segment runs the flow for each member, committing their changes. Bad schedules
// are refused with the field named.
func TestScheduleFires(t *testing.T) {
	t.Parallel() // mostly waiting for due times: overlap with the others
	hook := newHookServer(t)
	s := start(t, "", "OUTBOUND_ALLOW_PRIVATE=yes")
	s.source("web")
	mk := func(id string, nodes ...map[string]any) {
		var edges []any
		for i := 1; i < len(nodes); i++ {
			edges = append(edges, flowEdge(nodes[i-1]["id"].(string), nodes[i]["id"].(string)))
		}
		list := make([]any, len(nodes))
		for i, n := range nodes {
			list[i] = n
		}
		for _, r := range []*response{
			s.auth("POST", "/api/v1/flows", map[string]any{"id": id, "name": id, "draft": map[string]any{"nodes": list, "edges": edges}}),
			s.auth("POST", "/api/v1/flows/"+id+"/deploy", nil),
		} {
			if r.Status != http.StatusCreated && r.Status != http.StatusOK {
				t.Fatalf("flow %s: %d %s", id, r.Status, r.Body)
			}
		}
	}
	mk("ping", node("start", "start", nil), node("call", "webhook", map[string]any{"url": hook.URL + "/tick", "method": "POST", "timeout": "5s",
		"body": map[string]any{"due": "{{event@properties.due}}", "schedule": "{{event@properties.schedule_id}}"}}))
	mk("stamp", node("start", "start", nil),
		node("mark", "set-data", map[string]any{"set": map[string]any{"profile@traits.stamped": "{{event@properties.due}}"}}),
		node("count", "increment-counter", map[string]any{"counter": "scheduled"}))

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"bad cron", map[string]any{"name": "x", "cron": "every day", "flow_id": "ping"}, "cron"},
		{"time zone", map[string]any{"name": "x", "cron": "CRON_TZ=Europe/London 0 9 * * *", "flow_id": "ping"}, "cron"},
		{"unknown flow", map[string]any{"name": "x", "cron": "@daily", "flow_id": "nope"}, "flow_id"},
		{"bad target", map[string]any{"name": "x", "cron": "@daily", "flow_id": "ping", "target": "everyone"}, "target"},
		{"segment missing", map[string]any{"name": "x", "cron": "@daily", "flow_id": "ping", "target": "segment"}, "segment_id"},
		{"unknown segment", map[string]any{"name": "x", "cron": "@daily", "flow_id": "ping", "target": "segment", "segment_id": "nope"}, "segment_id"},
	} {
		r := s.auth("POST", "/api/v1/schedules", tc.body)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %d %s, want 400 on %s", tc.name, r.Status, r.Body, tc.field)
		}
	}

	r := s.auth("POST", "/api/v1/schedules", map[string]any{"id": "every-2s", "name": "Ping", "cron": "@every 2s", "flow_id": "ping"})
	if r.Status != http.StatusCreated {
		t.Fatalf("creating the schedule: %d %s", r.Status, r.Body)
	}
	created := r.JSON(t)
	if at(created, "target") != "once" || at(created, "next_run") == nil {
		t.Errorf("created: %s, want target once and a next_run", r.Body)
	}
	waitFor(t, 30*time.Second, "three scheduled pings", func() bool { return len(hook.received()) >= 3 })
	r = s.auth("PUT", "/api/v1/schedules/every-2s", map[string]any{"name": "Ping", "cron": "@every 2s", "flow_id": "ping", "enabled": false})
	if r.Status != http.StatusOK || at(r.JSON(t), "next_run") != nil {
		t.Fatalf("disabling: %d %s", r.Status, r.Body)
	}
	time.Sleep(time.Second) // a run queued just before is carried out
	n := len(hook.received())
	seen := map[string]bool{}
	for _, b := range hook.received() {
		due, _ := b["due"].(string)
		if due == "" || seen[due] || b["schedule"] != "every-2s" {
			t.Errorf("ping %v: want a distinct due time of every-2s each", b)
		}
		seen[due] = true
	}
	time.Sleep(5 * time.Second)
	if got := len(hook.received()); got != n {
		t.Errorf("disabled schedule fired again: %d pings, then %d", n, got)
	}

	// Over a segment's members.
	r = s.auth("POST", "/api/v1/segments", map[string]any{"id": "visitors", "name": "Visitors", "condition": "stats.views >= 1"})
	if r.Status != http.StatusCreated {
		t.Fatalf("segment: %d %s", r.Status, r.Body)
	}
	for _, p := range []string{"p-a", "p-b", "p-c"} {
		s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": p},
			"events": []any{map[string]any{"type": "page-view"}}})
	}
	s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "p-out"},
		"events": []any{map[string]any{"type": "signup"}}})
	r = s.auth("POST", "/api/v1/schedules", map[string]any{"id": "stamp", "name": "Stamp", "cron": "@every 3s", "flow_id": "stamp",
		"target": "segment", "segment_id": "visitors"})
	if r.Status != http.StatusCreated {
		t.Fatalf("segment schedule: %d %s", r.Status, r.Body)
	}
	waitFor(t, 30*time.Second, "the members stamped", func() bool {
		for _, p := range []string{"p-a", "p-b", "p-c"} {
			if at(s.get("/api/v1/profiles/"+p), "traits.stamped") == nil {
				return false
			}
		}
		return true
	})
	s.auth("DELETE", "/api/v1/schedules/stamp", nil)
	if v := at(s.get("/api/v1/profiles/p-out"), "traits.stamped"); v != nil {
		t.Errorf("a profile outside the segment was stamped: %v", v)
	}
	list := s.get("/api/v1/schedules")
	if at(list, "total") != 1.0 {
		t.Errorf("schedules: %v", list)
	}
}
