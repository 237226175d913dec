package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var roles = []string{"admin", "developer", "marketer", "maintainer"}

const userPass = "users password 123"

// login exchanges credentials for a token; the test fails unless that works.
func (s *server) login(user, pass string, headers ...string) string {
	s.t.Helper()
	r := s.do("POST", "/api/v1/auth/token", map[string]string{"username": user, "password": pass}, headers...)
	if r.Status != http.StatusOK {
		s.t.Fatalf("login %s: %d %s", user, r.Status, r.Body)
	}
	return r.JSON(s.t)["access_token"].(string)
}

// as sends a request with token.
func (s *server) as(token, method, path string, body any, headers ...string) *response {
	s.t.Helper()
	return s.do(method, path, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
}

// roleTokens creates one user per role besides the admin and logs each in.
func (s *server) roleTokens() map[string]string {
	s.t.Helper()
	tokens := map[string]string{"admin": s.adminToken()}
	for _, role := range roles[1:] {
		user := role + "@example.com"
		if r := s.auth("POST", "/api/v1/users", map[string]any{"username": user, "password": userPass, "roles": []string{role}}); r.Status != 201 {
			s.t.Fatalf("creating %s: %d %s", user, r.Status, r.Body)
		}
		tokens[role] = s.login(user, userPass)
	}
	return tokens
}

// operation is one route of the OpenAPI document.
type operation struct {
	Method, Path string
	Roles        []string // nil for public routes
}

// openAPIOperations reads the document of s and lists its operations, sorted.
func (s *server) openAPIOperations() []operation {
	s.t.Helper()
	r := s.auth("GET", "/api/v1/openapi.json", nil)
	if r.Status != 200 {
		s.t.Fatalf("openapi.json: %d %s", r.Status, r.Body)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil || doc.OpenAPI != "3.1.0" {
		s.t.Fatalf("openapi.json: %v %.200s", err, r.Body)
	}
	var ops []operation
	for path, item := range doc.Paths {
		for method, raw := range item {
			var op struct {
				Roles []string `json:"x-roles"`
			}
			json.Unmarshal(raw, &op)
			ops = append(ops, operation{Method: strings.ToUpper(method), Path: path, Roles: op.Roles})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].Path+ops[i].Method < ops[j].Path+ops[j].Method })
	return ops
}

var pathParams = regexp.MustCompile(`\{[^}]+\}`)

func concrete(path string) string { return pathParams.ReplaceAllString(path, "no-such-thing") }

// TestUsersRoleWalk walks every GUI API operation of the OpenAPI document as each role
// and checks 403 against the roles the document (generated from the permission table)
// lists; a few rows are pinned to the role definitions of docs/security.md so the table cannot drift
// unnoticed.
func TestUsersRoleWalk(t *testing.T) {
	s := start(t, "")
	tokens := s.roleTokens()
	ops := s.openAPIOperations()
	pinned := map[string][]string{
		"GET /api/v1/users":               {"admin"},
		"POST /api/v1/users":              {"admin"},
		"GET /api/v1/users/{id}/sessions": {"admin", "maintainer"},
		"GET /api/v1/audit":               {"admin", "maintainer"},
		"POST /api/v1/event-sources":      {"admin", "developer"},
		"GET /api/v1/me":                  {"admin", "developer", "marketer", "maintainer"},
		"GET /api/v1/openapi.json":        {"admin", "developer", "marketer", "maintainer"},
		"GET /api/v1/profiles/{id}":       {"admin", "marketer"},
	}
	walked := 0
	// Logging out kills the walk's token: it goes last.
	sort.SliceStable(ops, func(i, j int) bool {
		return ops[i].Path != "/api/v1/auth/logout" && ops[j].Path == "/api/v1/auth/logout"
	})
	for _, op := range ops {
		key := op.Method + " " + op.Path
		if want, ok := pinned[key]; ok && want != nil && strings.Join(want, ",") != strings.Join(op.Roles, ",") {
			t.Errorf("%s: x-roles %v, the role definitions say %v", key, op.Roles, want)
		}
		delete(pinned, key)
		if !strings.HasPrefix(op.Path, "/api/v1/") || op.Roles == nil {
			continue
		}
		walked++
		for _, role := range roles {
			r := s.as(tokens[role], op.Method, concrete(op.Path), "{}")
			allowed := false
			for _, x := range op.Roles {
				allowed = allowed || x == role
			}
			if (r.Status != http.StatusForbidden) != allowed {
				t.Errorf("%s as %s: %d %.200s; document says allowed=%v", key, role, r.Status, r.Body, allowed)
			}
			if r.Status == http.StatusUnauthorized && op.Path != "/api/v1/auth/logout" {
				t.Fatalf("%s as %s: 401: the walk's token died", key, role)
			}
		}
	}
	for key := range pinned {
		t.Errorf("%s is not in the OpenAPI document", key)
	}
	if walked < 15 {
		t.Fatalf("only %d GUI API operations walked", walked)
	}
	t.Logf("walked %d GUI API operations as %d roles", walked, len(roles))
}

func TestUsersScenarios(t *testing.T) {
	s := start(t, "")
	tokens := s.roleTokens()
	admin := tokens["admin"]
	type step struct {
		name         string
		token        string
		method, path string
		body         any
		status       int
		want         string
	}
	run := func(steps []step) {
		t.Helper()
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				r := s.as(st.token, st.method, st.path, st.body)
				if r.Status != st.status || !strings.Contains(string(r.Body), st.want) {
					t.Fatalf("got %d %s; want %d containing %q", r.Status, r.Body, st.status, st.want)
				}
				if strings.Contains(string(r.Body), "password_hash") || strings.Contains(string(r.Body), "$2a$") {
					t.Fatalf("answer leaks a password hash: %s", r.Body)
				}
			})
		}
	}
	run([]step{
		{"list users", admin, "GET", "/api/v1/users", nil, 200, `"total":4`},
		{"list needs admin", tokens["developer"], "GET", "/api/v1/users", nil, 403, "roles"},
		{"create", admin, "POST", "/api/v1/users", map[string]any{"username": "Ann@Example.com", "name": "Ann", "password": userPass, "roles": []string{"marketer"}}, 201, `"id":"ann@example.com"`},
		{"create duplicate", admin, "POST", "/api/v1/users", map[string]any{"username": "ann@example.com", "password": userPass, "roles": []string{"marketer"}}, 409, "exists"},
		{"create bad role", admin, "POST", "/api/v1/users", map[string]any{"username": "bob@example.com", "password": userPass, "roles": []string{"owner"}}, 400, `"field":"roles[0]"`},
		{"create short password", admin, "POST", "/api/v1/users", map[string]any{"username": "bob@example.com", "password": "short", "roles": []string{"admin"}}, 400, `"field":"password"`},
		{"get", admin, "GET", "/api/v1/users/ann@example.com", nil, 200, `"name":"Ann"`},
		{"update stale", admin, "PUT", "/api/v1/users/ann@example.com", map[string]any{"roles": []string{"developer"}, "version": 9}, 409, "version"},
		{"update", admin, "PUT", "/api/v1/users/ann@example.com", map[string]any{"roles": []string{"developer"}, "version": 1}, 200, `"roles":["developer"]`},
		{"me", tokens["marketer"], "GET", "/api/v1/me", nil, 200, `"permissions":[`},
		{"last admin", admin, "PUT", "/api/v1/users/admin@example.com", map[string]any{"enabled": false}, 409, "last enabled admin"},
	})

	// A user's tokens die when its password changes, when it is disabled, when it is
	// deleted; a user created again under the same name does not inherit them.
	ann := s.login("ann@example.com", userPass)
	alive := func(tok string) bool { return s.as(tok, "GET", "/api/v1/me", nil).Status == 200 }
	if !alive(ann) {
		t.Fatal("fresh token dead")
	}
	if r := s.as(admin, "PUT", "/api/v1/users/ann@example.com", map[string]any{"password": "a new password 456"}); r.Status != 200 {
		t.Fatalf("password change: %d %s", r.Status, r.Body)
	}
	if alive(ann) {
		t.Fatal("token survived a password change")
	}
	ann = s.login("ann@example.com", "a new password 456")
	if r := s.as(admin, "PUT", "/api/v1/users/ann@example.com", map[string]any{"enabled": false}); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	if alive(ann) {
		t.Fatal("token survived disabling")
	}
	if r := s.do("POST", "/api/v1/auth/token", map[string]string{"username": "ann@example.com", "password": "a new password 456"}); r.Status != 401 {
		t.Fatalf("disabled user logged in: %d", r.Status)
	}
	s.as(admin, "PUT", "/api/v1/users/ann@example.com", map[string]any{"enabled": true})
	ann = s.login("ann@example.com", "a new password 456")
	if r := s.as(admin, "DELETE", "/api/v1/users/ann@example.com", nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if alive(ann) {
		t.Fatal("token survived deletion")
	}
	s.as(admin, "POST", "/api/v1/users", map[string]any{"username": "ann@example.com", "password": "a new password 456", "roles": []string{"admin"}})
	if alive(ann) {
		t.Fatal("token of a deleted user works for the new user of that name")
	}

	// Own password change answers a new token; the old one dies.
	mt := tokens["maintainer"]
	r := s.as(mt, "PUT", "/api/v1/me/password", map[string]any{"current_password": userPass, "new_password": "maintainer pw 789"})
	if r.Status != 200 {
		t.Fatalf("own password: %d %s", r.Status, r.Body)
	}
	if alive(mt) || !alive(r.JSON(t)["access_token"].(string)) {
		t.Fatal("own password change: old token alive or new one dead")
	}

	// Maintainers see and end users' sessions.
	dev := tokens["developer"]
	r = s.as(tokens["admin"], "GET", "/api/v1/users/developer@example.com/sessions", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"expires"`) {
		t.Fatalf("sessions: %d %s", r.Status, r.Body)
	}
	mt2 := s.login("maintainer@example.com", "maintainer pw 789")
	if r := s.as(mt2, "DELETE", "/api/v1/users/developer@example.com/sessions", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"revoked":1`) {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if alive(dev) {
		t.Fatal("revoked token alive")
	}

	// Logout revokes the token used.
	mk := tokens["marketer"]
	if r := s.as(mk, "POST", "/api/v1/auth/logout", nil); r.Status != 204 {
		t.Fatalf("logout: %d", r.Status)
	}
	if alive(mk) {
		t.Fatal("token alive after logout")
	}
}

// TestUsersLoginThrottle: failed logins from one client, then for one username from
// many clients, are slowed and then refused with 429 and Retry-After.
func TestUsersLoginThrottle(t *testing.T) {
	s := start(t, "", "LOGIN_MAX_ATTEMPTS=4", "LOGIN_WINDOW=1m", "TRUSTED_PROXIES=127.0.0.1")
	s.adminToken()
	try := func(user, pass, client string) *response {
		return s.do("POST", "/api/v1/auth/token", map[string]string{"username": user, "password": pass}, "X-Forwarded-For", client)
	}
	// One client guessing many usernames.
	for i := 0; i < 4; i++ {
		if r := try(fmt.Sprintf("u%d@example.com", i), "wrong password", "198.51.100.1"); r.Status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := try(adminUser, adminPass, "198.51.100.1")
	retry, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.Status != 429 || retry < 1 || retry > 60 {
		t.Fatalf("attempt 5 from one client: %d Retry-After %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	// Another client is not affected.
	if r := try(adminUser, adminPass, "198.51.100.2"); r.Status != 200 {
		t.Fatalf("other client: %d %s", r.Status, r.Body)
	}
	// One username guessed from many clients.
	for i := 0; i < 4; i++ {
		if r := try("victim@example.com", "wrong password", fmt.Sprintf("203.0.113.%d", i+1)); r.Status != 401 {
			t.Fatalf("distributed attempt %d: %d", i+1, r.Status)
		}
	}
	if r := try("victim@example.com", "wrong password", "203.0.113.99"); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("distributed attempt 5: %d %v", r.Status, r.Header)
	}
}

// TestAuditTrail: configuration and user changes are listed newest first with who made
// them, paginated, to admins and maintainers only.
func TestAuditTrail(t *testing.T) {
	s := start(t, "")
	tokens := s.roleTokens()
	dev := tokens["developer"]
	for _, st := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/api/v1/event-sources", map[string]any{"id": "web", "name": "Web"}, 201},
		{"PUT", "/api/v1/event-sources/web", map[string]any{"name": "Website", "version": 1}, 200},
		{"DELETE", "/api/v1/event-sources/web", nil, 204},
	} {
		if r := s.as(dev, st.method, st.path, st.body); r.Status != st.status {
			t.Fatalf("%s %s: %d %s", st.method, st.path, r.Status, r.Body)
		}
	}
	var page struct {
		Total int `json:"total"`
		Items []struct {
			Actor, Action, Kind, ObjectID, Time string
			Version                             int
		} `json:"items"`
	}
	r := s.as(tokens["maintainer"], "GET", "/api/v1/audit?limit=3", nil)
	if r.Status != 200 {
		t.Fatalf("audit: %d %s", r.Status, r.Body)
	}
	json.Unmarshal(r.Body, &page)
	// install + 3 users created by the admin + 3 source changes
	if page.Total != 7 || len(page.Items) != 3 {
		t.Fatalf("audit page: %s", r.Body)
	}
	for i, want := range []string{"delete", "update", "create"} {
		it := page.Items[i]
		if it.Action != want || it.Kind != "source" || it.Actor != "developer@example.com" || it.Time == "" {
			t.Errorf("entry %d: %+v, want %s of source by the developer", i, it, want)
		}
	}
	r = s.as(tokens["admin"], "GET", "/api/v1/audit?kind=user&action=create&limit=10&offset=1", nil)
	json.Unmarshal(r.Body, &page)
	if r.Status != 200 || page.Total != 3 || len(page.Items) != 2 || page.Items[0].Actor != adminUser {
		t.Fatalf("filtered audit: %s", r.Body)
	}
	for _, role := range []string{"developer", "marketer"} {
		if r := s.as(tokens[role], "GET", "/api/v1/audit", nil); r.Status != 403 {
			t.Errorf("audit as %s: %d", role, r.Status)
		}
	}
	// The trail survives a restart.
	s.restart()
	r = s.as(tokens["admin"], "GET", "/api/v1/audit?limit=1", nil)
	if !strings.Contains(string(r.Body), `"action":"delete"`) {
		t.Fatalf("after restart: %s", r.Body)
	}
}
