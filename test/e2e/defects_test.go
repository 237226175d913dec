package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOutsideFindings holds the defects found from outside (issue 17, point 8), each
// as a request and the answer it must get: no input is stored that should not be, and
// none is answered 503 for ever.
func TestOutsideFindings(t *testing.T) {
	s := start(t, "")
	s.source("web")
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name, method, path, ctype, body string
		status                          int
		field                           string // the field the 400 names
	}{
		{"order total once", "POST", "/track", "", `{"source":{"id":"web"},"profile":{"id":"big-spender"},"events":[{"type":"order-completed","properties":{"order":{"total":1e308}}}]}`, 200, ""},
		{"order total overflows the profile's sum", "POST", "/track", "", `{"source":{"id":"web"},"profile":{"id":"big-spender"},"events":[{"type":"order-completed","properties":{"order":{"total":1e308}}}]}`, 400, "events[0].properties.order.total"},
		{"the profile still takes events", "POST", "/track", "", `{"source":{"id":"web"},"profile":{"id":"big-spender"},"events":[{"type":"page-view"}]}`, 200, ""},
		{"NUL in an event type", "POST", "/track", "", `{"source":{"id":"web"},"events":[{"type":"a\u0000b"}]}`, 400, "events[0].type"},
		{"newline in an event type", "POST", "/track", "", `{"source":{"id":"web"},"events":[{"type":"a\nb"}]}`, 400, "events[0].type"},
		{"C1 control in an event type", "POST", "/track", "", `{"source":{"id":"web"},"events":[{"type":"a\u0085b"}]}`, 400, "events[0].type"},
		{"NUL in an event id", "POST", "/track", "", `{"source":{"id":"web"},"events":[{"id":"e\u0000","type":"x"}]}`, 400, "events[0].id"},
		{"NUL in a /collect type", "POST", "/collect/a%00b/web", "application/json", `{}`, 400, "events[0].type"},
		{"/collect form value over the string limit", "POST", "/collect/signup/web", form, "email=" + strings.Repeat("x", 900000), 400, "body"},
		{"/collect form value of invalid UTF-8", "POST", "/collect/signup/web", form, "name=%FF%FE", 400, "body"},
		{"/collect form within the limits", "POST", "/collect/signup/web", form, "name=" + url.QueryEscape("Zoë"), 200, ""},
		{"/collect query of invalid UTF-8", "GET", "/collect/signup/web?name=%FF", "", "", 400, "query"},
		{"/collect query value over the string limit", "GET", "/collect/signup/web?v=" + strings.Repeat("y", 70000), "", "", 400, "query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			var h []string
			if tc.ctype != "" {
				h = []string{"Content-Type", tc.ctype}
			}
			r := s.do(tc.method, tc.path, body, h...)
			if r.Status != tc.status {
				t.Fatalf("%d %s, want %d", r.Status, r.Body, tc.status)
			}
			if tc.field != "" {
				if got := r.JSON(t)["field"]; got != tc.field {
					t.Fatalf("field %v, want %q: %s", got, tc.field, r.Body)
				}
			}
		})
	}
	p := s.get("/api/v1/profiles/big-spender")
	if ltv := at(p, "data.metrics.ltv"); ltv != 1e308 {
		t.Fatalf("lifetime value %v, want 1e308 (the overflowing order must change nothing)", ltv)
	}
	r := s.auth("POST", "/api/v1/events/search", map[string]any{"where": `type = "signup"`})
	if r.Status != http.StatusOK {
		t.Fatalf("events/search: %d %s", r.Status, r.Body)
	}
	if n := r.JSON(t)["total"].(float64); n != 1 {
		t.Fatalf("%v signup events stored; only the one within the limits should be: %s", n, r.Body)
	}
}
