package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Roles lists every role.
var Roles = []string{domain.RoleAdmin, domain.RoleDeveloper, domain.RoleMarketer, domain.RoleMaintainer}

// ErrLastAdmin refuses a change that would leave no enabled admin: nobody could manage
// users any more.
var ErrLastAdmin = fmt.Errorf("the last enabled admin cannot be deleted, disabled or lose the admin role: %w", storage.ErrConflict)

// NewUser is what creating a user takes.
type NewUser struct {
	Username string
	Name     string
	Password string
	Roles    []string
	Enabled  bool
}

// UserChange updates a user; nil fields keep their value. With Version set, the update
// applies only to that version (storage.ErrConflict otherwise).
type UserChange struct {
	Name     *string
	Roles    []string
	Enabled  *bool
	Password *string
	Version  int64
}

func checkRoles(roles []string) ([]string, error) {
	if len(roles) == 0 {
		return nil, fmt.Errorf("roles: at least one role is required: %w", storage.ErrInvalid)
	}
	out := make([]string, 0, len(roles))
	for i, r := range roles {
		if !slices.Contains(Roles, r) {
			return nil, fmt.Errorf("roles[%d]: %q is not one of %s: %w", i, r, strings.Join(Roles, ", "), storage.ErrInvalid)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if len(name) > 200 {
		return "", fmt.Errorf("name: must be at most 200 characters: %w", storage.ErrInvalid)
	}
	return name, nil
}

// CreateUser adds a user; storage.ErrConflict when the username is taken.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (*domain.User, error) {
	roles, err := checkRoles(nu.Roles)
	if err != nil {
		return nil, err
	}
	name, err := checkName(nu.Name)
	if err != nil {
		return nil, err
	}
	u, err := s.newUser(nu.Username, nu.Password, roles)
	if err != nil {
		return nil, err
	}
	u.Name, u.Enabled = name, nu.Enabled
	if err := s.putUser(ctx, u, 0); err != nil {
		return nil, err
	}
	return u, nil
}

// ListUsers returns one page of users whose id, username or name contains q
// (case-insensitive), ordered by id, and how many match.
func (s *Service) ListUsers(ctx context.Context, q string, page storage.Page) ([]*domain.User, int64, error) {
	ents, _, err := s.entities.List(ctx, domain.EntityUser, storage.ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	q = strings.ToLower(q)
	out := []*domain.User{}
	var total int64
	for _, e := range ents {
		u, err := decodeUser(e)
		if err != nil {
			return nil, 0, err
		}
		if q != "" && !strings.Contains(strings.ToLower(u.ID+"\x00"+u.Username+"\x00"+u.Name), q) {
			continue
		}
		if total >= int64(page.Offset) && (page.Limit <= 0 || len(out) < page.Limit) {
			out = append(out, u)
		}
		total++
	}
	return out, total, nil
}

func decodeUser(e *storage.Entity) (*domain.User, error) {
	var u domain.User
	if err := json.Unmarshal(e.Doc, &u); err != nil {
		return nil, fmt.Errorf("decoding user %q: %w", e.ID, err)
	}
	u.Version = e.Version
	return &u, nil
}

// otherAdmins counts enabled admins other than id.
func (s *Service) otherAdmins(ctx context.Context, id string) (int, error) {
	ents, _, err := s.entities.List(ctx, domain.EntityUser, storage.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		u, err := decodeUser(e)
		if err != nil {
			return 0, err
		}
		if u.ID != id && u.Enabled && slices.Contains(u.Roles, domain.RoleAdmin) {
			n++
		}
	}
	return n, nil
}

func isAdmin(u *domain.User) bool { return u.Enabled && slices.Contains(u.Roles, domain.RoleAdmin) }

// UpdateUser applies ch to user id. A new password, or disabling the user, ends every
// token of the user.
func (s *Service) UpdateUser(ctx context.Context, id string, ch UserChange) (*domain.User, error) {
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	wasAdmin := isAdmin(u)
	if ch.Version != 0 && ch.Version != u.Version {
		return nil, fmt.Errorf("user %q is at version %d, not %d: %w", id, u.Version, ch.Version, storage.ErrConflict)
	}
	if ch.Name != nil {
		if u.Name, err = checkName(*ch.Name); err != nil {
			return nil, err
		}
	}
	if ch.Roles != nil {
		if u.Roles, err = checkRoles(ch.Roles); err != nil {
			return nil, err
		}
	}
	if ch.Enabled != nil {
		u.Enabled = *ch.Enabled
	}
	now := s.now()
	revoke := !u.Enabled
	if ch.Password != nil {
		if err := s.setPassword(u, *ch.Password, now); err != nil {
			return nil, err
		}
		revoke = true
	}
	if wasAdmin && !isAdmin(u) {
		if n, err := s.otherAdmins(ctx, id); err != nil {
			return nil, err
		} else if n == 0 {
			return nil, ErrLastAdmin
		}
	}
	u.Updated = now
	if err := s.putUser(ctx, u, u.Version); err != nil {
		return nil, err
	}
	if revoke {
		if _, err := s.RevokeTokens(ctx, id); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (s *Service) setPassword(u *domain.User, password string, now domain.Time) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return fmt.Errorf("hashing password: %w", err)
	}
	u.PasswordHash, u.PasswordChanged = string(hash), now
	return nil
}

// ChangePassword changes the password of user id, who must give the current one. Every
// token of the user dies; the returned token is the only one left.
func (s *Service) ChangePassword(ctx context.Context, id, current, next string) (*Token, error) {
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
		return nil, fmt.Errorf("current_password: is wrong: %w", storage.ErrInvalid)
	}
	now := s.now()
	if err := s.setPassword(u, next, now); err != nil {
		return nil, err
	}
	u.Updated = now
	if err := s.putUser(ctx, u, u.Version); err != nil {
		return nil, err
	}
	if _, err := s.RevokeTokens(ctx, id); err != nil {
		return nil, err
	}
	return s.issue(ctx, u)
}

// DeleteUser removes user id and every token of it.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return err
	}
	if isAdmin(u) {
		if n, err := s.otherAdmins(ctx, id); err != nil {
			return err
		} else if n == 0 {
			return ErrLastAdmin
		}
	}
	if err := s.entities.Delete(ctx, domain.EntityUser, id); err != nil {
		return err
	}
	_, err = s.RevokeTokens(ctx, id)
	return err
}

