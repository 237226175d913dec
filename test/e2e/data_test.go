package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// TestEraseAndExportProfile merges two visitors, exports the survivor and erases it
// by the merged-away id: every profile, session and event of the person goes, and the
// count says so.
func TestEraseAndExportProfile(t *testing.T) {
	s := start(t, "")
	s.source("web")
	tokens := s.roleTokens()
	view(s, "gone-a")
	view(s, "gone-b")
	signIn(s, "gone-a", "forget.me@example.com")
	signIn(s, "gone-b", "forget.me@example.com") // merges gone-b into gone-a
	other := view(s, "stays")

	p := s.get("/api/v1/profiles/gone-b")
	if p["id"] != "gone-a" || len(at(p, "ids").([]any)) != 2 {
		t.Fatalf("no merge: %v", p)
	}

	exp := s.get("/api/v1/profiles/gone-b/export")
	if at(exp, "profile.id") != "gone-a" || len(exp["tombstones"].([]any)) != 1 || at(exp["tombstones"].([]any)[0], "id") != "gone-b" {
		t.Fatalf("export profile/tombstones: %.400v", exp)
	}
	if n := len(exp["sessions"].([]any)); n != 4 {
		t.Errorf("export has %d sessions, want 4", n)
	}
	if n := len(exp["events"].([]any)); n != 6 {
		t.Errorf("export has %d events, want 6", n)
	}

	cases := []struct {
		name, token, method, path string
		status                    int
	}{
		{"marketer may export", tokens["marketer"], "GET", "/api/v1/profiles/gone-a/export", 200},
		{"developer may not export", tokens["developer"], "GET", "/api/v1/profiles/gone-a/export", 403},
		{"marketer may not erase", tokens["marketer"], "DELETE", "/api/v1/profiles/gone-a", 403},
		{"export unknown", tokens["admin"], "GET", "/api/v1/profiles/nobody/export", 404},
		{"erase unknown", tokens["admin"], "DELETE", "/api/v1/profiles/nobody", 404},
	}
	for _, tc := range cases {
		if r := s.as(tc.token, tc.method, tc.path, nil); r.Status != tc.status {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}

	r := s.auth("DELETE", "/api/v1/profiles/gone-b", nil)
	if r.Status != 200 {
		t.Fatalf("erase: %d %s", r.Status, r.Body)
	}
	var n struct{ Profiles, Sessions, Events int }
	json.Unmarshal(r.Body, &n)
	if n.Profiles != 2 || n.Sessions != 4 || n.Events != 6 {
		t.Fatalf("erased %+v, want 2 profiles, 4 sessions, 6 events", n)
	}
	for _, id := range []string{"gone-a", "gone-b"} {
		if r := s.auth("GET", "/api/v1/profiles/"+id, nil); r.Status != 404 {
			t.Errorf("profile %s after erasure: %d", id, r.Status)
		}
	}
	search := s.auth("POST", "/api/v1/events/search", map[string]any{"where": `profile.id == "gone-a" OR profile.id == "gone-b"`, "limit": 0, "exact_total": true})
	if total := search.JSON(t)["total"]; total != 0.0 {
		t.Errorf("%v events left", total)
	}
	if r := s.auth("DELETE", "/api/v1/profiles/gone-a", nil); r.Status != 404 {
		t.Errorf("erasing again: %d", r.Status)
	}
	// Someone else is untouched.
	if got := s.get("/api/v1/profiles/stays"); got["id"] != "stays" {
		t.Fatalf("other profile: %v", got)
	}
	if r := s.auth("GET", "/api/v1/sessions/"+other.Session.ID, nil); r.Status != 200 {
		t.Fatalf("other session: %d", r.Status)
	}
	// The audit trail records the erasure.
	if a := s.auth("GET", "/api/v1/audit", nil); a.Status != 200 || !json.Valid(a.Body) || !bytes.Contains(a.Body, []byte(`"gone-b"`)) {
		t.Errorf("audit: %d %.300s", a.Status, a.Body)
	}
}

// TestDeleteSessionAndEvent deletes single documents.
func TestDeleteSessionAndEvent(t *testing.T) {
	s := start(t, "")
	s.source("web")
	res := s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "p1"},
		"events": []any{map[string]any{"id": "ev-1", "type": "page-view"}, map[string]any{"id": "ev-2", "type": "page-view"}}})
	tokens := s.roleTokens()
	cases := []struct {
		name, token, method, path string
		status                    int
	}{
		{"marketer may not delete an event", tokens["marketer"], "DELETE", "/api/v1/events/ev-1", 403},
		{"delete event", tokens["admin"], "DELETE", "/api/v1/events/ev-1", 204},
		{"event gone", tokens["admin"], "GET", "/api/v1/events/ev-1", 404},
		{"delete event again", tokens["admin"], "DELETE", "/api/v1/events/ev-1", 404},
		{"other event stays", tokens["admin"], "GET", "/api/v1/events/ev-2", 200},
		{"delete session", tokens["admin"], "DELETE", "/api/v1/sessions/" + res.Session.ID, 204},
		{"session gone", tokens["admin"], "GET", "/api/v1/sessions/" + res.Session.ID, 404},
		{"delete session again", tokens["admin"], "DELETE", "/api/v1/sessions/" + res.Session.ID, 404},
		{"profile stays", tokens["admin"], "GET", "/api/v1/profiles/p1", 200},
	}
	for _, tc := range cases {
		if r := s.as(tc.token, tc.method, tc.path, nil); r.Status != tc.status {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
}

// TestEraseUnderConcurrentTracking erases a profile while its sessions keep sending
// events: afterwards nothing stored belongs to the erased profile except what requests
// that started after the erasure wrote (a fresh profile under the same id, with no
// events older than the erasure).
func TestEraseUnderConcurrentTracking(t *testing.T) {
	s := start(t, "")
	s.source("web")
	first := view(s, "busy")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				r := s.do("POST", "/track", map[string]any{"source": map[string]any{"id": "web"}, "session": map[string]any{"id": first.Session.ID},
					"profile": map[string]any{"id": "busy"}, "events": []any{map[string]any{"id": fmt.Sprintf("c-%d-%d", i, j), "type": "page-view"}}})
				if r.Status != http.StatusOK {
					t.Errorf("/track: %d %s", r.Status, r.Body)
					return
				}
			}
		}(i)
	}
	r := s.auth("DELETE", "/api/v1/profiles/busy", nil)
	close(stop)
	wg.Wait()
	if r.Status != 200 {
		t.Fatalf("erase: %d %s", r.Status, r.Body)
	}
	// Whatever is stored now was written after the erasure, by requests that found
	// nothing: a new profile whose stats count only its own events.
	p := s.auth("GET", "/api/v1/profiles/busy", nil)
	if p.Status == 404 {
		return
	}
	doc := p.JSON(t)
	evs := s.auth("POST", "/api/v1/events/search", map[string]any{"where": `profile.id == "busy"`, "limit": 0, "exact_total": true}).JSON(t)["total"].(float64)
	if views := at(doc, "stats.views").(float64); views != evs {
		t.Fatalf("profile after erasure counts %v views but %v events are stored: half of the old profile survived", views, evs)
	}
}

