package netguard

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// CheckHost applies the guard's rule to the host of a URL before any call is made, so
// that configuration is refused when it is saved rather than when it is first used:
// localhost names, literal addresses, and the other spellings of an IPv4 address that
// C resolvers accept (inet_aton: 2130706433, 0x7f000001, 0177.0.0.1, 127.1, 0) are
// checked like the dotted form. Those spellings are refused even for public
// addresses: no valid host name is all numbers, and Go's own resolver would look them
// up as names, so they can only mislead. Other names pass; they are checked again,
// resolved, when dialled.
func (g *Guard) CheckHost(host string) error {
	h := strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if h == "" {
		return fmt.Errorf("empty host: %w", ErrBlocked)
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		if g.cfg.AllowPrivate {
			return nil
		}
		return fmt.Errorf("%s is a loopback name: %w (set OUTBOUND_ALLOW_PRIVATE=yes to allow it)", h, ErrBlocked)
	}
	if i := strings.IndexByte(h, '%'); i >= 0 { // an IPv6 zone
		h = h[:i]
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		return g.Check(ip)
	}
	if ip, ok := legacyIPv4(h); ok {
		if err := g.Check(ip); err != nil {
			return fmt.Errorf("%s means %w", h, err)
		}
		return fmt.Errorf("%s is %s written in a legacy numeric form: %w (write %s)", h, ip, ErrBlocked, ip)
	}
	return nil
}

// legacyIPv4 parses the inet_aton forms of an IPv4 address: one to four parts
// separated by dots, each decimal, octal (leading 0) or hex (0x), the last part
// filling the remaining bytes.
func legacyIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" {
			return netip.Addr{}, false
		}
		base := 10
		switch {
		case strings.HasPrefix(p, "0x"):
			base, p = 16, p[2:]
			if p == "" {
				p = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}
