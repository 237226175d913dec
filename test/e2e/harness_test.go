// Package e2e tests ThamesThrive as users meet it: the real binary, started as a
// process on a temporary data directory, spoken to over HTTP.
package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/thamesthrive/thamesthrive/test/testserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.Cleanup()
	os.Exit(code)
}

const (
	installToken = "e2e-installation-token"
	adminUser    = "admin@example.com"
	adminPass    = "correct horse battery"
)

// server is one running thamesthrive process on its own data directory.
type server struct {
	*testserver.Process
	t       *testing.T
	DataDir string
	env     []string
	token   string
}

type response = testserver.Response

var (
	client = testserver.Client
	at     = testserver.At
)

// start runs `thamesthrive serve` on a new data directory (or dataDir if given) with
// extra environment variables, and waits until it listens.
func start(t *testing.T, dataDir string, env ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	s := &server{t: t, DataDir: dataDir, env: env}
	s.launch()
	return s
}

func (s *server) launch() {
	s.t.Helper()
	s.Process = testserver.Start(s.t, append([]string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=127.0.0.1:0", "DATA_DIR=" + s.DataDir,
		"INSTALLATION_TOKEN=" + installToken, "LOGGING_LEVEL=info", "TRACK_RATE_LIMIT=0"}, s.env...))
}

// kill stops the process with SIGKILL: nothing gets flushed or finished.
func (s *server) kill() { s.Kill() }

// restart kills the process (-9) and starts it again on the same data directory.
func (s *server) restart() {
	s.kill()
	s.launch()
}

// do sends a request. body may be nil, a string (sent as is) or a value (sent as JSON).
func (s *server) do(method, path string, body any, headers ...string) *response {
	s.t.Helper()
	r, err := testserver.Send(s.URL, method, path, body, headers...)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// auth sends a request with the admin's bearer token.
func (s *server) auth(method, path string, body any) *response {
	s.t.Helper()
	return s.do(method, path, body, "Authorization", "Bearer "+s.adminToken())
}

// adminToken installs the first admin (once) and returns a token for it.
func (s *server) adminToken() string {
	s.t.Helper()
	if s.token != "" {
		return s.token
	}
	s.token = testserver.AdminToken(s.t, s.URL, installToken, adminUser, adminPass)
	return s.token
}

// source creates an enabled REST source with the given id.
func (s *server) source(id string, extra ...map[string]any) {
	s.t.Helper()
	// Trusted: these tests choose profile ids as a server-side integration does (an
	// untrusted browser source gets server-made ids instead; tracardi_test.go).
	body := map[string]any{"id": id, "name": "Source " + id, "type": "rest", "enabled": true, "trusted": true}
	for _, e := range extra {
		for k, v := range e {
			body[k] = v
		}
	}
	if r := s.auth("POST", "/api/v1/event-sources", body); r.Status != http.StatusCreated {
		s.t.Fatalf("creating source: %d %s", r.Status, r.Body)
	}
}

// track sends a /track request and decodes a 200 answer.
func (s *server) track(body any) trackResult {
	s.t.Helper()
	r := s.do("POST", "/track", body)
	if r.Status != http.StatusOK {
		s.t.Fatalf("/track: %d %s", r.Status, r.Body)
	}
	var out trackResult
	if err := json.Unmarshal(r.Body, &out); err != nil {
		s.t.Fatal(err)
	}
	return out
}

type trackResult struct {
	Profile  struct{ ID string } `json:"profile"`
	Session  struct{ ID string } `json:"session"`
	Events   []string            `json:"events"`
	Warnings []string            `json:"warnings"`
}

// get reads a document from the GUI API and decodes it.
func (s *server) get(path string) map[string]any {
	s.t.Helper()
	r := s.auth("GET", path, nil)
	if r.Status != http.StatusOK {
		s.t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	return r.JSON(s.t)
}