// TestEventTypeSchema enforces event types' JSON Schemas at /track: a type that
// rejects answers 422 and stores nothing; a type that stores keeps the event as
// invalid and does not map it onto the profile.
func TestEventTypeSchema(t *testing.T) {
	s := start(t, "")
	s.source("web")
	schema := map[string]any{"type": "object", "required": []string{"price"},
		"properties": map[string]any{"price": map[string]any{"type": "number", "minimum": 0}}}
	mapping := []any{map[string]any{"from": "event@properties.price", "to": "profile@traits.last_price", "op": "equals"}}
	cases := []struct {
		name, path string
		body       map[string]any
		status     int
		want       string
	}{
		{"reject type", "/api/v1/event-types/purchase", map[string]any{"name": "Purchase", "schema": schema, "profile_mapping": mapping}, 201, `"schema":{`},
		{"store type", "/api/v1/event-types/refund", map[string]any{"name": "Refund", "schema": schema, "on_invalid": "store", "profile_mapping": mapping}, 201, `"on_invalid":"store"`},
		{"schema not a schema", "/api/v1/event-types/bad", map[string]any{"name": "Bad", "schema": map[string]any{"type": "no-such-type"}}, 400, `"field":"schema"`},
		{"schema a string", "/api/v1/event-types/bad", map[string]any{"name": "Bad", "schema": "object"}, 400, `"field":"schema"`},
		{"schema refers to a file", "/api/v1/event-types/bad", map[string]any{"name": "Bad", "schema": map[string]any{"$ref": "file:///etc/passwd"}}, 400, `"field":"schema"`},
		{"bad on_invalid", "/api/v1/event-types/bad", map[string]any{"name": "Bad", "schema": schema, "on_invalid": "ignore"}, 400, `"field":"on_invalid"`},
	}
	for _, tc := range cases {
		r := s.auth("PUT", tc.path, tc.body)
		if r.Status != tc.status || !bytes.Contains(r.Body, []byte(tc.want)) {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
	track := func(typ, id string, props map[string]any) *response {
		return s.do("POST", "/track", map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "buyer"},
			"events": []any{map[string]any{"id": id, "type": typ, "properties": props}}})
	}
	if r := track("purchase", "ok-1", map[string]any{"price": 10}); r.Status != 200 {
		t.Fatalf("valid purchase: %d %s", r.Status, r.Body)
	}
	r := track("purchase", "bad-1", map[string]any{"price": "ten"})
	if r.Status != 422 || !bytes.Contains(r.Body, []byte("events[0].properties")) || !bytes.Contains(r.Body, []byte("/price")) {
		t.Fatalf("invalid purchase: %d %s", r.Status, r.Body)
	}
	if r := s.auth("GET", "/api/v1/events/bad-1", nil); r.Status != 404 {
		t.Errorf("rejected event stored: %d", r.Status)
	}
	r = track("refund", "bad-2", map[string]any{"price": -5})
	if r.Status != 200 || !bytes.Contains(r.Body, []byte("stored as invalid")) {
		t.Fatalf("invalid refund: %d %s", r.Status, r.Body)
	}
	ev := s.get("/api/v1/events/bad-2")
	if at(ev, "metadata.status") != "invalid" {
		t.Errorf("stored invalid event has status %v", at(ev, "metadata.status"))
	}
	if p := s.get("/api/v1/profiles/buyer"); at(p, "traits.last_price") != 10.0 {
		t.Errorf("an invalid event was mapped: last_price %v", at(p, "traits.last_price"))
	}
	if ok := s.get("/api/v1/events/ok-1"); at(ok, "metadata.status") != "processed" {
		t.Errorf("valid event status %v", at(ok, "metadata.status"))
	}
}

