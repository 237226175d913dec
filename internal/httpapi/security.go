package httpapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/secrets"
)

type clientAddrKey struct{}

// maxForwardedHops bounds the X-Forwarded-For entries read per request.
const maxForwardedHops = 32

// addrOf parses a host:port or a bare address, IPv4-mapped IPv6 as IPv4.
func addrOf(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

func contains(nets []netip.Prefix, a netip.Addr) bool {
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// client resolves the address of the client: the direct peer, unless the peer is a
// trusted proxy, in which case X-Forwarded-For is read from the right (the entry the
// nearest proxy added) to the left, skipping trusted proxies; the first address that
// is not one is the client. Entries left of it were written by the client itself and
// are never believed. ok is false when the peer address cannot be parsed.
func (s *Server) client(r *http.Request) (netip.Addr, bool) {
	proxies := s.opt.TrustedProxies
	peer, ok := addrOf(r.RemoteAddr)
	if !ok || len(proxies) == 0 || !contains(proxies, peer) {
		return peer, ok
	}
	addr, hops := peer, 0
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for v != "" {
			var hop string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				hop, v = v[j+1:], v[:j]
			} else {
				hop, v = v, ""
			}
			if strings.TrimSpace(hop) == "" {
				continue
			}
			a, ok := addrOf(hop)
			if !ok || hops >= maxForwardedHops {
				// Garbage from a trusted proxy's side: the last address vouched for is
				// the best we know.
				return addr, true
			}
			hops++
			addr = a
			if !contains(proxies, a) {
				return a, true
			}
		}
	}
	return addr, true
}

// clientFromContext is the address resolved by secure, when it resolved one.
func clientFromContext(ctx context.Context) (netip.Addr, bool) {
	a, ok := ctx.Value(clientAddrKey{}).(netip.Addr)
	return a, ok
}

// guiPath reports whether path belongs to the GUI API or the GUI.
func guiPath(path string) (api, gui bool) {
	api = path == "/api/v1" || strings.HasPrefix(path, "/api/v1/")
	gui = path == "/" || path == "/gui" || strings.HasPrefix(path, "/gui/") // "/" redirects to the GUI
	return api, gui
}

// guiCSP is the content security policy of the GUI: everything from this origin only,
// no inline scripts or styles, no plugins, never framed.
const guiCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// apiCSP forbids rendering anything of an API answer, should a browser try.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

// secure runs before the routes. With trusted proxies configured it records the
// resolved client address for every route (the collector's clientIP reads it). On the
// GUI API and GUI it refuses clients outside the trusted networks (403), sets the
// security headers and answers CORS preflights of allowed origins. ok is false when it
// has answered the request itself. On a process without the GUI API nothing under
// those paths exists, so nothing is done there: the routes answer 404.
func (s *Server) secure(w http.ResponseWriter, r *http.Request) (_ *http.Request, ok bool) {
	if len(s.opt.TrustedProxies) > 0 {
		if a, ok := s.client(r); ok {
			r = r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, a))
		}
	}
	if !s.opt.ExposeGUIAPI {
		return r, true
	}
	api, gui := guiPath(r.URL.Path)
	if !api && !gui {
		return r, true
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if gui {
		h.Set("Content-Security-Policy", guiCSP)
	} else {
		h.Set("Content-Security-Policy", apiCSP)
		h.Set("Cache-Control", "no-store")
	}
	if nets := s.opt.TrustedNetworks; len(nets) > 0 {
		a, ok := clientFromContext(r.Context())
		if !ok {
			a, ok = s.client(r)
		}
		if !ok || !contains(nets, a) {
			writeError(w, http.StatusForbidden, "", "the GUI API and GUI are not reachable from your network")
			return r, false
		}
	}
	if origins := s.opt.CORSOrigins; api && len(origins) > 0 {
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin != "" && slices.Contains(origins, origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return r, false
			}
		}
	}
	return r, true
}

// sealSecrets encrypts the secret fields of v before it is stored (see package
// secrets); a field sent as the mask keeps the value old holds.
func (s *Server) sealSecrets(v, old any) error {
	err := s.deps.Secrets.SealFields(v, old)
	var fe *secrets.FieldError
	if errors.As(err, &fe) {
		return invalid(fe.Field, fe.Msg)
	}
	return err
}
