package e2e

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/test/testserver"
)

func TestInstallAndTokens(t *testing.T) {
	s := start(t, "")
	install := func(body map[string]string) *response { return s.do("POST", "/api/v1/install", body) }
	cases := []struct {
		name   string
		run    func() *response
		status int
		want   string
	}{
		{"status before", func() *response { return s.do("GET", "/api/v1/install", nil) }, 200, `"installed":false`},
		{"wrong token", func() *response {
			return install(map[string]string{"username": adminUser, "password": adminPass, "token": "wrong"})
		}, 403, "installation token"},
		{"not an e-mail", func() *response {
			return install(map[string]string{"username": "admin", "password": adminPass, "token": installToken})
		}, 400, "username"},
		{"short password", func() *response {
			return install(map[string]string{"username": adminUser, "password": "short", "token": installToken})
		}, 400, "password"},
		{"unknown field", func() *response { return s.do("POST", "/api/v1/install", `{"user":"x"}`) }, 400, "unknown field"},
		{"install", func() *response {
			return install(map[string]string{"username": adminUser, "password": adminPass, "token": installToken})
		}, 201, `"roles":["admin"]`},
		{"install again", func() *response {
			return install(map[string]string{"username": "other@example.com", "password": adminPass, "token": installToken})
		}, 409, "already installed"},
		{"status after", func() *response { return s.do("GET", "/api/v1/install", nil) }, 200, `"installed":true`},
		{"token JSON", func() *response {
			return s.do("POST", "/api/v1/auth/token", map[string]string{"username": adminUser, "password": adminPass})
		}, 200, `"token_type":"bearer"`},
		{"token form", func() *response {
			return s.do("POST", "/api/v1/auth/token", "username=ADMIN@example.com&password="+strings.ReplaceAll(adminPass, " ", "+"), "Content-Type", "application/x-www-form-urlencoded")
		}, 200, `"expires_in":28800`},
		{"wrong password", func() *response {
			return s.do("POST", "/api/v1/auth/token", map[string]string{"username": adminUser, "password": "nope-nope"})
		}, 401, "wrong username or password"},
		{"unknown user", func() *response {
			return s.do("POST", "/api/v1/auth/token", map[string]string{"username": "who@example.com", "password": "nope-nope"})
		}, 401, "wrong username or password"},
		{"no token", func() *response { return s.do("GET", "/api/v1/event-sources", nil) }, 401, "token"},
		{"bad token", func() *response {
			return s.do("GET", "/api/v1/event-sources", nil, "Authorization", "Bearer tt_forged")
		}, 401, "token"},
		{"unknown route needs a token", func() *response { return s.do("GET", "/api/v1/nothing-here", nil) }, 401, "token"},
		{"unknown route with a token", func() *response { return s.auth("GET", "/api/v1/nothing-here", nil) }, 404, "no such"},
		{"me", func() *response { return s.auth("GET", "/api/v1/me", nil) }, 200, adminUser},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.run()
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.want) {
				t.Fatalf("got %d %s; want %d containing %q", r.Status, r.Body, tc.status, tc.want)
			}
		})
	}
	// The token survives a restart; logging out revokes it.
	tok := s.adminToken()
	s.restart()
	if r := s.do("GET", "/api/v1/me", nil, "Authorization", "Bearer "+tok); r.Status != 200 {
		t.Fatalf("token after restart: %d", r.Status)
	}
	if r := s.do("POST", "/api/v1/auth/logout", nil, "Authorization", "Bearer "+tok); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := s.do("GET", "/api/v1/me", nil, "Authorization", "Bearer "+tok); r.Status != 401 {
		t.Fatalf("revoked token still works: %d", r.Status)
	}
}

