package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/test/testserver"
)

// TestSecurityExposeNoWalksOpenAPI: on a process with EXPOSE_GUI_API=no, every GUI API
// and GUI operation of the OpenAPI document answers 404, like an unknown path, while
// the collector and ops routes remain.
func TestSecurityExposeNoWalksOpenAPI(t *testing.T) {
	full := start(t, "")
	ops := full.openAPIOperations()
	full.kill()
	s := start(t, "", "EXPOSE_GUI_API=no")
	unknown := s.do("GET", "/no-such-path-at-all", nil)
	gui, collector := 0, 0
	for _, op := range ops {
		path := concrete(op.Path)
		r := s.do(op.Method, path, "{}")
		if strings.HasPrefix(op.Path, "/api/v1/") || strings.HasPrefix(op.Path, "/gui") {
			gui++
			if r.Status != 404 || string(r.Body) != string(unknown.Body) {
				t.Errorf("%s %s: %d %.100s; want the 404 of an unknown path", op.Method, op.Path, r.Status, r.Body)
			}
			continue
		}
		collector++
		if r.Status == 404 && !strings.Contains(op.Path, "{") {
			t.Errorf("collector/ops route %s %s is gone: 404", op.Method, op.Path)
		}
	}
	for _, p := range []string{"/api/v1/openapi.json", "/gui/", "/api/v1/"} {
		if r := s.do("GET", p, nil); r.Status != 404 {
			t.Errorf("GET %s: %d", p, r.Status)
		}
	}
	if gui < 15 || collector < 5 {
		t.Fatalf("walked %d GUI API and %d collector operations", gui, collector)
	}
}

// TestSecurityOpenAPIDocument: the document needs a token, is OpenAPI 3.1 and covers
// the collector as well as the GUI API.
func TestSecurityOpenAPIDocument(t *testing.T) {
	s := start(t, "")
	if r := s.do("GET", "/api/v1/openapi.json", nil); r.Status != 401 {
		t.Fatalf("without a token: %d", r.Status)
	}
	have := map[string]bool{}
	for _, op := range s.openAPIOperations() {
		have[op.Method+" "+op.Path] = true
	}
	for _, want := range []string{"POST /track", "GET /collect/{event_type}/{source_id}", "GET /healthz", "GET /metrics",
		"POST /api/v1/auth/token", "GET /api/v1/users", "PUT /api/v1/users/{id}", "GET /api/v1/audit", "GET /api/v1/event-sources/{id}"} {
		if !have[want] {
			t.Errorf("%s missing from the document", want)
		}
	}
}

