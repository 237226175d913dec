// Package netguard guards outbound connections that users configure (webhooks, e-mail,
// destinations) against server-side request forgery: it refuses to connect to
// loopback, private, link-local, unspecified, multicast and other non-public addresses
// unless explicitly allowed. The check runs on the address actually dialled, after DNS
// resolution, so neither a hostname that resolves to 127.0.0.1 nor a redirect to one
// gets through, and DNS rebinding between check and connect is impossible.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrBlocked is wrapped by every refusal.
var ErrBlocked = errors.New("outbound address not allowed")

// Config says which targets are allowed.
type Config struct {
	// AllowPrivate lets connections reach every address, private ones included
	// (OUTBOUND_ALLOW_PRIVATE=yes).
	AllowPrivate bool
	// Allow lists networks allowed even when AllowPrivate is off.
	Allow []netip.Prefix
	// DialTimeout bounds connecting; default 10s.
	DialTimeout time.Duration
}

// Guard dials only allowed addresses. It is safe for concurrent use.
type Guard struct {
	cfg       Config
	dialer    *net.Dialer
	transport *http.Transport
}

// blocked are the networks refused by default, beyond what netip's predicates cover.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (some clouds' metadata services)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:10::/28"),    // ORCHID
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

// New returns a Guard.
func New(cfg Config) *Guard {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	g := &Guard{cfg: cfg}
	g.dialer = &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second, Control: g.control}
	g.transport = &http.Transport{
		Proxy:                 nil, // a proxy would make the dialled address the proxy's
		DialContext:           g.dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return g
}

// AllowsPrivate reports whether private targets are allowed.
func (g *Guard) AllowsPrivate() bool { return g.cfg.AllowPrivate }

// Check reports whether ip may be dialled; the error wraps ErrBlocked.
func (g *Guard) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	if g.cfg.AllowPrivate {
		return nil
	}
	for _, p := range g.cfg.Allow {
		if p.Contains(ip) {
			return nil
		}
	}
	if reason := classify(ip); reason != "" {
		return fmt.Errorf("%s is a %s address: %w (set OUTBOUND_ALLOW_PRIVATE=yes to allow it)", ip, reason, ErrBlocked)
	}
	return nil
}

func classify(ip netip.Addr) string {
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return "reserved"
		}
	}
	return ""
}

// control runs for every connection attempt with the resolved address about to be
// dialled.
func (g *Guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dialling %q: %w", address, ErrBlocked)
	}
	return g.Check(ap.Addr())
}

// DialContext connects like net.Dialer.DialContext, to allowed addresses only.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return g.dialer.DialContext(ctx, network, addr)
}

// Transport is the guarded HTTP transport, shared by all clients of the guard so that
// connections are pooled.
func (g *Guard) Transport() http.RoundTripper { return g.transport }

// Client returns an HTTP client over the guarded transport with the given overall
// timeout. It follows at most maxRedirects redirects, to http and https URLs only;
// every redirect target is dialled through the guard as well.
func (g *Guard) Client(timeout time.Duration, maxRedirects int) *http.Client {
	return &http.Client{
		Transport: g.transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to %s: %w", req.URL.Scheme, ErrBlocked)
			}
			// Literal addresses are refused here already, with a clear error; names
			// are checked when dialled.
			if err := g.CheckHost(req.URL.Hostname()); err != nil {
				return fmt.Errorf("redirect to %s: %w", req.URL.Host, err)
			}
			return nil
		},
	}
}
