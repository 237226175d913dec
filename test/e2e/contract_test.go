package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// The collector's HTTP contract: gzip bodies, unknown encodings, JSON errors for
// unknown routes and methods, CORS preflights allowing what trackers send.
func TestCollectorHTTPContract(t *testing.T) {
	s := start(t, "", "EXPOSE_GUI_API=no")
	body := `{"source":{"id":"nope"},"events":[{"type":"page-view"}]}`
	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		contains           string
	}{
		{"gzip body is decoded (then the unknown source is a 401)", "POST", "/track", gz(body), []string{"Content-Encoding", "gzip"}, 401, `"field":"source.id"`},
		{"gzip bomb", "POST", "/track", gz(`{"source":{"id":"x"},"events":[{"type":"a","properties":{"x":"` + strings.Repeat("a", 2<<20) + `"}}]}`), []string{"Content-Encoding", "gzip"}, 413, `"status":413`},
		{"unknown encoding", "POST", "/track", body, []string{"Content-Encoding", "br"}, 415, `"field":"Content-Encoding"`},
		{"unknown collector path", "GET", "/trackx", nil, nil, 404, `"status":404`},
		{"wrong method", "GET", "/track", nil, nil, 405, `"status":405`},
		{"wrong method on /v1", "GET", "/v1/track", nil, nil, 405, `"status":405`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(c.method, c.path, c.body, c.headers...)
			if r.Status != c.status || !strings.Contains(string(r.Body), c.contains) || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
			}
		})
	}
	r := s.do("OPTIONS", "/track", nil, "Origin", "https://shop.example.com", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type,x-timestamp")
	if r.Status != http.StatusNoContent || !strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "x-timestamp") {
		t.Fatalf("preflight: %d %v", r.Status, r.Header)
	}
}
