package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/audit"
	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// perm names a row of the permission table: the area of the product a route belongs
// to. Every GUI API route names one (see handle); which roles hold it is decided by
// permissionTable alone.
type perm string

// The rows of the permission table. Routes of a new area get a new row here, with its
// roles and a line of scope for docs/security.md.
const (
	permAny          perm = "any"
	permUsers        perm = "users"
	permUserSessions perm = "user-sessions"
	permAudit        perm = "audit"
	permSystem       perm = "system"
	permJobs         perm = "jobs"
	permImports      perm = "imports"
	permSources      perm = "sources"
	permEventTypes   perm = "event-types"
	permDestinations perm = "destinations"
	permFlows        perm = "flows"
	permSchedules    perm = "schedules"
	permRules        perm = "rules"
	permSegments     perm = "segments"
	permConsentTypes perm = "consent-types"
	permLinks        perm = "links"
	permReports      perm = "reports"
	permReadData     perm = "data-read"
	permDeleteData   perm = "data-delete"
)

type permRow struct {
	Perm  perm
	Roles []string
	Scope string
}

// permissionTable is the one table of who may do what in the GUI API (docs/security.md): admin everything; developer sources, event types, flows,
// destinations; marketer segments, rules, flows, reports and reading data; maintainer
// the system, users' sessions and jobs. Tests walk every registered route against it,
// and docs/security.md shows it.
var permissionTable = []permRow{
	{permAny, []string{domain.RoleAdmin, domain.RoleDeveloper, domain.RoleMarketer, domain.RoleMaintainer}, "own account (me, password, logout), the OpenAPI document"},
	{permUsers, []string{domain.RoleAdmin}, "users: list, create, change, delete"},
	{permUserSessions, []string{domain.RoleAdmin, domain.RoleMaintainer}, "users' sessions: list and revoke a user's tokens"},
	{permAudit, []string{domain.RoleAdmin, domain.RoleMaintainer}, "audit trail of configuration and user changes"},
	{permSystem, []string{domain.RoleAdmin, domain.RoleMaintainer}, "system information and settings"},
	{permJobs, []string{domain.RoleAdmin, domain.RoleMaintainer, domain.RoleMarketer}, "background jobs: list, start, cancel"},
	{permImports, []string{domain.RoleAdmin, domain.RoleDeveloper}, "imports of profiles and events (CSV, NDJSON): start, list, cancel"},
	{permSources, []string{domain.RoleAdmin, domain.RoleDeveloper}, "event sources"},
	{permEventTypes, []string{domain.RoleAdmin, domain.RoleDeveloper}, "event types and their validation schemas"},
	{permDestinations, []string{domain.RoleAdmin, domain.RoleDeveloper}, "destinations"},
	{permFlows, []string{domain.RoleAdmin, domain.RoleDeveloper, domain.RoleMarketer}, "flows, deploy, debug"},
	{permSchedules, []string{domain.RoleAdmin, domain.RoleDeveloper, domain.RoleMarketer}, "schedules (flows started on a cron schedule)"},
	{permRules, []string{domain.RoleAdmin, domain.RoleMarketer}, "rules (which events start which flows)"},
	{permSegments, []string{domain.RoleAdmin, domain.RoleMarketer}, "segments"},
	{permConsentTypes, []string{domain.RoleAdmin, domain.RoleDeveloper, domain.RoleMarketer}, "consent types"},
	{permLinks, []string{domain.RoleAdmin, domain.RoleDeveloper, domain.RoleMarketer}, "tracked links (/redirect/{id})"},
	{permReports, []string{domain.RoleAdmin, domain.RoleMarketer}, "reports"},
	{permReadData, []string{domain.RoleAdmin, domain.RoleMarketer}, "profiles, sessions, events: get, search, export"},
	{permDeleteData, []string{domain.RoleAdmin}, "profiles, sessions, events: delete (erasure)"},
}

// permRoles indexes permissionTable; it is built once and never changed.
var permRoles = func() map[perm][]string {
	m := make(map[perm][]string, len(permissionTable))
	for _, row := range permissionTable {
		m[row.Perm] = row.Roles
	}
	return m
}()