// Session describes one live token of a user, without the token.
type Session struct {
	// ID is a prefix of the token's SHA-256: enough to tell sessions apart, useless
	// for logging in.
	ID      string      `json:"id"`
	Issued  domain.Time `json:"issued"`
	Expires domain.Time `json:"expires"`
}

// tokensOf scans the tokens for those of userID (every user when "") and deletes the
// expired ones it meets on the way.
func (s *Service) tokensOf(ctx context.Context, userID string, each func(key string, st storedToken) error) error {
	ents, _, err := s.entities.List(ctx, domain.EntityToken, storage.ListOptions{})
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	for _, e := range ents {
		var st storedToken
		if err := json.Unmarshal(e.Doc, &st); err != nil {
			continue
		}
		if !now.Before(st.Expires.Time) {
			if err := s.entities.Delete(ctx, domain.EntityToken, e.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			continue
		}
		if userID == "" || st.UserID == userID {
			if err := each(e.ID, st); err != nil {
				return err
			}
		}
	}
	return nil
}

// Sessions lists the live tokens of user id, newest first.
func (s *Service) Sessions(ctx context.Context, id string) ([]Session, error) {
	if _, err := s.GetUser(ctx, id); err != nil {
		return nil, err
	}
	out := []Session{}
	err := s.tokensOf(ctx, id, func(key string, st storedToken) error {
		out = append(out, Session{ID: key[:16], Issued: st.Issued, Expires: st.Expires})
		return nil
	})
	slices.SortFunc(out, func(a, b Session) int { return b.Issued.Compare(a.Issued.Time) })
	return out, err
}

// RevokeTokens ends every token of user id and says how many there were.
func (s *Service) RevokeTokens(ctx context.Context, id string) (int, error) {
	n := 0
	err := s.tokensOf(ctx, id, func(key string, _ storedToken) error {
		if err := s.entities.Delete(ctx, domain.EntityToken, key); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		n++
		return nil
	})
	return n, err
}

// PurgeExpiredTokens deletes every expired token; a background job may call it.
func (s *Service) PurgeExpiredTokens(ctx context.Context) error {
	return s.tokensOf(ctx, "", func(string, storedToken) error { return nil })
}