// TestSecurityTrustedNetworks: outside TRUSTED_NETWORKS the GUI API and GUI answer 403
// and /track keeps working; X-Forwarded-For counts only through TRUSTED_PROXIES.
func TestSecurityTrustedNetworks(t *testing.T) {
	s := start(t, "", "TRUSTED_NETWORKS=10.0.0.0/8, 2001:db8::/32", "TRUSTED_PROXIES=127.0.0.1/32")
	inside := []string{"X-Forwarded-For", "10.1.2.3"}
	cases := []struct {
		name, method, path string
		headers            []string
		status             int
	}{
		{"API from outside", "GET", "/api/v1/install", nil, 403},
		{"API token route from outside", "POST", "/api/v1/auth/token", nil, 403},
		{"GUI from outside", "GET", "/gui/", nil, 403},
		{"API through the proxy from inside", "GET", "/api/v1/install", inside, 200},
		{"API through the proxy from inside, IPv6", "GET", "/api/v1/install", []string{"X-Forwarded-For", "2001:db8::9"}, 200},
		{"API through the proxy from outside", "GET", "/api/v1/install", []string{"X-Forwarded-For", "203.0.113.5"}, 403},
		{"spoofed leftmost entry", "GET", "/api/v1/install", []string{"X-Forwarded-For", "10.1.2.3, 203.0.113.5"}, 403},
		{"ops from outside", "GET", "/healthz", nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := s.do(tc.method, tc.path, nil, tc.headers...); r.Status != tc.status {
				t.Fatalf("%d %s; want %d", r.Status, r.Body, tc.status)
			}
		})
	}
	// An admin inside sets up a source; the collector serves it to anyone.
	r := s.do("POST", "/api/v1/install", map[string]string{"username": adminUser, "password": adminPass, "token": installToken}, inside...)
	if r.Status != 201 {
		t.Fatalf("install from inside: %d %s", r.Status, r.Body)
	}
	tok := s.login(adminUser, adminPass, inside...)
	if r := s.as(tok, "POST", "/api/v1/event-sources", map[string]any{"id": "web", "name": "Web"}, inside...); r.Status != 201 {
		t.Fatalf("source: %d %s", r.Status, r.Body)
	}
	if r := s.as(tok, "GET", "/api/v1/me", nil); r.Status != 403 {
		t.Fatalf("a valid token from outside: %d", r.Status)
	}
	r = s.do("POST", "/track", map[string]any{"source": map[string]any{"id": "web"}, "events": []any{map[string]any{"type": "page-view"}}},
		"X-Forwarded-For", "203.0.113.7")
	if r.Status != 200 {
		t.Fatalf("/track from outside: %d %s", r.Status, r.Body)
	}
	// The collector sees the client behind the proxy.
	sid := r.JSON(t)["session"].(map[string]any)["id"].(string)
	sess := s.as(tok, "GET", "/api/v1/sessions/"+sid, nil, inside...)
	if !strings.Contains(string(sess.Body), "203.0.113.7") {
		t.Errorf("session does not record the forwarded client address: %s", sess.Body)
	}
}

func TestSecurityHeadersAndCORS(t *testing.T) {
	s := start(t, "")
	for _, p := range []string{"/api/v1/install", "/api/v1/nothing", "/gui/"} {
		r := s.do("GET", p, nil, "Origin", "https://admin.example.com")
		h := r.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %v", p, h)
		}
		if h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: CORS is on by default", p)
		}
	}
	if csp := s.do("GET", "/gui/", nil).Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("GUI CSP: %q", csp)
	}
	s.kill()

	c := start(t, "", "GUI_API_CORS_ORIGINS=https://admin.example.com")
	r := c.do("OPTIONS", "/api/v1/auth/token", nil, "Origin", "https://admin.example.com", "Access-Control-Request-Method", "POST")
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://admin.example.com" {
		t.Fatalf("allowed preflight: %d %v", r.Status, r.Header)
	}
	r = c.do("OPTIONS", "/api/v1/auth/token", nil, "Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST")
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin allowed: %v", r.Header)
	}
}

// startFails runs serve with env and returns its output; the process must fail.
func startFails(t *testing.T, env ...string) string {
	t.Helper()
	cmd := exec.Command(testserver.Binary(t), "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=127.0.0.1:0", "DATA_DIR=" + t.TempDir(),
		"INSTALLATION_TOKEN=" + installToken}, env...)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("serve did not stop")
	}
	if err == nil {
		t.Fatalf("serve with %v succeeded:\n%s", env, out)
	}
	return string(out)
}

func TestSecuritySecretsKey(t *testing.T) {
	for _, key := range []string{"abc", strings.Repeat("0", 62), strings.Repeat("0", 66)} {
		if out := startFails(t, "SECRETS_KEY="+key); !strings.Contains(out, "SECRETS_KEY") {
			t.Errorf("SECRETS_KEY=%s: output does not name the variable:\n%s", key, out)
		}
	}
	// Unset on the embedded backend: a key is generated once, private to the owner.
	dir := t.TempDir()
	s := start(t, dir)
	fi, err := os.Stat(filepath.Join(dir, "secrets.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated key file: %v %v", fi, err)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "secrets.key"))
	s.restart()
	again, _ := os.ReadFile(filepath.Join(dir, "secrets.key"))
	if string(key) != string(again) {
		t.Fatal("key changed across a restart")
	}
	// Set: used as given, nothing written.
	dir2 := t.TempDir()
	start(t, dir2, "SECRETS_KEY="+strings.Repeat("ab", 32))
	if _, err := os.Stat(filepath.Join(dir2, "secrets.key")); err == nil {
		t.Fatal("a key file was written although SECRETS_KEY is set")
	}
}

