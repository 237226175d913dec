package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	g := New(Config{})
	for _, tc := range []struct {
		ip      string
		blocked bool
	}{
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"fe80::1", true},
		{"fc00::1", true},
		{"0.0.0.0", true},
		{"::", true},
		{"224.0.0.1", true},
		{"ff02::1", true},
		{"100.100.100.200", true},
		{"255.255.255.255", true},
		{"::ffff:127.0.0.1", true}, // IPv4-mapped loopback
		{"::ffff:10.0.0.1", true},
		{"93.184.216.34", false},
		{"2606:2800:220:1:248:1893:25c8:1946", false},
		{"8.8.8.8", false},
	} {
		t.Run(tc.ip, func(t *testing.T) {
			err := g.Check(netip.MustParseAddr(tc.ip))
			if (err != nil) != tc.blocked {
				t.Fatalf("Check(%s) = %v, want blocked=%v", tc.ip, err, tc.blocked)
			}
			if err != nil && !errors.Is(err, ErrBlocked) {
				t.Fatalf("error does not wrap ErrBlocked: %v", err)
			}
		})
	}
	if err := New(Config{AllowPrivate: true}).Check(netip.MustParseAddr("10.0.0.1")); err != nil {
		t.Fatalf("AllowPrivate still blocks: %v", err)
	}
	allow := New(Config{Allow: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}})
	if allow.Check(netip.MustParseAddr("10.9.1.1")) != nil || allow.Check(netip.MustParseAddr("10.8.1.1")) == nil {
		t.Fatal("Allow list not applied")
	}
}

func TestDialRefusesLoopbackAfterResolution(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	g := New(Config{})
	ctx := context.Background()
	// By name ("localhost" resolves to a loopback address) and literally.
	for _, addr := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port} {
		if c, err := g.DialContext(ctx, "tcp", addr); err == nil {
			c.Close()
			t.Fatalf("dialled %s", addr)
		} else if !errors.Is(err, ErrBlocked) {
			t.Fatalf("dial %s: %v, want ErrBlocked", addr, err)
		}
	}
	c, err := New(Config{AllowPrivate: true}).DialContext(ctx, "tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatalf("allowed dial failed: %v", err)
	}
	c.Close()
}

func TestHTTPClient(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	if _, err := New(Config{}).Client(5*time.Second, 3).Get(srv.URL); err == nil || !errors.Is(err, ErrBlocked) {
		t.Fatalf("GET loopback: %v, want ErrBlocked", err)
	}
	if hits != 0 {
		t.Fatal("a blocked request reached the server")
	}
	resp, err := New(Config{AllowPrivate: true}).Client(5*time.Second, 3).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits != 1 {
		t.Fatalf("hits = %d", hits)
	}
}

// TestRedirectsAreChecked lets the first hop through (it is on an allowed network)
// and checks that redirects into blocked addresses are refused, whether the target is
// a literal address or a name that resolves to one.
func TestRedirectsAreChecked(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("redirect target was reached: %s", r.URL)
	}))
	defer target.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))

	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	var location string
	first := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, location, http.StatusFound)
	})}}
	first.Start()
	defer first.Close()

	g := New(Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
	for _, loc := range []string{
		"http://127.0.0.1:" + port + "/",
		"http://localhost:" + port + "/",
		"http://[::1]:" + port + "/",
		"http://10.0.0.1/",
		"http://169.254.169.254/latest/meta-data/",
		"file:///etc/passwd",
	} {
		location = loc
		resp, err := g.Client(5*time.Second, 3).Get(first.URL)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("redirect to %s was followed", loc)
		}
		if !errors.Is(err, ErrBlocked) {
			t.Fatalf("redirect to %s: %v, want ErrBlocked", loc, err)
		}
	}
}
