// Package testserver runs the real thamesthrive binary for tests: it builds it once per
// test process, starts `serve` as a child process on a free port, waits until it
// listens, and offers a small HTTP client for talking to it. The end-to-end suite
// (one process on the embedded store) and the integration suite (replicas on
// OpenSearch and Redis) both use it.
package testserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// Binary builds cmd/thamesthrive once per test process and returns its path, or
// returns $THAMESTHRIVE_TEST_BINARY when set (the binary of an earlier release, to
// write that release's upgrade fixtures: scripts/elastic-fixture.sh).
func Binary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("THAMESTHRIVE_TEST_BINARY"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "thamesthrive-test")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "thamesthrive")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/thamesthrive/thamesthrive/cmd/thamesthrive").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building thamesthrive: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// Cleanup removes the built binary; call it from TestMain after m.Run.
func Cleanup() {
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
}

// SyncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Process is one running `thamesthrive serve`.
type Process struct {
	URL    string
	Cmd    *exec.Cmd
	Stdout *SyncBuffer
	Stderr *SyncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // its exit error, set before done is closed
	killed atomic.Bool
}

// Done is closed when the process has exited; ExitErr then tells how.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitErr is the process's exit error (nil for status 0); valid once Done is closed.
func (p *Process) ExitErr() error { <-p.done; return p.err }

// Start runs `thamesthrive serve` with exactly env (add PATH and HTTP_ADDR=127.0.0.1:0
// yourself) and waits up to a minute for its "listening" log line. The process is
// killed when the test ends.
func Start(t testing.TB, env []string) *Process {
	t.Helper()
	return StartCommand(t, "serve", env)
}

// StartCommand runs `thamesthrive <command>` (serve, or worker with
// WORKER_HTTP_ADDR=127.0.0.1:0) like Start; URL is the address it logs as listening.
func StartCommand(t testing.TB, command string, env []string) *Process {
	t.Helper()
	p := &Process{Stdout: &SyncBuffer{}, Stderr: &SyncBuffer{}, done: make(chan struct{})}
	cmd := exec.Command(Binary(t), command)
	cmd.Env = env
	pr, pw := io.Pipe()
	cmd.Stdout = p.Stdout
	cmd.Stderr = io.MultiWriter(p.Stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.Cmd = cmd
	go func() { p.err = cmd.Wait(); close(p.done); pw.Close() }()
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
		p.URL = "http://" + a
	case <-p.done:
		t.Fatalf("server exited before listening: %v\nstderr:\n%s", p.err, p.Stderr)
	case <-time.After(60 * time.Second):
		p.Kill() // not left running after the test
		t.Fatalf("server did not start\nstderr:\n%s", p.Stderr)
	}
	t.Cleanup(p.Kill)
	return p
}

// Kill stops the process with SIGKILL (nothing is flushed or finished) and waits.
func (p *Process) Kill() {
	if p.killed.CompareAndSwap(false, true) {
		p.Cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// Stop sends SIGTERM and waits at most timeout for the exit; exited is false when the
// process is still running then, err is its exit error.
func (p *Process) Stop(timeout time.Duration) (exited bool, err error) {
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		p.killed.Store(true)
		return true, p.err
	case <-time.After(timeout):
		return false, nil
	}
}

// Client is the HTTP client tests use: keep-alive, generous timeouts.
var Client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128,
	DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}

// Response is a read answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object or fails the test.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// Send makes one request to base+path. body may be nil, a string or []byte (sent as
// is) or any other value (sent as JSON); headers are name, value pairs. err is a
// transport error (the server is gone).
func Send(base, method, path string, body any, headers ...string) (*Response, error) {
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
			return nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// At walks a decoded JSON document along a dotted path (nil when absent).
func At(doc any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[k]
	}
	return doc
}

// AdminToken installs the first admin on the server at base with the installation
// token (an already installed server is fine) and returns a bearer token for that
// admin. Both test suites log in this way.
func AdminToken(t testing.TB, base, installToken, username, password string) string {
	t.Helper()
	r, err := Send(base, "POST", "/api/v1/install", map[string]string{"username": username, "password": password, "token": installToken})
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	if r.Status != http.StatusCreated && r.Status != http.StatusConflict {
		t.Fatalf("install: %d %s", r.Status, r.Body)
	}
	r, err = Send(base, "POST", "/api/v1/auth/token", map[string]string{"username": username, "password": password})
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if r.Status != http.StatusOK {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	tok, _ := r.JSON(t)["access_token"].(string)
	if tok == "" {
		t.Fatalf("token: no access_token in %s", r.Body)
	}
	return tok
}
