package httpapi

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/prometheus/client_golang/prometheus"
)

func TestGUIServing(t *testing.T) {
	files := fstest.MapFS{
		"index.html":             {Data: []byte(`<!doctype html><script type="module" src="/gui/assets/index-abc123.js"></script>`)},
		"assets/index-abc123.js": {Data: []byte(`console.log(1)`)},
		"favicon.svg":            {Data: []byte(`<svg/>`)},
	}
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	a.srv = newGUIServer(t, a, Options{ExposeGUIAPI: true}, files)
	off := newGUIServer(t, a, Options{}, files)
	for _, tc := range []struct {
		name, method, path string
		srv                *Server
		status             int
		cache, body, loc   string
	}{
		{"index", "GET", "/gui/", a.srv, 200, "no-cache", "<!doctype html>", ""},
		{"deep link reloads the app", "GET", "/gui/profiles/p-1/timeline", a.srv, 200, "no-cache", "<!doctype html>", ""},
		{"index by name", "GET", "/gui/index.html", a.srv, 200, "no-cache", "<!doctype html>", ""},
		{"hashed asset cached for a year", "GET", "/gui/assets/index-abc123.js", a.srv, 200, "public, max-age=31536000, immutable", "console.log", ""},
		{"unhashed file revalidated", "GET", "/gui/favicon.svg", a.srv, 200, "no-cache", "<svg/>", ""},
		{"missing asset is a 404, not the app", "GET", "/gui/assets/gone-123.js", a.srv, 404, "", `"status":404`, ""},
		{"HEAD", "HEAD", "/gui/", a.srv, 200, "no-cache", "", ""},
		{"/gui redirects", "GET", "/gui", a.srv, 301, "", "", "/gui/"},
		{"root redirects to the GUI", "GET", "/", a.srv, 302, "", "", "/gui/"},
		{"no GUI without the GUI API", "GET", "/gui/", off, 404, "", "", ""},
		{"no redirect without the GUI API", "GET", "/", off, 404, "", "", ""},
		{"no deep link without the GUI API", "GET", "/gui/profiles", off, 404, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := a.srv
			a.srv = tc.srv
			rec := a.do(tc.method, tc.path, "", nil)
			a.srv = saved
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("Cache-Control"); tc.cache != "" && got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("body %q lacks %q", rec.Body, tc.body)
			}
			if got := rec.Header().Get("Location"); got != tc.loc {
				t.Errorf("Location %q, want %q", got, tc.loc)
			}
			if tc.srv == a.srv && rec.Code == 200 {
				for h, want := range map[string]string{"Content-Security-Policy": guiCSP, "X-Frame-Options": "DENY",
					"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
					if got := rec.Header().Get(h); got != want {
						t.Errorf("%s %q, want %q", h, got, want)
					}
				}
				if strings.Contains(guiCSP, "unsafe-inline") {
					t.Error("the GUI's CSP allows inline code")
				}
			}
		})
	}
}

// TestEmbeddedGUIHasNoInlineScripts checks the committed build: its index.html loads
// hashed assets and carries no inline script the CSP would block.
func TestEmbeddedGUIHasNoInlineScripts(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	rec := a.do("GET", "/gui/", "", nil)
	if rec.Code != 200 {
		t.Fatalf("GET /gui/: %d", rec.Code)
	}
	body := rec.Body.String()
	for _, tag := range strings.Split(body, "<script")[1:] {
		if !strings.Contains(tag[:strings.Index(tag, ">")], "src=") {
			t.Errorf("inline script in index.html: <script%s", tag)
		}
	}
	if !strings.Contains(body, `src="/gui/assets/`) {
		t.Errorf("index.html does not load its hashed assets from /gui/assets/: %s", body)
	}
}

// newGUIServer is a server sharing a's store and auth, serving files as the GUI.
func newGUIServer(t *testing.T, a *accessServer, opt Options, files fstest.MapFS) *Server {
	t.Helper()
	d := a.srv.deps
	d.GUI = files
	d.Registry = prometheus.NewRegistry()
	opt.MaxBodyBytes = 1 << 20
	return New(opt, d)
}
