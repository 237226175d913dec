package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The /track contract over HTTP: unknown fields are answered as warnings (still 200,
// the known fields recorded); a mistyped field is a 400 naming it with its index.
func TestTrackUnknownFieldsAndFieldErrors(t *testing.T) {
	s := start(t, "")
	s.source("web")
	cases := []struct {
		name, body string
		status     int
		want       string // a warning containing it (200) or the error's field (400)
	}{
		{"misspelt props", `{"source":{"id":"web"},"events":[{"type":"page-view","props":{"a":1}}]}`, 200, "events[0].props"},
		{"unknown top-level field", `{"source":{"id":"web"},"debug":true,"events":[{"type":"page-view"}]}`, 200, "debug"},
		{"no unknown fields", `{"source":{"id":"web"},"events":[{"type":"page-view","properties":{"a":1}}]}`, 200, ""},
		{"third event's time", `{"source":{"id":"web"},"events":[{"type":"a"},{"type":"b"},{"type":"c","time":{"create":"tomorrow"}}]}`, 400, "events[2].time.create"},
		{"tag not a string", `{"source":{"id":"web"},"events":[{"type":"a","tags":["x",1]}]}`, 400, "events[0].tags[1]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("POST", "/track", tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			var out struct {
				Warnings []string `json:"warnings"`
				Field    string   `json:"field"`
				Profile  struct{ ID string }
			}
			if err := json.Unmarshal(r.Body, &out); err != nil {
				t.Fatal(err)
			}
			if tc.status != http.StatusOK {
				if out.Field != tc.want {
					t.Fatalf("error names %q, want %q: %s", out.Field, tc.want, r.Body)
				}
				return
			}
			found := tc.want == "" && len(out.Warnings) == 0
			for _, w := range out.Warnings {
				found = found || (tc.want != "" && strings.Contains(w, tc.want))
			}
			if !found {
				t.Fatalf("warnings %q, want one naming %q", out.Warnings, tc.want)
			}
			if out.Profile.ID == "" {
				t.Fatal("no profile id in the answer")
			}
		})
	}
}

// ?profile_less=true stores the events and nothing else; every answer carries a task id.
func TestTrackProfileLessAndTask(t *testing.T) {
	s := start(t, "")
	s.source("web")
	profiles := func() float64 {
		return s.auth("POST", "/api/v1/profiles/search", map[string]any{"where": `id != ""`, "limit": 0, "exact_total": true}).JSON(t)["total"].(float64)
	}
	before := profiles()
	r := s.do("POST", "/track?profile_less=true", `{"source":{"id":"web"},"context":{"page":{"url":"https://shop.example.com/a"}},`+
		`"events":[{"id":"pl-1","type":"page-view"},{"id":"pl-2","type":"profile-update","properties":{"traits":{"a":1}}}]}`)
	if r.Status != http.StatusOK {
		t.Fatalf("profile_less: %d %s", r.Status, r.Body)
	}
	var out struct {
		Task     string              `json:"task"`
		Profile  struct{ ID string } `json:"profile"`
		Session  struct{ ID string } `json:"session"`
		Events   []string            `json:"events"`
		Warnings []string            `json:"warnings"`
	}
	json.Unmarshal(r.Body, &out)
	if out.Task == "" || out.Profile.ID != "" || out.Session.ID != "" || len(out.Events) != 2 {
		t.Fatalf("profile_less answer: %s", r.Body)
	}
	if after := profiles(); after != before {
		t.Fatalf("profile_less created profiles: %v -> %v", before, after)
	}
	ev := s.get("/api/v1/events/pl-1")
	if at(ev, "profile.id") != "" || at(ev, "session.id") != "" || at(ev, "hit.url") == nil {
		t.Fatalf("stored event: %v", ev)
	}
	// profile-update changes a profile: the answer says nothing was changed.
	if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "pl-2") {
		t.Fatalf("warnings: %q", out.Warnings)
	}
	if r := s.do("POST", "/track?profile_less=maybe", `{"source":{"id":"web"},"events":[{"type":"page-view"}]}`); r.Status != 400 || !strings.Contains(string(r.Body), `"profile_less"`) {
		t.Fatalf("bad profile_less: %d %s", r.Status, r.Body)
	}
	// An ordinary request's task differs from the last one's.
	if a, b := s.do("POST", "/track", `{"source":{"id":"web"},"events":[{"type":"page-view"}]}`), s.do("POST", "/track", `{"source":{"id":"web"},"events":[{"type":"page-view"}]}`); !strings.Contains(string(a.Body), `"task":"`) || string(a.Body) == string(b.Body) {
		t.Fatalf("task: %s / %s", a.Body, b.Body)
	}
}

