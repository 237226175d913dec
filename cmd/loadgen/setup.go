package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

var apiClient = &http.Client{Timeout: 30 * time.Second}

// call sends a JSON request and decodes a JSON answer into out (if not nil). It returns the
// status; a status other than one of want is an error that quotes the body.
func call(method, url, bearer string, in, out any, want ...int) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	ok := len(want) == 0
	for _, w := range want {
		ok = ok || resp.StatusCode == w
	}
	if !ok {
		return resp.StatusCode, fmt.Errorf("%s %s: status %d: %s", method, url, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding answer: %w", method, url, err)
		}
	}
	return resp.StatusCode, nil
}

func waitHealthy(ctx context.Context, base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		resp, err := apiClient.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("status %d", resp.StatusCode)
		} else {
			last = err
		}
		time.Sleep(10 * time.Millisecond) // fine enough to time a start-up (bench-scale)
	}
	return fmt.Errorf("%s/healthz not healthy after %s: %v", base, limit, last)
}

func cmdWait(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8686", "server base URL")
	wait := fs.Duration("timeout", 60*time.Second, "how long to wait")
	fs.Parse(args)
	return waitHealthy(context.Background(), *base, *wait)
}

func cmdSetup(args []string) error {
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8686", "server base URL")
	instToken := fs.String("installation-token", "", "the server's INSTALLATION_TOKEN")
	user := fs.String("username", "admin@example.com", "admin user to install")
	pass := fs.String("password", "bench-password-1", "admin password (at least 8 characters)")
	source := fs.String("source", "bench", "event source id to create")
	tokenOut := fs.String("token-out", "", "write the access token to this file")
	wait := fs.Duration("wait", 60*time.Second, "how long to wait for /healthz")
	fixtures := fs.String("fixtures", "", "directory of *.json API calls to make after setup, in name order (rules, flows, segments for the run)")
	fs.Parse(args)

	if err := waitHealthy(context.Background(), *base, *wait); err != nil {
		return err
	}
	install := map[string]string{"username": *user, "password": *pass, "token": *instToken}
	st, err := call("POST", *base+"/api/v1/install", "", install, nil, 200, 201, 409)
	if err != nil {
		return fmt.Errorf("installing: %w", err)
	}
	if st == 409 {
		fmt.Fprintln(os.Stderr, "loadgen setup: already installed (409); going on")
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if _, err := call("POST", *base+"/api/v1/auth/token", "", map[string]string{"username": *user, "password": *pass}, &tok, 200, 201); err != nil {
		return fmt.Errorf("getting a token: %w", err)
	}
	if tok.AccessToken == "" {
		return fmt.Errorf("getting a token: no access_token in the answer")
	}
	src := map[string]any{"id": *source, "name": "Bench", "type": "rest", "enabled": true}
	if _, err := call("POST", *base+"/api/v1/event-sources", tok.AccessToken, src, nil, 200, 201, 409); err != nil {
		return fmt.Errorf("creating the event source: %w", err)
	}
	if *fixtures != "" {
		if err := applyFixtures(*base, tok.AccessToken, *fixtures); err != nil {
			return err
		}
	}
	if *tokenOut != "" {
		return os.WriteFile(*tokenOut, []byte(tok.AccessToken+"\n"), 0o600)
	}
	return nil
}

// fixture is one API call that sets up configuration for a run, such as
// {"method": "POST", "path": "/api/v1/segments", "body": {...}}.
type fixture struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body"`
}

func applyFixtures(base, token, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	slices.Sort(files)
	for _, f := range files {
		var fx fixture
		if err := readJSON(f, &fx); err != nil {
			return fmt.Errorf("fixture %s: %w", f, err)
		}
		if fx.Method == "" {
			fx.Method = "POST"
		}
		var body any
		if len(fx.Body) > 0 {
			body = fx.Body
		}
		if _, err := call(fx.Method, base+fx.Path, token, body, nil, 200, 201, 204); err != nil {
			return fmt.Errorf("fixture %s: %w", f, err)
		}
		fmt.Fprintf(os.Stderr, "loadgen setup: applied %s\n", filepath.Base(f))
	}
	return nil
}

// countInternalEvents counts the stored events of the source "internal" through the search
// API (an exact count). A search backend shows new documents after its refresh interval
// (ELASTIC_REFRESH_INTERVAL, 5 s by default), so it asks until two answers 6 s apart
// agree (at most 60 s).
func countInternalEvents(base, token string) (int64, error) {
	body := map[string]any{"where": `event@source.id = "internal"`, "limit": 0, "exact_total": true}
	last := int64(-1)
	for i := 0; i < 10; i++ {
		var out struct {
			Total int64 `json:"total"`
		}
		if _, err := call(http.MethodPost, base+"/api/v1/events/search", token, body, &out, http.StatusOK); err != nil {
			return 0, err
		}
		if out.Total == last {
			return last, nil
		}
		last = out.Total
		time.Sleep(6 * time.Second)
	}
	return 0, fmt.Errorf("the count of internal events did not settle in 60 s (last %d)", last)
}

func readToken(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