func TestGeneratedInstallationTokenIsPrinted(t *testing.T) {
	s := start(t, "", "INSTALLATION_TOKEN=")
	// stdout is copied from its pipe concurrently with the log line we waited for.
	out := s.Stdout.String()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out, "\n\n") && time.Now().Before(deadline); out = s.Stdout.String() {
		time.Sleep(10 * time.Millisecond)
	}
	i := strings.Index(out, "Installation token")
	if i < 0 {
		t.Fatalf("no installation token printed:\n%s", out)
	}
	line := out[i:]
	line = line[:strings.IndexByte(line, '\n')]
	tok := strings.TrimSpace(line[strings.LastIndex(line, ":")+1:])
	r := s.do("POST", "/api/v1/install", map[string]string{"username": adminUser, "password": adminPass, "token": tok})
	if r.Status != 201 {
		t.Fatalf("install with printed token %q: %d %s", tok, r.Status, r.Body)
	}
	s.restart()
	if strings.Contains(s.Stdout.String(), "Installation token") {
		t.Fatal("token printed again after installation")
	}
}

func TestEventSourcesCRUD(t *testing.T) {
	s := start(t, "")
	cases := []struct {
		name, method, path string
		body               any
		status             int
		want               string
	}{
		{"create", "POST", "/api/v1/event-sources", map[string]any{"id": "web", "name": "Web", "type": "rest", "enabled": true, "allowed_origins": []string{"https://a.example"}}, 201, `"allowed_origins":["https://a.example"]`},
		{"create generated id", "POST", "/api/v1/event-sources", map[string]any{"name": "App"}, 201, `"type":"rest"`},
		{"duplicate", "POST", "/api/v1/event-sources", map[string]any{"id": "web", "name": "Web"}, 409, "already exists"},
		{"missing name", "POST", "/api/v1/event-sources", map[string]any{"id": "x"}, 400, "name"},
		{"bad type", "POST", "/api/v1/event-sources", map[string]any{"name": "X", "type": "carrier-pigeon"}, 400, "type"},
		{"bad id", "POST", "/api/v1/event-sources", map[string]any{"id": "a/b", "name": "X"}, 400, "id"},
		{"bad origin", "POST", "/api/v1/event-sources", map[string]any{"name": "X", "allowed_origins": []string{"example.com"}}, 400, "allowed_origins[0]"},
		{"wrong field type", "POST", "/api/v1/event-sources", `{"name": 5}`, 400, "name"},
		{"get", "GET", "/api/v1/event-sources/web", nil, 200, `"name":"Web"`},
		{"get missing", "GET", "/api/v1/event-sources/nope", nil, 404, "nope"},
		{"list", "GET", "/api/v1/event-sources?limit=10", nil, 200, `"total":2`},
		{"bad limit", "GET", "/api/v1/event-sources?limit=0", nil, 400, "limit"},
		{"update", "PUT", "/api/v1/event-sources/web", map[string]any{"name": "Website", "enabled": false}, 200, `"version":2`},
		{"stale update", "PUT", "/api/v1/event-sources/web", map[string]any{"name": "Website", "version": 1}, 409, "version"},
		{"update missing", "PUT", "/api/v1/event-sources/nope", map[string]any{"name": "N"}, 404, "nope"},
		{"disabled source refuses events", "POST", "/track", map[string]any{"source": map[string]any{"id": "web"}, "events": []any{map[string]any{"type": "x"}}}, 401, "web"},
		{"delete", "DELETE", "/api/v1/event-sources/web", nil, 204, ""},
		{"delete again", "DELETE", "/api/v1/event-sources/web", nil, 404, "web"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.auth(tc.method, tc.path, tc.body)
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.want) {
				t.Fatalf("got %d %s; want %d containing %q", r.Status, r.Body, tc.status, tc.want)
			}
		})
	}
}

