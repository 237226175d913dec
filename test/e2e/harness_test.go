// Package e2e tests ThamesThrive as users meet it: the real binary, started as a
// process on a temporary data directory, spoken to over HTTP.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "thamesthrive-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "thamesthrive")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/thamesthrive")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building thamesthrive:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	installToken = "e2e-installation-token"
	adminUser    = "admin@example.com"
	adminPass    = "correct horse battery"
)

// server is one running thamesthrive process.
type server struct {
	t       *testing.T
	URL     string
	DataDir string
	env     []string
	cmd     *exec.Cmd
	stdout  *syncBuffer
	stderr  *syncBuffer
	exited  chan error
	token   string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs `thamesthrive serve` on a new data directory (or dataDir if given) with
// extra environment variables, and waits until it listens.
func start(t *testing.T, dataDir string, env ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	s := &server{t: t, DataDir: dataDir, env: env}
	s.launch()
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *server) launch() {
	t := s.t
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=127.0.0.1:0", "DATA_DIR=" + s.DataDir,
		"INSTALLATION_TOKEN=" + installToken, "LOGGING_LEVEL=info"}, s.env...)
	s.stdout, s.stderr = &syncBuffer{}, &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout = s.stdout
	cmd.Stderr = io.MultiWriter(s.stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	s.exited = make(chan error, 1)
	go func() { s.exited <- cmd.Wait(); pw.Close() }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case err := <-s.exited:
		t.Fatalf("server exited before listening: %v\nstderr:\n%s", err, s.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start\nstderr:\n%s", s.stderr)
	}
}

// kill stops the process with SIGKILL: nothing gets flushed or finished.
func (s *server) kill() {
	if s.cmd != nil && s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		return err
	case <-time.After(30 * time.Second):
		s.t.Fatal("server did not stop on SIGTERM")
		return nil
	}
}

// restart kills the process (-9) and starts it again on the same data directory.
func (s *server) restart() {
	s.kill()
	s.launch()
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// do sends a request. body may be nil, a string (sent as is) or a value (sent as JSON).
func (s *server) do(method, path string, body any, headers ...string) *response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
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
	r := s.do("POST", "/api/v1/install", map[string]string{"username": adminUser, "password": adminPass, "token": installToken})
	if r.Status != http.StatusCreated && r.Status != http.StatusConflict {
		s.t.Fatalf("install: %d %s", r.Status, r.Body)
	}
	r = s.do("POST", "/api/v1/auth/token", map[string]string{"username": adminUser, "password": adminPass})
	if r.Status != http.StatusOK {
		s.t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	s.token = r.json(s.t)["access_token"].(string)
	return s.token
}

// source creates an enabled REST source with the given id.
func (s *server) source(id string, extra ...map[string]any) {
	s.t.Helper()
	body := map[string]any{"id": id, "name": "Source " + id, "type": "rest", "enabled": true}
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
	return r.json(s.t)
}

// at walks a decoded JSON document along a dotted path.
func at(doc any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[k]
	}
	return doc
}
