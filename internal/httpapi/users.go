package httpapi

import (
	"net/http"

	"github.com/thamesthrive/thamesthrive/internal/audit"
	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// userView is a user as the API shows it: never with its password hash.
type userView struct {
	ID              string      `json:"id"`
	Username        string      `json:"username"`
	Name            string      `json:"name"`
	Roles           []string    `json:"roles"`
	Enabled         bool        `json:"enabled"`
	Version         int64       `json:"version"`
	Created         domain.Time `json:"created"`
	Updated         domain.Time `json:"updated"`
	PasswordChanged domain.Time `json:"password_changed"`
}

func viewUser(u *domain.User) userView {
	return userView{ID: u.ID, Username: u.Username, Name: u.Name, Roles: u.Roles, Enabled: u.Enabled, Version: u.Version,
		Created: u.Created, Updated: u.Updated, PasswordChanged: u.PasswordChanged}
}

type userCreate struct {
	// Username is an e-mail address; the user's id is its lower-case form.
	Username string   `json:"username"`
	Name     string   `json:"name,omitempty"`
	Password string   `json:"password" openapi:"writeonly"`
	Roles    []string `json:"roles"`
	Enabled  *bool    `json:"enabled,omitempty"`
}

// userUpdate changes a user; fields left out keep their value. The read-only fields of
// userView are accepted and ignored, so a client may send back what it read.
type userUpdate struct {
	ID              string       `json:"id,omitempty" openapi:"readonly"`
	Username        string       `json:"username,omitempty" openapi:"readonly"`
	Name            *string      `json:"name,omitempty"`
	Roles           []string     `json:"roles,omitempty"`
	Enabled         *bool        `json:"enabled,omitempty"`
	Password        *string      `json:"password,omitempty" openapi:"writeonly"`
	Version         int64        `json:"version,omitempty"`
	Created         *domain.Time `json:"created,omitempty" openapi:"readonly"`
	Updated         *domain.Time `json:"updated,omitempty" openapi:"readonly"`
	PasswordChanged *domain.Time `json:"password_changed,omitempty" openapi:"readonly"`
}

type passwordChange struct {
	CurrentPassword string `json:"current_password" openapi:"writeonly"`
	NewPassword     string `json:"new_password" openapi:"writeonly"`
}

type userList struct {
	Total int64      `json:"total"`
	Items []userView `json:"items"`
}

type sessionList struct {
	Items []auth.Session `json:"items"`
}

type revoked struct {
	Revoked int `json:"revoked"`
}

// userRoutes registers users, sessions and the caller's own password.
func (s *Server) userRoutes() {
	idParam := []Param{{Name: "id", In: "path", Description: "user id: the lower-case username"}}
	s.handle("GET /api/v1/users", permUsers, s.listUsers, Doc{Summary: "List users", Tags: []string{"users"},
		Query: append([]Param{{Name: "q", Description: "text in id, username or name"}}, pageParams...), Response: userList{}})
	s.handle("POST /api/v1/users", permUsers, s.createUser, Doc{Summary: "Create a user", Tags: []string{"users"},
		Request: userCreate{}, Response: userView{}, Status: http.StatusCreated})
	s.handle("GET /api/v1/users/{id}", permUsers, s.getUser, Doc{Summary: "Get a user", Tags: []string{"users"},
		Params: idParam, Response: userView{}})
	s.handle("PUT /api/v1/users/{id}", permUsers, s.updateUser, Doc{Summary: "Change a user",
		Description: "Fields left out keep their value. A new password or disabling the user ends all of the user's tokens. " +
			"With version, a stale update answers 409. The last enabled admin cannot lose the role or be disabled (409).",
		Tags: []string{"users"}, Params: idParam, Request: userUpdate{}, Response: userView{}})
	s.handle("DELETE /api/v1/users/{id}", permUsers, s.deleteUser, Doc{Summary: "Delete a user and end its tokens",
		Tags: []string{"users"}, Params: idParam, Status: http.StatusNoContent})
	s.handle("GET /api/v1/users/{id}/sessions", permUserSessions, s.userSessions, Doc{Summary: "List a user's live tokens",
		Tags: []string{"users"}, Params: idParam, Response: sessionList{}})
	s.handle("DELETE /api/v1/users/{id}/sessions", permUserSessions, s.revokeUserSessions, Doc{Summary: "End every token of a user",
		Tags: []string{"users"}, Params: idParam, Response: revoked{}})
	s.handle("PUT /api/v1/me/password", permAny, s.changeOwnPassword, Doc{Summary: "Change your password",
		Description: "Ends every token of yours, the one used for this request included, and answers a new one.",
		Tags:        []string{"auth"}, Request: passwordChange{}, Response: auth.Token{}})
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	page, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	users, total, err := s.deps.Auth.ListUsers(r.Context(), r.URL.Query().Get("q"), page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := userList{Total: total, Items: make([]userView, len(users))}
	for i, u := range users {
		out.Items[i] = viewUser(u)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	var body userCreate
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	enabled := body.Enabled == nil || *body.Enabled
	u, err := s.deps.Auth.CreateUser(r.Context(), auth.NewUser{Username: body.Username, Name: body.Name, Password: body.Password,
		Roles: body.Roles, Enabled: enabled})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.recordChange(r, audit.ActionCreate, domain.EntityUser, u.ID, u.Version)
	writeJSON(w, http.StatusCreated, viewUser(u))
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.deps.Auth.GetUser(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewUser(u))
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var body userUpdate
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.ID != "" && body.ID != id {
		s.fail(w, r, invalid("id", "does not match the id in the path"))
		return
	}
	if body.Username != "" && auth.UserID(body.Username) != id {
		s.fail(w, r, invalid("username", "cannot be changed; create a new user instead"))
		return
	}
	u, err := s.deps.Auth.UpdateUser(r.Context(), id, auth.UserChange{Name: body.Name, Roles: body.Roles, Enabled: body.Enabled,
		Password: body.Password, Version: body.Version})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.recordChange(r, audit.ActionUpdate, domain.EntityUser, u.ID, u.Version)
	if body.Password != nil {
		s.recordChange(r, audit.ActionPassword, domain.EntityUser, u.ID, u.Version)
	}
	writeJSON(w, http.StatusOK, viewUser(u))
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.deps.Auth.DeleteUser(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.recordChange(r, audit.ActionDelete, domain.EntityUser, id, 0)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) userSessions(w http.ResponseWriter, r *http.Request) {
	list, err := s.deps.Auth.Sessions(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionList{Items: list})
}

func (s *Server) revokeUserSessions(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.deps.Auth.GetUser(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.deps.Auth.RevokeTokens(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.recordChange(r, audit.ActionRevokeTokens, domain.EntityUser, id, 0)
	writeJSON(w, http.StatusOK, revoked{Revoked: n})
}

func (s *Server) changeOwnPassword(w http.ResponseWriter, r *http.Request) {
	var body passwordChange
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	p := principal(r.Context())
	tok, err := s.deps.Auth.ChangePassword(r.Context(), p.UserID, body.CurrentPassword, body.NewPassword)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.recordChange(r, audit.ActionPassword, domain.EntityUser, p.UserID, 0)
	writeJSON(w, http.StatusOK, tok)
}