// TestConsentTypes is the consent-types resource: CRUD, validation and roles.
func TestConsentTypes(t *testing.T) {
	s := start(t, "")
	tokens := s.roleTokens()
	admin, mk, maint := tokens["admin"], tokens["marketer"], tokens["maintainer"]
	base := "/api/v1/consent-types"
	cases := []struct {
		name, token, method, path string
		body                      any
		status                    int
		want                      string
	}{
		{"create", admin, "POST", base, map[string]any{"id": "marketing", "name": "Marketing e-mails", "revokable": true, "default_value": "deny", "auto_revoke": "P30D", "tags": []string{"email"}},
			201, `"auto_revoke":"P30D"`},
		{"default value defaults to deny", mk, "POST", base, map[string]any{"id": "cookies", "name": "Cookies"}, 201, `"default_value":"deny"`},
		{"developer may create", tokens["developer"], "POST", base, map[string]any{"id": "analytics", "name": "Analytics", "default_value": "grant"}, 201, `"version":1`},
		{"maintainer may not", maint, "GET", base, nil, 403, ""},
		{"bad default", admin, "POST", base, map[string]any{"name": "X", "default_value": "maybe"}, 400, `"field":"default_value"`},
		{"bad duration", admin, "POST", base, map[string]any{"name": "X", "revokable": true, "auto_revoke": "a month"}, 400, `"field":"auto_revoke"`},
		{"auto revoke needs revokable", admin, "POST", base, map[string]any{"name": "X", "auto_revoke": "P30D"}, 400, `"field":"auto_revoke"`},
		{"wrong type", admin, "POST", base, map[string]any{"name": "X", "revokable": "yes"}, 400, `"field":"revokable"`},
		{"no name", admin, "POST", base, map[string]any{"default_value": "grant"}, 400, `"field":"name"`},
		{"unknown field", admin, "POST", base, map[string]any{"name": "X", "granted": true}, 400, "unknown field"},
		{"get", mk, "GET", base + "/marketing", nil, 200, `"revokable":true`},
		{"list by tag", mk, "GET", base + "?tag=email", nil, 200, `"total":1`},
		{"list by text", mk, "GET", base + "?q=cook", nil, 200, `"total":1`},
		{"stale update", admin, "PUT", base + "/marketing", map[string]any{"name": "Marketing", "version": 7}, 409, ""},
		{"update", admin, "PUT", base + "/marketing", map[string]any{"name": "Marketing", "version": 1, "revokable": true, "auto_revoke": "720h"}, 200, `"version":2`},
		{"delete", admin, "DELETE", base + "/cookies", nil, 204, ""},
		{"gone", admin, "GET", base + "/cookies", nil, 404, ""},
		{"list", admin, "GET", base, nil, 200, `"total":2`},
	}
	for _, tc := range cases {
		r := s.as(tc.token, tc.method, tc.path, tc.body)
		if r.Status != tc.status || !bytes.Contains(r.Body, []byte(tc.want)) {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
}

// TestReports checks the report routes on events tracked just now.
func TestReports(t *testing.T) {
	s := start(t, "")
	s.source("web")
	tokens := s.roleTokens()
	s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "rep-1"},
		"events": []any{map[string]any{"type": "page-view"}, map[string]any{"type": "page-view"}, map[string]any{"type": "purchase"}}})
	s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "rep-2"},
		"events": []any{map[string]any{"type": "page-view"}}})
	cases := []struct {
		name, token, path string
		status            int
		want              []string
	}{
		{"histogram", tokens["marketer"], "/api/v1/reports/events/histogram?interval=1h", 200, []string{`"total":4`, `"interval":"1h"`}},
		{"histogram with where", tokens["admin"], "/api/v1/reports/events/histogram?interval=1m&where=" + urlQuery(`type == "purchase"`), 200, []string{`"total":1`}},
		{"histogram per week", tokens["admin"], "/api/v1/reports/events/histogram?interval=1w&from=2026-01-01", 200, []string{`"total":4`}},
		{"bad interval", tokens["admin"], "/api/v1/reports/events/histogram?interval=5m", 400, []string{`"field":"interval"`}},
		{"too many buckets", tokens["admin"], "/api/v1/reports/events/histogram?interval=1m&from=2020-01-01", 400, []string{`"field":"interval"`}},
		{"bad where", tokens["admin"], "/api/v1/reports/events/histogram?where=" + urlQuery(`type ==`), 400, []string{`"field":"where"`}},
		{"bad from", tokens["admin"], "/api/v1/reports/events/histogram?from=yesterday", 400, []string{`"field":"from"`}},
		{"from after to", tokens["admin"], "/api/v1/reports/events/histogram?from=2026-02-01&to=2026-01-01", 400, []string{`"field":"from"`}},
		{"breakdown by type", tokens["marketer"], "/api/v1/reports/events/breakdown?by=type", 200, []string{`{"value":"page-view","count":3}`, `{"value":"purchase","count":1}`}},
		{"breakdown by source", tokens["admin"], "/api/v1/reports/events/breakdown?by=source", 200, []string{`{"value":"web","count":4}`}},
		{"breakdown with limit", tokens["admin"], "/api/v1/reports/events/breakdown?by=type&limit=1", 200, []string{`"items":[{"value":"page-view","count":3}]`}},
		{"bad breakdown", tokens["admin"], "/api/v1/reports/events/breakdown?by=colour", 400, []string{`"field":"by"`}},
		{"new profiles", tokens["marketer"], "/api/v1/reports/profiles/new?interval=1d", 200, []string{`"total":2`}},
		{"active sessions", tokens["marketer"], "/api/v1/reports/sessions/active", 200, []string{`"count":2`, `"within":"30m"`}},
		{"active sessions in a day", tokens["admin"], "/api/v1/reports/sessions/active?within=1d", 200, []string{`"count":2`}},
		{"bad within", tokens["admin"], "/api/v1/reports/sessions/active?within=forever", 400, []string{`"field":"within"`}},
		{"developer may not", tokens["developer"], "/api/v1/reports/sessions/active", 403, nil},
		{"maintainer may not", tokens["maintainer"], "/api/v1/reports/events/histogram", 403, nil},
	}
	for _, tc := range cases {
		r := s.as(tc.token, "GET", tc.path, nil)
		ok := r.Status == tc.status
		for _, w := range tc.want {
			ok = ok && bytes.Contains(r.Body, []byte(w))
		}
		if !ok {
			t.Errorf("%s: %d %.600s", tc.name, r.Status, r.Body)
		}
	}
}

func urlQuery(s string) string { return url.QueryEscape(s) }
