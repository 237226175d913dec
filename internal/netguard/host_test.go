package netguard

import (
	"errors"
	"testing"
)

func TestCheckHost(t *testing.T) {
	g := New(Config{})
	open := New(Config{AllowPrivate: true})
	for _, tc := range []struct {
		host      string
		refused   bool
		openToo   bool // refused even with OUTBOUND_ALLOW_PRIVATE=yes (legacy numeric spellings)
		mentioned string
	}{
		{"example.com", false, false, ""},
		{"hooks.example.com.", false, false, ""},
		{"93.184.216.34", false, false, ""},
		{"127.0.0.1", true, false, "loopback"},
		{"localhost", true, false, "loopback"},
		{"api.localhost", true, false, "loopback"},
		{"[::1]", true, false, "loopback"},
		{"::ffff:127.0.0.1", true, false, "loopback"},
		{"10.1.2.3", true, false, "private"},
		{"169.254.169.254", true, false, "link-local"},
		{"0.0.0.0", true, false, "unspecified"},
		{"2130706433", true, true, "127.0.0.1"},
		{"0", true, true, "0.0.0.0"},
		{"0x7f000001", true, true, "127.0.0.1"},
		{"0177.0.0.1", true, true, "127.0.0.1"},
		{"127.1", true, true, "127.0.0.1"},
		{"10.0x10203", true, true, "10.1.2.3"},
		{"0xa9fea9fe", true, true, "169.254.169.254"},
		{"134744072", true, true, "8.8.8.8"}, // public, but a misleading spelling
		{"1.2.3.4.5", false, false, ""},      // a name (which will not resolve)
		{"99999999999", false, false, ""},    // too large for an address: a name
		{"", true, true, "empty"},
	} {
		t.Run(tc.host, func(t *testing.T) {
			err := g.CheckHost(tc.host)
			if (err != nil) != tc.refused || (err != nil && !errors.Is(err, ErrBlocked)) {
				t.Fatalf("CheckHost(%q) = %v, refused want %v", tc.host, err, tc.refused)
			}
			if err != nil && !contains(err.Error(), tc.mentioned) {
				t.Fatalf("CheckHost(%q) = %v, want it to say %q", tc.host, err, tc.mentioned)
			}
			if err := open.CheckHost(tc.host); (err != nil) != tc.openToo {
				t.Fatalf("with AllowPrivate, CheckHost(%q) = %v", tc.host, err)
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
