package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestProfileListsAndMethods(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	admin, marketer, dev := a.tokens["admin"], a.tokens["marketer"], a.tokens["developer"]
	if rec := a.do("POST", "/api/v1/event-sources", admin, map[string]any{"id": "web", "name": "Web", "type": "rest", "trusted": true}); rec.Code != 201 {
		t.Fatalf("creating a source: %d %s", rec.Code, rec.Body)
	}
	for i, p := range []string{"p-1", "p-1", "p-2"} {
		body := fmt.Sprintf(`{"source":{"id":"web"},"profile":{"id":%q},"session":{"id":"s-%d"},"events":[{"type":"page-view"}]}`, p, i)
		if rec := a.do("POST", "/track", "", body); rec.Code != 200 {
			t.Fatalf("track: %d %s", rec.Code, rec.Body)
		}
	}
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		want                      []string
		allow                     string
	}{
		{"profiles list", "GET", "/api/v1/profiles", marketer, nil, 200, []string{`"total":2`, `"p-1"`, `"p-2"`}, ""},
		{"profiles list paged", "GET", "/api/v1/profiles?limit=1&offset=1", marketer, nil, 200, []string{`"total":2`}, ""},
		{"profiles list bad limit", "GET", "/api/v1/profiles?limit=0", marketer, nil, 400, []string{`"field":"limit"`}, ""},
		{"profiles list past the search window", "GET", "/api/v1/profiles?limit=100&offset=9950", marketer, nil, 400, []string{`"field":"offset"`}, ""},
		{"profiles list needs data-read", "GET", "/api/v1/profiles", dev, nil, 403, []string{"an admin can give you a role"}, ""},
		{"profiles list needs a token", "GET", "/api/v1/profiles", "", nil, 401, []string{"sign in again"}, ""},
		{"a profile's sessions", "GET", "/api/v1/profiles/p-1/sessions", marketer, nil, 200, []string{`"total":2`, `"s-0"`, `"s-1"`}, ""},
		{"another profile's sessions", "GET", "/api/v1/profiles/p-2/sessions", marketer, nil, 200, []string{`"total":1`, `"s-2"`}, ""},
		{"sessions of no profile", "GET", "/api/v1/profiles/nobody/sessions", marketer, nil, 404, []string{`profile \"nobody\" does not exist`}, ""},
		{"GET on a POST-only path is 405, not a profile named search", "GET", "/api/v1/profiles/search", marketer, nil, 405, []string{`"status":405`, "use POST"}, "POST"},
		{"PUT on a profile", "PUT", "/api/v1/profiles/p-1", admin, map[string]any{}, 405, []string{`"status":405`}, "GET, DELETE, HEAD"},
		{"DELETE on a list", "DELETE", "/api/v1/event-sources", admin, nil, 405, nil, "GET, POST, HEAD"},
		{"405 needs a token", "DELETE", "/api/v1/event-sources", "", nil, 401, nil, ""},
		{"GET on the token route", "GET", "/api/v1/auth/token", "", nil, 405, nil, "POST"},
		{"system page", "GET", "/api/v1/system", a.tokens["maintainer"], nil, 200, []string{`"store":"ok"`, `"go_version"`}, ""},
		{"system page is not for marketers", "GET", "/api/v1/system", marketer, nil, 403, nil, ""},
		{"unknown path stays 404", "GET", "/api/v1/no-such-thing", admin, nil, 404, nil, ""},
		{"form body: send JSON", "POST", "/api/v1/event-sources", admin, "name=x&type=rest", 400, []string{"send JSON"}, ""},
		{"no machine suffix on 400", "POST", "/api/v1/event-sources", admin, map[string]any{"name": ""}, 400, []string{`"field":"name"`}, ""},
		{"stale version says what to do", "PUT", "/api/v1/event-sources/web", admin, map[string]any{"name": "W", "type": "rest", "version": 7}, 409, []string{"reload it"}, ""},
		{"taken id says what to do", "POST", "/api/v1/event-sources", admin, map[string]any{"id": "web", "name": "W", "type": "rest"}, 409, []string{"choose another id"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := a.do(tc.method, tc.path, tc.token, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			for _, w := range tc.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("body %s lacks %s", rec.Body, w)
				}
			}
			if got := rec.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
			var e errorBody
			if rec.Code >= 400 {
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != rec.Code || e.Error == "" {
					t.Errorf("not the JSON error shape: %s", rec.Body)
				}
				for _, suffix := range []string{": invalid", ": conflict", ": not found"} {
					if strings.HasSuffix(e.Error, suffix) {
						t.Errorf("machine suffix left in %q", e.Error)
					}
				}
			}
		})
	}
}
