package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/local"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

const testPassword = "a long enough password"

// accessServer is a Server over a real SQLite store with one user per role.
type accessServer struct {
	t      *testing.T
	srv    *Server
	store  storage.Store
	auth   *auth.Service
	box    *secrets.Box
	tokens map[string]string // role → bearer token
}

func newAccessServer(t *testing.T, opt Options, authCfg ...func(*auth.Config)) *accessServer {
	t.Helper()
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	sources := collector.NewSourceCache(store.Entities(), time.Minute)
	col, err := collector.New(collector.Config{CacheSize: 100}, store, local.NewLocker(), sources)
	if err != nil {
		t.Fatal(err)
	}
	cfg := auth.Config{InstallationToken: "test-install-token", BcryptCost: bcrypt.MinCost}
	for _, f := range authCfg {
		f(&cfg)
	}
	authSvc, err := auth.New(cfg, store.Entities())
	if err != nil {
		t.Fatal(err)
	}
	box, _ := secrets.New(secrets.GenerateKey())
	opt.MaxBodyBytes = 1 << 20
	srv := New(opt, Deps{Store: store, Collector: col, Sources: sources, Auth: authSvc, Secrets: box,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()})
	a := &accessServer{t: t, srv: srv, store: store, auth: authSvc, box: box, tokens: map[string]string{}}
	if _, err := authSvc.Install(ctx, "admin@example.com", testPassword, "test-install-token"); err != nil {
		t.Fatal(err)
	}
	for _, role := range auth.Roles {
		user := role + "@example.com"
		if role != domain.RoleAdmin {
			if _, err := authSvc.CreateUser(ctx, auth.NewUser{Username: user, Password: testPassword, Roles: []string{role}, Enabled: true}); err != nil {
				t.Fatal(err)
			}
		}
		a.tokens[role] = a.login(user)
	}
	return a
}

func (a *accessServer) login(user string) string {
	a.t.Helper()
	tok, err := a.auth.Login(context.Background(), user, testPassword, "")
	if err != nil {
		a.t.Fatal(err)
	}
	return tok.AccessToken
}

// do serves one request; body may be nil, a string or a value sent as JSON. headers
// are name, value pairs.
func (a *accessServer) do(method, path, token string, body any, headers ...string) *httptest.ResponseRecorder {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "RemoteAddr" {
			req.RemoteAddr = headers[i+1]
			continue
		}
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return rec
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// concrete turns a pattern into a method and a path that matches it.
func concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "{$}")
	return method, wildcard.ReplaceAllString(path, "walk-no-such-thing")
}

// tokenKillers end the token they are called with; the walk runs them last.
func tokenKiller(pattern string) bool {
	return pattern == "POST /api/v1/auth/logout"
}

// TestEveryRouteEnforcesThePermissionTable walks every registered GUI API route with a
// user of each role: a role the table does not give the route's permission gets 403,
// every other role gets something else. Routes added later are walked too.
func TestEveryRouteEnforcesThePermissionTable(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	routes := a.srv.Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	t.Logf("walking %d routes as %d roles", len(routes), len(auth.Roles))
	slices.SortStableFunc(routes, func(x, y route) int {
		switch kx, ky := tokenKiller(x.Pattern), tokenKiller(y.Pattern); {
		case kx == ky:
			return 0
		case kx:
			return 1
		}
		return -1
	})
	for _, rt := range routes {
		if _, ok := permRoles[rt.Perm]; !ok {
			t.Errorf("%s: permission %q is not in the permission table", rt.Pattern, rt.Perm)
			continue
		}
		method, path := concrete(rt.Pattern)
		if rec := a.do(method, path, "", "{}"); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", rt.Pattern, rec.Code)
		}
		for _, role := range auth.Roles {
			rec := a.do(method, path, a.tokens[role], "{}")
			allowed := allows(rt.Perm, []string{role})
			if got := rec.Code != http.StatusForbidden; got != allowed {
				t.Errorf("%s as %s: %d %s; the table says allowed=%v", rt.Pattern, role, rec.Code, rec.Body, allowed)
			}
			if rec.Code == http.StatusUnauthorized && !tokenKiller(rt.Pattern) {
				t.Errorf("%s as %s: 401, the walk's token died", rt.Pattern, role)
			}
		}
	}
}

// TestOnlyKnownGUIAPIRoutesArePublic: a GUI API route registered without handle has
// no permission check at all, so only the installation and login routes may be.
func TestOnlyKnownGUIAPIRoutesArePublic(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	public := map[string]bool{"GET /api/v1/install": true, "POST /api/v1/install": true, "POST /api/v1/auth/token": true,
		"/api/v1/": true} // the catch-all answers an authenticated 404
	authed := map[string]bool{}
	for _, rt := range a.srv.Routes() {
		authed[rt.Pattern] = true
	}
	for _, p := range a.srv.AllRoutes() {
		_, path, _ := strings.Cut(p, " ")
		if strings.HasPrefix(p, "/api/v1/") {
			path = p
		}
		if strings.HasPrefix(path, "/api/v1/") && !authed[p] && !public[p] {
			t.Errorf("GUI API route %q is registered without a permission (use s.handle)", p)
		}
	}
}

func TestMeListsPermissions(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	rec := a.do("GET", "/api/v1/me", a.tokens[domain.RoleMarketer], nil)
	var me meView
	if err := json.Unmarshal(rec.Body.Bytes(), &me); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if me.ID != "marketer@example.com" || !slices.Contains(me.Permissions, string(permSegments)) ||
		slices.Contains(me.Permissions, string(permUsers)) || me.TokenExpires.IsZero() {
		t.Fatalf("me = %+v", me)
	}
}

var update = flag.Bool("update", false, "rewrite docs/security.md's permission table from the code")

const (
	tableBegin = "<!-- permission table: generated by `go test ./internal/httpapi -run TestPermissionTableIsDocumented -update` -->\n"
	tableEnd   = "<!-- end of permission table -->\n"
)

func renderPermissionTable() string {
	var b strings.Builder
	b.WriteString(tableBegin)
	b.WriteString("| permission | admin | developer | marketer | maintainer | covers |\n|---|---|---|---|---|---|\n")
	for _, row := range permissionTable {
		fmt.Fprintf(&b, "| `%s` |", row.Perm)
		for _, role := range auth.Roles {
			mark := " "
			if allows(row.Perm, []string{role}) {
				mark = "✓"
			}
			fmt.Fprintf(&b, " %s |", mark)
		}
		fmt.Fprintf(&b, " %s |\n", row.Scope)
	}
	b.WriteString(tableEnd)
	return b.String()
}

// TestPermissionTableIsDocumented keeps docs/security.md's table equal to the code's.
func TestPermissionTableIsDocumented(t *testing.T) {
	const path = "../../docs/security.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated permission table", path)
	}
	want := renderPermissionTable()
	if got := s[i : j+len(tableEnd)]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(s[:i]+want+s[j+len(tableEnd):]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("%s's permission table is stale; run go test ./internal/httpapi -run TestPermissionTableIsDocumented -update\nwant:\n%s", path, want)
	}
}
