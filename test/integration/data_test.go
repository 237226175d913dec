package integration

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestEraseAcrossReplicas erases a person through one replica while another served
// (and cached) it: every replica then answers 404, the next request starts a fresh
// profile, and the reports of both replicas agree.
func TestEraseAcrossReplicas(t *testing.T) {
	c := newCluster(t, 2)
	a, b := c.replicas[0], c.replicas[1]
	c.source(a, "web")
	for i, eid := range []string{"x1", "x2", "x3"} {
		if ok, status := trackOnce(a, pageView("forget", "forget-s", eid)); !ok {
			t.Fatalf("track %d: %d", i, status)
		}
	}
	if ok, status := trackOnce(a, pageView("keep", "keep-s", "k1")); !ok {
		t.Fatalf("track: %d", status)
	}
	exp := c.auth(b, "GET", "/api/v1/profiles/forget/export", nil)
	if exp.Status != 200 || len(at(exp.JSON(t), "events").([]any)) != 3 {
		t.Fatalf("export: %d %.300s", exp.Status, exp.Body)
	}
	r := c.auth(b, "DELETE", "/api/v1/profiles/forget", nil)
	var n struct{ Profiles, Sessions, Events int }
	if r.Status != 200 || json.Unmarshal(r.Body, &n) != nil || n.Profiles != 1 || n.Sessions != 1 || n.Events != 3 {
		t.Fatalf("erase: %d %s", r.Status, r.Body)
	}
	for _, rep := range c.replicas {
		if got := c.auth(rep, "GET", "/api/v1/profiles/forget", nil); got.Status != 404 {
			t.Errorf("replica %d still has the profile: %d", rep.n, got.Status)
		}
		if got := c.auth(rep, "GET", "/api/v1/sessions/forget-s", nil); got.Status != 404 {
			t.Errorf("replica %d still has the session: %d", rep.n, got.Status)
		}
	}
	// Replica a cached the profile and session; the next request must not bring them back.
	if ok, status := trackOnce(a, pageView("forget", "forget-s", "x4")); !ok {
		t.Fatalf("track after erasure: %d", status)
	}
	p := c.auth(b, "GET", "/api/v1/profiles/forget", nil).JSON(t)
	if at(p, "stats.views") != 1.0 || at(p, "stats.visits") != 1.0 {
		t.Errorf("profile after erasure: views %v visits %v, want 1 and 1", at(p, "stats.views"), at(p, "stats.visits"))
	}
	for _, rep := range c.replicas {
		h := c.auth(rep, "GET", "/api/v1/reports/events/breakdown?by=type", nil)
		if h.Status != 200 || !bytes.Contains(h.Body, []byte(`{"value":"page-view","count":2}`)) {
			t.Errorf("replica %d breakdown: %d %s", rep.n, h.Status, h.Body)
		}
		s := c.auth(rep, "GET", "/api/v1/reports/sessions/active", nil)
		if s.Status != 200 || !bytes.Contains(s.Body, []byte(`"count":2`)) {
			t.Errorf("replica %d active sessions: %d %s", rep.n, s.Status, s.Body)
		}
	}
}