// certPair writes a certificate for 127.0.0.1, signed by ca, to the two files.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ThamesThrive test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func (ca *testCA) issue(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	// Write to temporary names and rename, as certificate tools do, key first.
	write := func(path, typ string, b []byte) {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(keyFile, "EC PRIVATE KEY", kder)
	write(certFile, "CERTIFICATE", der)
}

// servedSerial connects with TLS and returns the serial of the server's certificate.
func servedSerial(t *testing.T, addr string, ca *testCA) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func waitSerial(t *testing.T, addr string, ca *testCA, want int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := servedSerial(t, addr, ca)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("served certificate %d, want %d", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSecurityTLS(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.issue(t, 100, certFile, keyFile)
	s := start(t, "", "TLS_CERT_FILE="+certFile, "TLS_KEY_FILE="+keyFile, "TLS_RELOAD_INTERVAL=100ms")
	addr := strings.TrimPrefix(s.URL, "http://")
	base := "https://" + addr

	// HTTPS with HTTP/2.
	h2 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}, ForceAttemptHTTP2: true}}
	resp, err := h2.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("HTTPS: %d over %s", resp.StatusCode, resp.Proto)
	}
	resp, err = h2.Get(base + "/api/v1/install")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS on the GUI API over HTTPS")
	}

	// HTTPS only: plain HTTP is refused.
	plain, err := http.Get("http://" + addr + "/healthz")
	if err == nil {
		body, _ := io.ReadAll(plain.Body)
		plain.Body.Close()
		if plain.StatusCode == 200 {
			t.Fatalf("plain HTTP served: %s", body)
		}
	}

	// TLS 1.1 and older are refused.
	if c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Fatal("TLS 1.1 handshake succeeded")
	}

	// A renewed certificate is picked up without a restart.
	if got := servedSerial(t, addr, ca); got != 100 {
		t.Fatalf("serial %d", got)
	}
	ca.issue(t, 101, certFile, keyFile)
	waitSerial(t, addr, ca, 101, 10*time.Second)

	// A broken pair keeps the last good certificate.
	os.WriteFile(certFile, []byte("not a certificate"), 0o600)
	time.Sleep(500 * time.Millisecond)
	if got := servedSerial(t, addr, ca); got != 101 {
		t.Fatalf("after a broken file: serial %d", got)
	}
	if !strings.Contains(s.Stderr.String(), "tls_reload_failed") {
		t.Error("a failed reload was not logged")
	}
}

func TestSecurityTLSReloadOnSIGHUP(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.issue(t, 200, certFile, keyFile)
	s := start(t, "", "TLS_CERT_FILE="+certFile, "TLS_KEY_FILE="+keyFile, "TLS_RELOAD_INTERVAL=0")
	addr := strings.TrimPrefix(s.URL, "http://")
	ca.issue(t, 201, certFile, keyFile)
	time.Sleep(300 * time.Millisecond)
	if got := servedSerial(t, addr, ca); got != 200 {
		t.Fatalf("reloaded without polling or SIGHUP: %d", got)
	}
	if err := s.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitSerial(t, addr, ca, 201, 10*time.Second)
	// Still serving after the signal.
	if err := s.Cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("process gone after SIGHUP: %v", err)
	}

	// A bad pair stops start-up naming the variables.
	os.WriteFile(keyFile, []byte("junk"), 0o600)
	if out := startFails(t, "TLS_CERT_FILE="+certFile, "TLS_KEY_FILE="+keyFile); !strings.Contains(out, "TLS_CERT_FILE") {
		t.Fatalf("bad pair: %s", out)
	}
}
