package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// perm lists the roles allowed on a route; admins are allowed everywhere.
type perm []string

var (
	permAny      = perm{domain.RoleAdmin, domain.RoleDeveloper, domain.RoleMarketer, domain.RoleMaintainer}
	permSources  = perm{domain.RoleAdmin, domain.RoleDeveloper}
	permReadData = perm{domain.RoleAdmin, domain.RoleDeveloper, domain.RoleMarketer, domain.RoleMaintainer}
)

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
// of the roles in p, and marks the answer as an API answer (no sniffing, no framing,
// no caching).
func (s *Server) authed(p perm, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiHeaders(w)
		pr, err := s.deps.Auth.Authenticate(r.Context(), bearer(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		allowed := false
		for _, role := range p {
			if pr.HasRole(role) {
				allowed = true
				break
			}
		}
		if !allowed {
			writeError(w, http.StatusForbidden, "", fmt.Sprintf("your roles %v may not use this route", pr.Roles))
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
	writeJSON(w, http.StatusCreated, publicUser(u))
}

func publicUser(u *domain.User) map[string]any {
	return map[string]any{"id": u.ID, "username": u.Username, "roles": u.Roles, "enabled": u.Enabled}
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
	tok, err := s.deps.Auth.Login(r.Context(), creds.Username, creds.Password)
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

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"id": p.UserID, "username": p.Username, "roles": p.Roles})
}
