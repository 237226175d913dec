package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

func signIn(s *server, pid, email string) trackResult {
	body := map[string]any{"source": map[string]any{"id": "web"},
		"events": []any{map[string]any{"type": "page-view"}, map[string]any{"type": "sign-in", "properties": map[string]any{"email": map[string]any{"main": email}}}}}
	if pid != "" {
		body["profile"] = map[string]any{"id": pid}
	}
	return s.track(body)
}

func view(s *server, pid string) trackResult {
	return s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": pid}, "events": []any{map[string]any{"type": "page-view"}}})
}

func TestTwoVisitorsSignInWithOneEmail(t *testing.T) {
	s := start(t, "")
	s.source("web")
	for _, order := range []string{"older first", "younger first"} {
		t.Run(order, func(t *testing.T) {
			a, b := "a-"+order[:5], "b-"+order[:5]
			view(s, a) // a is created first: a is older
			view(s, b)
			view(s, b)
			email := fmt.Sprintf("Same.%s@Example.com", order[:5])
			first, second := a, b
			if order == "younger first" {
				first, second = b, a
			}
			signIn(s, first, email)
			res := signIn(s, second, "  "+email+" ")
			if res.Profile.ID != a {
				t.Fatalf("survivor = %s, want the older %s", res.Profile.ID, a)
			}
			p := s.get("/api/v1/profiles/" + a)
			// views: a 1+1, b 2+1; each request without a session id starts a visit
			if at(p, "stats.views") != 5.0 || at(p, "stats.visits") != 5.0 {
				t.Fatalf("stats = %v", at(p, "stats"))
			}
			ids := at(p, "ids").([]any)
			if len(ids) != 2 || at(p, "metadata.merges") == nil {
				t.Fatalf("ids %v merges %v", ids, at(p, "metadata.merges"))
			}
			// The merged id answers the survivor; its events are found there.
			if got := s.get("/api/v1/profiles/" + b); got["id"] != a {
				t.Fatalf("GET merged id answered %v", got["id"])
			}
			if evs := s.get("/api/v1/profiles/" + a + "/events"); evs["total"] != 7.0 {
				t.Fatalf("survivor's events = %v, want 7", evs["total"])
			}
			// A later request with the old id lands on the survivor.
			if res := view(s, b); res.Profile.ID != a {
				t.Fatalf("old id tracked to %s", res.Profile.ID)
			}
		})
	}
}

func TestThreeWayMergeAndChains(t *testing.T) {
	s := start(t, "")
	s.source("web")
	// Three profiles, then one identification that carries two keys held by two others.
	signIn(s, "p1", "one@example.com")
	s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "p2"},
		"events": []any{map[string]any{"type": "identification", "properties": map[string]any{"id": "cust-7"}}}})
	res := s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "p3"},
		"events": []any{map[string]any{"type": "identification", "properties": map[string]any{"id": "cust-7", "email": map[string]any{"main": "one@example.com"}}}}})
	if res.Profile.ID != "p1" {
		t.Fatalf("three-way survivor %s", res.Profile.ID)
	}
	p := s.get("/api/v1/profiles/p1")
	if len(at(p, "ids").([]any)) != 3 || at(p, "stats.views") != 1.0 || at(p, "stats.visits") != 3.0 || at(p, "data.identifier.id") != "cust-7" {
		t.Fatalf("three-way: ids %v stats %v data %v", at(p, "ids"), at(p, "stats"), at(p, "data"))
	}

	// Chains: c1 ← c2 (by e-mail), then c0 (older) takes c1's phone: c1 → c0, c2 → c1 → c0.
	view(s, "c0")
	signIn(s, "c1", "chain@example.com")
	signIn(s, "c2", "chain@example.com")
	s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "c1"},
		"events": []any{map[string]any{"type": "identification", "properties": map[string]any{"phone": map[string]any{"main": "+100"}}}}})
	r := s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "c0"},
		"events": []any{map[string]any{"type": "identification", "properties": map[string]any{"phone": map[string]any{"main": "+100"}}}}})
	if r.Profile.ID != "c0" {
		t.Fatalf("chain survivor %s", r.Profile.ID)
	}
	for _, id := range []string{"c1", "c2"} {
		if got := s.get("/api/v1/profiles/" + id)["id"]; got != "c0" {
			t.Fatalf("GET %s answered %v", id, got)
		}
		if res := view(s, id); res.Profile.ID != "c0" {
			t.Fatalf("tracking %s landed on %s", id, res.Profile.ID)
		}
	}
	c0 := s.get("/api/v1/profiles/c0")
	// c0: 1 view + 2 now; c1: 1; c2: 1.
	if at(c0, "stats.views") != 5.0 || len(at(c0, "ids").([]any)) != 3 || at(c0, "data.contact.email.main") != "chain@example.com" {
		t.Fatalf("chain survivor: views %v ids %v data %v", at(c0, "stats.views"), at(c0, "ids"), at(c0, "data"))
	}
}

func TestConcurrentMergesEndWithOneSurvivor(t *testing.T) {
	s := start(t, "")
	s.source("web")
	const n = 50
	for i := 0; i < n; i++ {
		view(s, fmt.Sprintf("m%02d", i)) // one view each, m00 oldest
	}
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := s.do("POST", "/track", map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": fmt.Sprintf("m%02d", i)},
				"events": []any{map[string]any{"type": "page-view"}, map[string]any{"type": "sign-in", "properties": map[string]any{"email": map[string]any{"main": "crowd@example.com"}}}}})
			if r.Status != http.StatusOK {
				errs <- fmt.Sprintf("%d %s", r.Status, r.Body)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	p := s.get("/api/v1/profiles/m00")
	if p["id"] != "m00" || len(at(p, "ids").([]any)) != n || at(p, "stats.views") != float64(2*n) || at(p, "stats.visits") != float64(2*n) {
		t.Fatalf("survivor %v: %d ids, stats %v; want m00 with %d ids and %d views", p["id"], len(at(p, "ids").([]any)), at(p, "stats"), n, 2*n)
	}
	for i := 1; i < n; i++ {
		if got := s.get(fmt.Sprintf("/api/v1/profiles/m%02d", i))["id"]; got != "m00" {
			t.Fatalf("m%02d answers %v", i, got)
		}
	}
}
