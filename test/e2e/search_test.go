package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// trackAs sends events for a known profile (each request starts a new session).
func trackAs(s *server, pid string, events ...map[string]any) trackResult {
	s.t.Helper()
	evs := make([]any, len(events))
	for i, e := range events {
		evs[i] = e
	}
	return s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": pid}, "events": evs})
}

func ev(typ string, props map[string]any) map[string]any {
	return map[string]any{"type": typ, "properties": props}
}

func pv() map[string]any { return ev("page-view", nil) }

func TestSearchAndCheck(t *testing.T) {
	s := start(t, "")
	s.source("web")
	trackAs(s, "alice", ev("sign-in", map[string]any{"email": map[string]any{"main": "Alice@Example.com"}}), pv(), pv(), pv())
	trackAs(s, "alice", ev("profile-update", map[string]any{"traits": map[string]any{"plan": "gold"}}))
	purchase := trackAs(s, "alice", ev("purchase", map[string]any{"amount": 120, "sku": "A-1"}))
	trackAs(s, "bob", ev("sign-in", map[string]any{"email": map[string]any{"main": "bob@shop.test"}}), pv())
	trackAs(s, "bob", ev("profile-update", map[string]any{"traits": map[string]any{"plan": "silver"}}), ev("purchase", map[string]any{"amount": 30}))
	trackAs(s, "carol", pv(), pv(), ev("profile-update", map[string]any{"traits": map[string]any{"plan": "gold"}}), ev("purchase", map[string]any{"amount": 75}))

	search := func(kind string, body any) func() *response {
		return func() *response { return s.auth("POST", "/api/v1/"+kind+"/search", body) }
	}
	cases := []struct {
		name   string
		run    func() *response
		status int
		want   []string // substrings of the body
	}{
		{"profiles by trait", search("profiles", map[string]any{"where": `traits.plan == "gold"`}), 200, []string{`"total":2`, `"id":"alice"`, `"id":"carol"`}},
		{"scoped field, nested path", search("profiles", map[string]any{"where": `profile@data.contact.email.main ENDS WITH "@example.com"`}), 200,
			[]string{`"total":1`, `"id":"alice"`}},
		{"sort and limit", search("profiles", map[string]any{"sort": []any{map[string]any{"field": "stats.views", "order": "desc"}}, "limit": 1}), 200,
			[]string{`"total":3`, `"items":[{"id":"alice"`}},
		{"sort ascending with scope", search("profiles", map[string]any{"sort": []any{map[string]any{"field": "profile@stats.views"}}, "limit": 1}), 200,
			[]string{`"items":[{"id":"bob"`}},
		{"count only", search("profiles", map[string]any{"where": `stats.views > 0`, "limit": 0}), 200, []string{`{"items":[],"total":3,"total_relation":"eq"}`}},
		{"exact count asked", search("profiles", map[string]any{"where": `stats.views > 0`, "limit": 0, "exact_total": true}), 200,
			[]string{`{"items":[],"total":3,"total_relation":"eq"}`}},
		{"offset", search("profiles", map[string]any{"sort": []any{map[string]any{"field": "id"}}, "offset": 2}), 200, []string{`"items":[{"id":"carol"`}},
		{"no match", search("profiles", map[string]any{"where": `traits.plan == "platinum"`}), 200, []string{`{"items":[],"total":0,"total_relation":"eq"}`}},
		{"bad condition", search("profiles", map[string]any{"where": `stats.views >`}), 400, []string{`"field":"where"`, "line 1, col 14"}},
		{"other scope", search("profiles", map[string]any{"where": `event@type == "x"`}), 400, []string{"line 1, col 1", "only profile fields"}},
		{"injected sort field", search("profiles", map[string]any{"sort": []any{map[string]any{"field": "id; DROP TABLE profiles"}}}), 400, []string{`"field":"sort[0].field"`}},
		{"bad order", search("profiles", map[string]any{"sort": []any{map[string]any{"field": "id", "order": "up"}}}), 400, []string{`"field":"sort[0].order"`}},
		{"limit too large", search("profiles", map[string]any{"limit": 5000}), 400, []string{`"field":"limit"`}},
		{"deep page", search("profiles", map[string]any{"offset": 9990, "limit": 50}), 400, []string{`"field":"offset"`}},
		{"unknown field", search("profiles", map[string]any{"query": "x"}), 400, []string{"unknown field"}},
		{"sessions", search("sessions", map[string]any{"where": `profile.id == "alice"`}), 200, []string{`"total":3`}},
		{"events", search("events", map[string]any{"where": `type == "purchase" AND properties.amount > 50`,
			"sort": []any{map[string]any{"field": "properties.amount"}}}), 200, []string{`"total":2`, `"amount":75`}},
		{"events by scope", search("events", map[string]any{"where": `event@profile.id == "bob"`, "limit": 0}), 200, []string{`"total":4`}},
		{"no token", func() *response { return s.do("POST", "/api/v1/profiles/search", map[string]any{}) }, 401, nil},

		{"check with documents", func() *response {
			return s.auth("POST", "/api/v1/conditions/check", map[string]any{"condition": `profile@stats.visits > 10 AND (event@properties.price >= 100 OR profile@traits.vip EXISTS)`,
				"documents": map[string]any{"profile": map[string]any{"stats": map[string]any{"visits": 11}, "traits": map[string]any{"vip": true}}}})
		}, 200, []string{`{"result":true}`}},
		{"check a stored profile", func() *response {
			return s.auth("POST", "/api/v1/conditions/check", map[string]any{"condition": `stats.views == 3 AND traits.plan == "gold"`,
				"default_scope": "profile", "profile_id": "alice"})
		}, 200, []string{`{"result":true}`}},
		{"check false", func() *response {
			return s.auth("POST", "/api/v1/conditions/check", map[string]any{"condition": `profile@traits.plan == "gold"`, "profile_id": "bob"})
		}, 200, []string{`{"result":false}`}},
		{"check an event brings its profile and session", func() *response {
			return s.auth("POST", "/api/v1/conditions/check", map[string]any{"event_id": purchase.Events[0],
				"condition": `event@properties.amount > 100 AND profile@traits.plan == "gold" AND session@profile.id == "alice"`})
		}, 200, []string{`{"result":true}`}},
		{"given documents win", func() *response {
			return s.auth("POST", "/api/v1/conditions/check", map[string]any{"profile_id": "alice", "condition": `profile@traits.plan == "gold"`,
				"documents": map[string]any{"profile": map[string]any{"traits": map[string]any{"plan": "none"}}}})
		}, 200, []string{`{"result":false}`}},
		{"check a bad condition", func() *response {
			return s.auth("POST", "/api/v1/conditions/check", map[string]any{"condition": `profile@x ==`})
		}, 400, []string{`"field":"condition"`, "line 1, col"}},
		{"check without scope", func() *response {
			return s.auth("POST", "/api/v1/conditions/check", map[string]any{"condition": `stats.views > 1`})
		}, 400, []string{`"field":"condition"`, "scope"}},
		{"check an unknown event", func() *response {
			return s.auth("POST", "/api/v1/conditions/check", map[string]any{"condition": `event@x EXISTS`, "event_id": "nope"})
		}, 404, nil},
		{"check a bad scope", func() *response {
			return s.auth("POST", "/api/v1/conditions/check", map[string]any{"condition": `event@x EXISTS`, "documents": map[string]any{"thing": map[string]any{}}})
		}, 400, []string{`"field":"documents"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.run()
			if r.Status != tc.status {
				t.Fatalf("got %d %s; want %d", r.Status, r.Body, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(r.Body), w) {
					t.Fatalf("body %s does not contain %s", r.Body, w)
				}
			}
		})
	}
	// A merged-away profile is not found by search, its survivor is.
	trackAs(s, "dave", ev("sign-in", map[string]any{"email": map[string]any{"main": "bob@shop.test"}}))
	r := s.auth("POST", "/api/v1/profiles/search", map[string]any{"where": `data.contact.email.main == "bob@shop.test"`})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"total":1`) || !strings.Contains(string(r.Body), `"id":"bob"`) {
		t.Fatalf("after a merge: %d %s", r.Status, r.Body)
	}
}
