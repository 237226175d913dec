package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/auth"
)

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestClientAddressThroughTrustedProxies(t *testing.T) {
	s := &Server{opt: Options{TrustedProxies: prefixes("10.0.0.0/8", "2001:db8:ffff::/48")}}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy, no header", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"untrusted peer: header ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"one trusted proxy", "10.0.0.2:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client-written entries left of the real client are ignored", "10.0.0.2:4000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.2:4000", []string{"198.51.100.1, 10.0.0.9, 10.0.0.3"}, "198.51.100.1"},
		{"several headers read as one list", "10.0.0.2:4000", []string{"6.6.6.6, 198.51.100.1", "10.0.0.3"}, "198.51.100.1"},
		{"all proxies: the leftmost", "10.0.0.2:4000", []string{"10.0.0.7, 10.0.0.3"}, "10.0.0.7"},
		{"garbage stops at the last vouched address", "10.0.0.2:4000", []string{"198.51.100.1, garbage, 10.0.0.3"}, "10.0.0.3"},
		{"ports and brackets", "10.0.0.2:4000", []string{"[2001:db8::5]:1234, 198.51.100.1:80"}, "198.51.100.1"},
		{"IPv6 proxy and client", "[2001:db8:ffff::1]:4000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"empty entries skipped", "10.0.0.2:4000", []string{"198.51.100.1, , "}, "198.51.100.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/track", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got, ok := s.client(r)
			if !ok || got.String() != tc.want {
				t.Fatalf("client = %v %v; want %s", got, ok, tc.want)
			}
		})
	}
}

func TestTrustedNetworksGuardGUIAPIOnly(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true, TrustedNetworks: prefixes("192.0.2.0/24", "2001:db8::/32"),
		TrustedProxies: prefixes("10.0.0.1/32")})
	tok := a.tokens["admin"]
	for _, tc := range []struct {
		name, path, peer, xff string
		want                  int
	}{
		{"inside", "/api/v1/me", "192.0.2.10:1", "", 200},
		{"inside IPv6", "/api/v1/me", "[2001:db8::1]:1", "", 200},
		{"outside", "/api/v1/me", "203.0.113.1:1", "", 403},
		{"outside, no token needed to be refused", "/api/v1/install", "203.0.113.1:1", "", 403},
		{"GUI outside", "/gui/", "203.0.113.1:1", "", 403},
		{"GUI inside", "/gui/", "192.0.2.10:1", "", 200},
		{"root outside: no redirect to the GUI", "/", "203.0.113.1:1", "", 403},
		{"root inside redirects to the GUI", "/", "192.0.2.10:1", "", 302},
		{"spoofed header from an untrusted peer", "/api/v1/me", "203.0.113.1:1", "192.0.2.10", 403},
		{"through the trusted proxy", "/api/v1/me", "10.0.0.1:1", "192.0.2.10", 200},
		{"outside through the trusted proxy", "/api/v1/me", "10.0.0.1:1", "203.0.113.1", 403},
		{"collector from outside", "/healthz", "203.0.113.1:1", "", 200},
		{"api prefix lookalike is not the API", "/api/v10", "203.0.113.1:1", "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := []string{"RemoteAddr", tc.peer}
			if tc.xff != "" {
				h = append(h, "X-Forwarded-For", tc.xff)
			}
			rec := a.do("GET", tc.path, tok, nil, h...)
			if rec.Code != tc.want {
				t.Fatalf("%d %s; want %d", rec.Code, rec.Body, tc.want)
			}
		})
	}
	// /track from outside reaches the collector (which knows no source "x").
	rec := a.do("POST", "/track", "", `{"source":{"id":"x"},"events":[{"type":"t"}]}`, "RemoteAddr", "203.0.113.1:1")
	if rec.Code == http.StatusForbidden || rec.Code >= 500 {
		t.Fatalf("/track from outside: %d %s", rec.Code, rec.Body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	for _, path := range []string{"/api/v1/me", "/api/v1/nothing", "/api/v1/install", "/gui/", "/gui/app.js"} {
		rec := a.do("GET", path, a.tokens["admin"], nil)
		h := rec.Header()
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: headers %v", path, h)
		}
		if strings.HasPrefix(path, "/gui") && !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, h.Get("Content-Security-Policy"))
		}
		if strings.HasPrefix(path, "/api") && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, h.Get("Cache-Control"))
		}
		if h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: CORS header without CORS configured", path)
		}
	}
	rec := a.do("GET", "/healthz", "", nil)
	if rec.Header().Get("Content-Security-Policy") != "" {
		t.Error("collector/ops answers carry GUI headers")
	}
}

func TestCORSOffByDefaultAndAllowList(t *testing.T) {
	preflight := []string{"Origin", "https://admin.example.com", "Access-Control-Request-Method", "PUT",
		"Access-Control-Request-Headers", "authorization, content-type"}
	off := newAccessServer(t, Options{ExposeGUIAPI: true})
	if rec := off.do("OPTIONS", "/api/v1/users", "", nil, preflight...); rec.Code == http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight with CORS off: %d %v", rec.Code, rec.Header())
	}

	on := newAccessServer(t, Options{ExposeGUIAPI: true, CORSOrigins: []string{"https://admin.example.com"}})
	rec := on.do("OPTIONS", "/api/v1/users", "", nil, preflight...)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "https://admin.example.com" ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("allowed preflight: %d %v", rec.Code, rec.Header())
	}
	rec = on.do("GET", "/api/v1/me", on.tokens["admin"], nil, "Origin", "https://admin.example.com")
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "https://admin.example.com" {
		t.Fatalf("allowed GET: %d %v", rec.Code, rec.Header())
	}
	rec = on.do("OPTIONS", "/api/v1/users", "", nil, "Origin", "https://evil.example.com", "Access-Control-Request-Method", "PUT")
	if rec.Code == http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin: %d %v", rec.Code, rec.Header())
	}
}

func TestGUIAPIAbsentWithoutExpose(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: false, TrustedNetworks: prefixes("192.0.2.0/24")})
	for _, path := range []string{"/api/v1/me", "/api/v1/openapi.json", "/api/v1/install", "/gui/", "/api/v1/users"} {
		rec := a.do("GET", path, a.tokens["admin"], nil, "RemoteAddr", "203.0.113.1:1")
		if rec.Code != http.StatusNotFound || rec.Header().Get("X-Frame-Options") != "" {
			t.Errorf("%s: %d %v; want a plain 404", path, rec.Code, rec.Header())
		}
	}
}

func TestLoginThrottledWith429(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true}, func(c *auth.Config) { c.MaxLoginAttempts = 2 })
	var last *httptest.ResponseRecorder
	for i := 0; i < 12; i++ {
		last = a.do("POST", "/api/v1/auth/token", "", map[string]string{"username": "nobody@example.com", "password": "wrong password"},
			"RemoteAddr", "198.51.100.77:1")
		if last.Code == http.StatusTooManyRequests {
			break
		}
	}
	if last.Code != http.StatusTooManyRequests || last.Header().Get("Retry-After") == "" {
		t.Fatalf("after many failures: %d %v %s", last.Code, last.Header(), last.Body)
	}
}