// consent-update: both documented shapes; unknown types and malformed answers are a
// 400 naming the field; default_value and auto_revoke take effect.
func TestConsentUpdate(t *testing.T) {
	s := start(t, "")
	s.source("web")
	for _, ct := range []map[string]any{
		{"id": "marketing", "name": "Marketing", "revokable": true, "default_value": "grant", "auto_revoke": "P30D", "enabled": true},
		{"id": "analytics", "name": "Analytics", "revokable": false, "default_value": "deny", "enabled": true},
	} {
		if r := s.auth("POST", "/api/v1/consent-types", ct); r.Status != http.StatusCreated {
			t.Fatalf("consent type: %d %s", r.Status, r.Body)
		}
	}
	pid := s.track(map[string]any{"source": map[string]any{"id": "web"}, "events": []any{map[string]any{"type": "page-view"}}}).Profile.ID
	send := func(props string) *response {
		return s.do("POST", "/track", `{"source":{"id":"web"},"profile":{"id":"`+pid+`"},"events":[{"type":"page-view"},{"type":"consent-update","properties":`+props+`}]}`)
	}
	cases := []struct {
		name, props string
		field       string         // the 400's field; "" for a 200
		want        map[string]any // profile paths after a 200
	}{
		{"consents at the top of properties", `{"analytics":true}`, "", map[string]any{"consents.analytics.granted": true}},
		{"under consents", `{"consents":{"analytics":{"granted":false}}}`, "", map[string]any{"consents.analytics.granted": false}},
		{"no answer: the default_value", `{"consents":{"marketing":{}}}`, "", map[string]any{"consents.marketing.granted": true}},
		{"unknown consent type", `{"consents":{"newsletter":true}}`, "events[1].properties.consents.newsletter", nil},
		{"unknown at the top", `{"analytics":true,"newsletterz":false}`, "events[1].properties.newsletterz", nil},
		{"no consents", `{}`, "events[1].properties", nil},
		{"consents not an object", `{"consents":true}`, "events[1].properties.consents", nil},
		{"granted not a boolean", `{"consents":{"analytics":{"granted":"yes"}}}`, "events[1].properties.consents.analytics.granted", nil},
		{"bad revoke", `{"consents":{"marketing":{"granted":true,"revoke":"soon"}}}`, "events[1].properties.consents.marketing.revoke", nil},
		{"unknown answer field", `{"consents":{"marketing":{"grant":true}}}`, "events[1].properties.consents.marketing.grant", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.get("/api/v1/profiles/" + pid)
			r := send(tc.props)
			if tc.field != "" {
				if r.Status != http.StatusBadRequest || at(r.JSON(t), "field") != tc.field {
					t.Fatalf("%d %s, want a 400 naming %s", r.Status, r.Body, tc.field)
				}
				if after := s.get("/api/v1/profiles/" + pid); !equalJSON(at(before, "stats"), at(after, "stats")) {
					t.Fatal("a refused request changed the profile")
				}
				return
			}
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			p := s.get("/api/v1/profiles/" + pid)
			for path, v := range tc.want {
				if at(p, path) != v {
					t.Errorf("%s = %v, want %v", path, at(p, path), v)
				}
			}
		})
	}
	// auto_revoke: a grant of marketing (P30D) is recorded with its revoke time.
	if r := send(`{"consents":{"marketing":true}}`); r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	rev, _ := at(s.get("/api/v1/profiles/"+pid), "consents.marketing.revoke").(string)
	ts, err := time.Parse(time.RFC3339Nano, rev)
	if err != nil || ts.Before(time.Now().Add(29*24*time.Hour)) || ts.After(time.Now().Add(31*24*time.Hour)) {
		t.Fatalf("consents.marketing.revoke = %q, want about 30 days from now", rev)
	}
}
