package e2e

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/test/testserver"
)

// admin runs `thamesthrive <args>` against the data directory of s (and its address),
// with stdin as standard input, and returns the exit status and the output.
func (s *server) admin(stdin string, env []string, args ...string) (code int, stdout, stderr string) {
	s.t.Helper()
	cmd := exec.Command(testserver.Binary(s.t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + s.DataDir,
		"HTTP_ADDR=" + strings.TrimPrefix(s.URL, "http://")}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		s.t.Fatalf("running %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

func (s *server) tryLogin(user, password string) *response {
	s.t.Helper()
	return s.do("POST", "/api/v1/auth/token", map[string]string{"username": user, "password": password})
}

func TestAdminHealthcheck(t *testing.T) {
	s := start(t, "")
	if code, _, stderr := s.admin("", nil, "healthcheck"); code != 0 {
		t.Fatalf("healthcheck of a running server: exit %d: %s", code, stderr)
	}
	if code, _, stderr := s.admin("", nil, "healthcheck", "-ready"); code != 0 {
		t.Fatalf("healthcheck -ready: exit %d: %s", code, stderr)
	}
	// Nothing listens on the port of a stopped process.
	s.Kill()
	if code, _, stderr := s.admin("", nil, "healthcheck"); code != 1 || !strings.Contains(stderr, "/healthz") {
		t.Fatalf("healthcheck of a stopped server: exit %d (want 1): %s", code, stderr)
	}

	// Over HTTPS when TLS_CERT_FILE is set: the certificate names 127.0.0.1 but the
	// check must not depend on the name.
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca.issue(t, 7, certFile, keyFile)
	tlsEnv := []string{"TLS_CERT_FILE=" + certFile, "TLS_KEY_FILE=" + keyFile}
	ts := start(t, "", tlsEnv...)
	if code, _, stderr := ts.admin("", tlsEnv, "healthcheck"); code != 0 {
		t.Fatalf("healthcheck over HTTPS: exit %d: %s", code, stderr)
	}
	// Plain HTTP to a TLS listener fails: the scheme really follows TLS_CERT_FILE.
	if code, _, _ := ts.admin("", nil, "healthcheck"); code != 1 {
		t.Fatalf("plain-HTTP healthcheck of an HTTPS server: exit %d, want 1", code)
	}
}

func TestAdminCreateUserAndResetPassword(t *testing.T) {
	s := start(t, "")
	const user, pass = "ops@example.com", "first password 1"

	cases := []struct {
		name, stdin string
		env, args   []string
		wantCode    int
		wantErr     string
	}{
		{"unknown role", pass + "\n", nil, []string{"create-user", "-username", user, "-roles", "admin,root"}, 1, `"root" is not one of`},
		{"short password", "short\n", nil, []string{"create-user", "-username", user, "-roles", "admin"}, 1, "at least 8 characters"},
		{"no password", "", nil, []string{"create-user", "-username", user, "-roles", "admin"}, 2, "no password"},
		{"first user not an admin", pass + "\n", nil, []string{"create-user", "-username", user, "-roles", "marketer"}, 1, "first user must have the admin role"},
		{"username not an e-mail", pass + "\n", nil, []string{"create-user", "-username", "ops", "-roles", "admin"}, 1, "e-mail"},
		{"missing flags", pass + "\n", nil, []string{"create-user", "-username", user}, 2, "-roles are required"},
		{"unset password variable", "", nil, []string{"create-user", "-username", user, "-roles", "admin", "-password-env", "TT_NEW_PASSWORD"}, 2, "TT_NEW_PASSWORD is not set"},
		{"reset of an unknown user", pass + "\n", nil, []string{"reset-password", "-username", "nobody@example.com"}, 1, "does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := s.admin(c.stdin, c.env, c.args...)
			if code != c.wantCode || !strings.Contains(stderr, c.wantErr) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, c.wantCode, c.wantErr)
			}
			if strings.Contains(stdout+stderr, pass) {
				t.Fatal("the password was echoed")
			}
		})
	}
	// None of the refused calls left a user or an installation behind.
	if r := s.tryLogin(user, pass); r.Status != http.StatusUnauthorized {
		t.Fatalf("login after refused create-user calls: %d %s", r.Status, r.Body)
	}

	// The first admin, created while serve runs on the same data directory, from the
	// environment; it completes the installation.
	code, stdout, stderr := s.admin("", []string{"TT_NEW_PASSWORD=" + pass}, "create-user", "-username", user,
		"-roles", "admin,maintainer", "-name", "Ops", "-password-env", "TT_NEW_PASSWORD")
	if code != 0 || strings.Contains(stdout+stderr, pass) {
		t.Fatalf("create-user: exit %d\n%s\n%s", code, stdout, stderr)
	}
	r := s.tryLogin(user, pass)
	if r.Status != http.StatusOK {
		t.Fatalf("login as the created admin: %d %s", r.Status, r.Body)
	}
	oldToken := r.JSON(t)["access_token"].(string)
	if r := s.do("POST", "/api/v1/install", map[string]string{"username": "x@example.com", "password": "whatever123", "token": installToken}); r.Status != http.StatusConflict {
		t.Fatalf("install after create-user made the first admin: %d %s, want 409", r.Status, r.Body)
	}
	me := s.do("GET", "/api/v1/users/"+user, nil, "Authorization", "Bearer "+oldToken)
	if me.Status != http.StatusOK || !strings.Contains(string(me.Body), "maintainer") || !strings.Contains(string(me.Body), `"Ops"`) {
		t.Fatalf("the created admin: %d %s", me.Status, me.Body)
	}
	// A second user from standard input; the name is taken once.
	if code, _, stderr := s.admin("marketer pw 1\n", nil, "create-user", "-username", "m@example.com", "-roles", "marketer"); code != 0 {
		t.Fatalf("second user: exit %d: %s", code, stderr)
	}
	if code, _, stderr := s.admin("marketer pw 1\n", nil, "create-user", "-username", "M@example.com", "-roles", "marketer"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("duplicate user: exit %d: %s", code, stderr)
	}

	// The admin forgot the password: reset-password lets them back in; their old
	// token dies.
	const newPass = "second password 2"
	code, stdout, stderr = s.admin(newPass+"\n", nil, "reset-password", "-username", "OPS@example.com", "-enable")
	if code != 0 || strings.Contains(stdout+stderr, newPass) {
		t.Fatalf("reset-password: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if r := s.do("GET", "/api/v1/users/"+user, nil, "Authorization", "Bearer "+oldToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("old token after reset-password: %d, want 401", r.Status)
	}
	if r := s.tryLogin(user, pass); r.Status != http.StatusUnauthorized {
		t.Fatalf("old password after reset: %d, want 401", r.Status)
	}
	if r := s.tryLogin(user, newPass); r.Status != http.StatusOK {
		t.Fatalf("new password: %d %s", r.Status, r.Body)
	}
}
