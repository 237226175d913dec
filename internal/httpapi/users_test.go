package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUsersAPI(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	admin, maint := a.tokens["admin"], a.tokens["maintainer"]
	devTok := a.tokens["developer"]
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
		want                      string
	}{
		{"list", "GET", "/api/v1/users?limit=2", admin, nil, 200, `"total":4`},
		{"list filtered", "GET", "/api/v1/users?q=MARKET", admin, nil, 200, `"total":1`},
		{"list is admin only", "GET", "/api/v1/users", maint, nil, 403, "roles"},
		{"create", "POST", "/api/v1/users", admin, map[string]any{"username": "New@Example.com", "name": "New", "password": testPassword, "roles": []string{"developer", "marketer"}}, 201, `"id":"new@example.com"`},
		{"create answers no hash", "GET", "/api/v1/users/new@example.com", admin, nil, 200, `"roles":["developer","marketer"]`},
		{"duplicate", "POST", "/api/v1/users", admin, map[string]any{"username": "new@example.com", "password": testPassword, "roles": []string{"developer"}}, 409, "exists"},
		{"bad role", "POST", "/api/v1/users", admin, map[string]any{"username": "x@example.com", "password": testPassword, "roles": []string{"root"}}, 400, "roles[0]"},
		{"no roles", "POST", "/api/v1/users", admin, map[string]any{"username": "x@example.com", "password": testPassword}, 400, "roles"},
		{"unknown field", "POST", "/api/v1/users", admin, map[string]any{"username": "x@example.com", "password": testPassword, "roles": []string{"admin"}, "is_root": true}, 400, "is_root"},
		{"update roles", "PUT", "/api/v1/users/new@example.com", admin, map[string]any{"roles": []string{"maintainer"}, "version": 1}, 200, `"version":2`},
		{"stale update", "PUT", "/api/v1/users/new@example.com", admin, map[string]any{"name": "X", "version": 1}, 409, "version"},
		{"rename refused", "PUT", "/api/v1/users/new@example.com", admin, map[string]any{"username": "other@example.com"}, 400, "username"},
		{"round trip of what was read", "PUT", "/api/v1/users/new@example.com", admin, map[string]any{"id": "new@example.com", "username": "new@example.com",
			"name": "New", "roles": []string{"maintainer"}, "enabled": true, "version": 2, "created": "2026-01-01T00:00:00Z", "updated": nil, "password_changed": nil}, 200, `"version":3`},
		{"update missing", "PUT", "/api/v1/users/nobody@example.com", admin, map[string]any{"name": "X"}, 404, "nobody"},
		{"sessions", "GET", "/api/v1/users/developer@example.com/sessions", maint, nil, 200, `"expires"`},
		{"revoke sessions", "DELETE", "/api/v1/users/developer@example.com/sessions", maint, nil, 200, `"revoked":1`},
		{"revoked token is dead", "GET", "/api/v1/me", devTok, nil, 401, "token"},
		{"sessions of nobody", "GET", "/api/v1/users/nobody@example.com/sessions", maint, nil, 404, "nobody"},
		{"last admin cannot go", "DELETE", "/api/v1/users/admin@example.com", admin, nil, 409, "last enabled admin"},
		{"delete", "DELETE", "/api/v1/users/new@example.com", admin, nil, 204, ""},
		{"delete again", "DELETE", "/api/v1/users/new@example.com", admin, nil, 404, "new@example.com"},
		{"own password, wrong current", "PUT", "/api/v1/me/password", maint, map[string]any{"current_password": "nope nope nope", "new_password": "another long password"}, 400, "current_password"},
		{"own password, too short", "PUT", "/api/v1/me/password", maint, map[string]any{"current_password": testPassword, "new_password": "short"}, 400, "password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := a.do(tc.method, tc.path, tc.token, tc.body)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("got %d %s; want %d containing %q", rec.Code, rec.Body, tc.status, tc.want)
			}
			if strings.Contains(rec.Body.String(), "password_hash") || strings.Contains(rec.Body.String(), "$2a$") {
				t.Fatalf("answer leaks a password hash: %s", rec.Body)
			}
		})
	}

	// Changing one's own password kills the old token and answers a working new one.
	rec := a.do("PUT", "/api/v1/me/password", maint, map[string]any{"current_password": testPassword, "new_password": "another long password"})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(rec.Body.Bytes(), &tok)
	if rec.Code != 200 || tok.AccessToken == "" {
		t.Fatalf("password change: %d %s", rec.Code, rec.Body)
	}
	if rec := a.do("GET", "/api/v1/me", maint, nil); rec.Code != 401 {
		t.Fatalf("old token after password change: %d", rec.Code)
	}
	if rec := a.do("GET", "/api/v1/me", tok.AccessToken, nil); rec.Code != 200 {
		t.Fatalf("new token after password change: %d", rec.Code)
	}
}