// allows reports whether a user with roles may use a route of p. Admins may use every
// route; a perm missing from the table allows nobody else.
func allows(p perm, roles []string) bool {
	for _, r := range roles {
		if r == domain.RoleAdmin || slices.Contains(permRoles[p], r) {
			return true
		}
	}
	return false
}

type principalKey struct{}

func principal(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey{}).(*auth.Principal)
	return p
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authed wraps a GUI API handler: it needs a valid bearer token of a user holding one
// of the roles the permission table gives p, and marks the answer as an API answer (no
// sniffing, no framing, no caching).
func (s *Server) authed(p perm, h http.HandlerFunc) http.Handler {
	if _, ok := permRoles[p]; !ok {
		panic(fmt.Sprintf("httpapi: permission %q is not in the permission table", p))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiHeaders(w)
		pr, err := s.deps.Auth.Authenticate(r.Context(), bearer(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !allows(p, pr.Roles) {
			writeError(w, http.StatusForbidden, "", fmt.Sprintf("your roles %v may not use this route; an admin can give you a role that may (docs/security.md)", pr.Roles))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, pr)))
	})
}

func apiHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

// decodeJSON reads a JSON API body into dst, strictly: unknown fields and trailing data
// are errors that name what is wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	buf, err := readBody(w, r, 1<<20)
	if err != nil {
		return err
	}
	defer bufPool.Put(buf)
	dec := json.NewDecoder(buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return fmt.Errorf("%s: must be %s: %w", typ.Field, typ.Type.Kind(), storage.ErrInvalid)
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("body: is not a JSON object (%s); send JSON with Content-Type: application/json: %w",
				strings.TrimPrefix(err.Error(), "json: "), storage.ErrInvalid)
		}
		return fmt.Errorf("body: %s: %w", strings.TrimPrefix(err.Error(), "json: "), storage.ErrInvalid)
	}
	if dec.More() {
		return fmt.Errorf("body: unexpected data after the JSON object: %w", storage.ErrInvalid)
	}
	return nil
}

func (s *Server) installStatus(w http.ResponseWriter, r *http.Request) {
	apiHeaders(w)
	done, err := s.deps.Auth.Installed(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"installed": done})
}

func (s *Server) install(w http.ResponseWriter, r *http.Request) {
	apiHeaders(w)
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Token    string `json:"token"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.deps.Auth.Install(r.Context(), body.Username, body.Password, body.Token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("installed", "admin", u.Username)
	s.recordChange(r, audit.ActionInstall, domain.EntityUser, u.ID, u.Version)
	writeJSON(w, http.StatusCreated, viewUser(u))
}

// token exchanges a username and password (JSON or form, as OAuth2 password clients
// send them) for a bearer token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	apiHeaders(w)
	var creds struct {
		Username  string `json:"username"`
		Password  string `json:"password"`
		GrantType string `json:"grant_type"`
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "body", "is not a valid form")
			return
		}
		creds.Username, creds.Password = r.PostForm.Get("username"), r.PostForm.Get("password")
	} else if err := decodeJSON(w, r, &creds); err != nil {
		s.fail(w, r, err)
		return
	}
	if creds.Username == "" || creds.Password == "" {
		writeError(w, http.StatusBadRequest, "username", "username and password are required")
		return
	}
	tok, err := s.deps.Auth.Login(r.Context(), creds.Username, creds.Password, clientIP(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tok)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Auth.Logout(r.Context(), bearer(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// meView is the signed-in user and its token.
type meView struct {
	ID           string      `json:"id"`
	Username     string      `json:"username"`
	Name         string      `json:"name"`
	Roles        []string    `json:"roles"`
	Permissions  []string    `json:"permissions"`
	TokenExpires domain.Time `json:"token_expires"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	perms := []string{}
	for _, row := range permissionTable {
		if allows(row.Perm, p.Roles) {
			perms = append(perms, string(row.Perm))
		}
	}
	writeJSON(w, http.StatusOK, meView{ID: p.UserID, Username: p.Username, Name: p.Name, Roles: p.Roles,
		Permissions: perms, TokenExpires: domain.NewTime(p.TokenExpires)})
}
