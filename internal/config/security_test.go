package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadSecurityValues(t *testing.T) {
	key := strings.Repeat("ab", 32)
	c, err := Load(env(map[string]string{
		"TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::1", "GUI_API_CORS_ORIGINS": "https://admin.example.com, http://localhost:3000",
		"SECRETS_KEY": key, "LOGIN_MAX_ATTEMPTS": "5", "LOGIN_WINDOW": "1m", "TLS_RELOAD_INTERVAL": "0s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].Bits() != 128 || len(c.CORSOrigins) != 2 || len(c.SecretsKey) != 32 ||
		c.LoginMaxAttempts != 5 || c.LoginWindow != time.Minute || c.TLSReloadInterval != 0 {
		t.Fatalf("unexpected config: %+v", c)
	}
	d, _ := Load(env(nil))
	if d.SecretsKey != nil || d.LoginMaxAttempts != 10 || d.TLSReloadInterval != 5*time.Second || len(d.CORSOrigins) != 0 {
		t.Fatalf("unexpected defaults: %+v", d)
	}
}

func TestSecurityErrorsNameTheVariable(t *testing.T) {
	for name, value := range map[string]string{
		"SECRETS_KEY":          "too-short",
		"TRUSTED_PROXIES":      "10.0.0.0/33",
		"GUI_API_CORS_ORIGINS": "https://admin.example.com/path",
		"LOGIN_MAX_ATTEMPTS":   "1",
		"LOGIN_WINDOW":         "10ms",
		"TLS_RELOAD_INTERVAL":  "-1s",
	} {
		_, err := Load(env(map[string]string{name: value}))
		if err == nil || !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("%s=%q: error %v does not name the variable", name, value, err)
		}
	}
	// A 31-byte key is refused with its length.
	_, err := Load(env(map[string]string{"SECRETS_KEY": strings.Repeat("ab", 31)}))
	if err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Errorf("short key: %v", err)
	}
}