func TestProfileEventsNewestFirstPaginated(t *testing.T) {
	s := start(t, "")
	s.source("web")
	for i := 0; i < 5; i++ {
		s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "pager"},
			"events": []any{map[string]any{"type": "view", "properties": map[string]any{"n": i}}}})
	}
	page := s.get("/api/v1/profiles/pager/events?limit=2&offset=1")
	items := page["items"].([]any)
	if page["total"] != 5.0 || len(items) != 2 || at(items[0], "properties.n") != 3.0 || at(items[1], "properties.n") != 2.0 {
		t.Fatalf("page = total %v items %v", page["total"], items)
	}
	for _, p := range []string{"/api/v1/profiles/nope", "/api/v1/sessions/nope", "/api/v1/events/nope", "/api/v1/profiles/nope/events"} {
		if r := s.auth("GET", p, nil); r.Status != 404 {
			t.Errorf("GET %s: %d", p, r.Status)
		}
	}
}

func TestExposeGUIAPINo(t *testing.T) {
	s := start(t, "", "EXPOSE_GUI_API=no")
	for _, p := range []string{"/api/v1/install", "/api/v1/auth/token", "/api/v1/event-sources", "/api/v1/profiles/x", "/api/v1/anything", "/gui/", "/gui/index.html"} {
		for _, m := range []string{"GET", "POST"} {
			r := s.do(m, p, nil)
			unknown := s.do(m, "/no-such-path-at-all", nil)
			if r.Status != 404 || string(r.Body) != string(unknown.Body) {
				t.Errorf("%s %s: %d %q; want the 404 of an unknown path (%q)", m, p, r.Status, r.Body, unknown.Body)
			}
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := s.do("GET", p, nil); r.Status != 200 {
			t.Errorf("GET %s: %d", p, r.Status)
		}
	}
	// The collector still answers (401: no source exists on this fresh store).
	if r := s.do("POST", "/track", `{"source":{"id":"web"},"events":[{"type":"x"}]}`); r.Status != 401 {
		t.Errorf("/track: %d %s", r.Status, r.Body)
	}
}

func TestOpsRoutes(t *testing.T) {
	s := start(t, "")
	s.source("web")
	s.track(map[string]any{"source": map[string]any{"id": "web"}, "events": []any{map[string]any{"type": "page-view"}, map[string]any{"type": "page-view"}}})
	if r := s.do("GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := s.do("GET", "/readyz", nil); r.Status != 200 || !strings.Contains(string(r.Body), "ready") {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	body := string(s.do("GET", "/metrics", nil).Body)
	for _, want := range []string{
		`thamesthrive_http_requests_total{code="200",route="POST /track"} 1`,
		`thamesthrive_http_request_duration_seconds_bucket{route="POST /track"`,
		`thamesthrive_events_stored_total 2`,
		`thamesthrive_store_write_batch_size_count`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Logs are JSON lines.
	for _, line := range strings.Split(strings.TrimSpace(s.Stderr.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
}

func TestBadConfigurationStopsStartup(t *testing.T) {
	for _, kv := range []string{"HTTP_ADDR=nowhere", "EXPOSE_GUI_API=perhaps", "TRACK_MAX_BODY_BYTES=huge", "LOGGING_LEVEL=shouty", "TRUSTED_NETWORKS=10.0.0.0/40"} {
		name := kv[:strings.IndexByte(kv, '=')]
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(testserver.Binary(t), "serve")
			cmd.Env = []string{"DATA_DIR=" + t.TempDir(), kv}
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), name) {
				t.Fatalf("err=%v output=%s; want a failure naming %s", err, out, name)
			}
		})
	}
	out, err := exec.Command(testserver.Binary(t), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "thamesthrive ") {
		t.Fatalf("version: %v %s", err, out)
	}
	if err := exec.Command(testserver.Binary(t), "bogus").Run(); err == nil {
		t.Fatal("unknown command succeeded")
	}
}

func TestUnknownMethodAndPath(t *testing.T) {
	s := start(t, "")
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/track", http.StatusMethodNotAllowed},
		{"DELETE", "/healthz", http.StatusMethodNotAllowed},
		{"GET", "/nope", http.StatusNotFound},
	} {
		if r := s.do(tc.method, tc.path, nil); r.Status != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, r.Status, tc.status)
		}
	}
}
