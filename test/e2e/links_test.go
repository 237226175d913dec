package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// Tracked links: a click is recorded for the visitor, then 302 to the configured
// target only.
func TestTrackedLinks(t *testing.T) {
	s := start(t, "")
	s.source("mail")
	for _, c := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"javascript target", map[string]any{"name": "x", "source": "mail", "target": "javascript:alert(1)"}, "target"},
		{"relative target", map[string]any{"name": "x", "source": "mail", "target": "/login"}, "target"},
		{"no source", map[string]any{"name": "x", "target": "https://shop.example.com/"}, "source"},
	} {
		if r := s.auth("POST", "/api/v1/links", c.body); r.Status != 400 || r.JSON(t)["field"] != c.field {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}
	r := s.auth("POST", "/api/v1/links", map[string]any{"id": "spring", "name": "Spring sale", "source": "mail",
		"target": "https://shop.example.com/sale?from=mail", "event_type": "Mail Click"})
	if r.Status != http.StatusCreated || r.JSON(t)["event_type"] != "mail-click" {
		t.Fatalf("creating link: %d %s", r.Status, r.Body)
	}
	known := s.track(map[string]any{"source": map[string]any{"id": "mail"}, "events": []any{map[string]any{"type": "page-view"}}})

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, cookies ...*http.Cookie) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		req.Header.Set("Referer", "https://mail.example.com/inbox")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// The query cannot redirect anywhere else.
	resp := get("/redirect/spring?profile_id=" + known.Profile.ID + "&utm_campaign=spring&next=https://evil.example.com&url=https://evil.example.com")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://shop.example.com/sale?from=mail" {
		t.Fatalf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	evs := s.get("/api/v1/profiles/" + known.Profile.ID + "/events")["items"].([]any)
	click := evs[0].(map[string]any)
	for path, want := range map[string]any{"type": "mail-click", "properties.link_id": "spring", "properties.query.utm_campaign": "spring",
		"hit.referer": "mail.example.com"} {
		if got := at(click, path); got != want {
			t.Errorf("click %s = %v, want %v", path, got, want)
		}
	}
	// A later click without profile_id is attributed through the cookie.
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "tt_pid" {
			ck = c
		}
	}
	if ck == nil || ck.Value != known.Profile.ID || !ck.HttpOnly {
		t.Fatalf("cookie: %+v", ck)
	}
	get("/redirect/spring", ck)
	if n := len(s.get("/api/v1/profiles/" + known.Profile.ID + "/events")["items"].([]any)); n != 3 {
		t.Errorf("events after the second click: %d, want 3", n)
	}
	// Unknown and disabled links are 404s in the JSON error shape; collector processes serve links.
	s.auth("PUT", "/api/v1/links/spring", map[string]any{"name": "off", "source": "mail", "target": "https://shop.example.com/", "enabled": false})
	for _, p := range []string{"/redirect/spring", "/redirect/nope"} {
		if r := s.do("GET", p, nil); r.Status != 404 || !strings.Contains(string(r.Body), `"status":404`) {
			t.Errorf("%s: %d %s", p, r.Status, r.Body)
		}
	}
}
