// Package auth owns GUI API users, their roles and bearer tokens. Passwords are kept
// only as bcrypt hashes; tokens are random, handed out once, and stored only as their
// SHA-256, so a copy of the database cannot be used to log in.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Errors of this package; the HTTP layer maps them to statuses.
var (
	ErrBadCredentials = errors.New("wrong username or password")
	ErrBadToken       = errors.New("missing, expired or revoked token")
	ErrInstallToken   = errors.New("wrong installation token")
	ErrInstalled      = errors.New("already installed")
)

// bcryptCost makes each guess cost tens of milliseconds.
const bcryptCost = 11

// Config configures the Service.
type Config struct {
	InstallationToken string
	TokenTTL          time.Duration
	// Throttle counts login attempts (default: a MemoryThrottle). MaxLoginAttempts
	// (default 10) attempts per client address and per username are allowed in each
	// LoginWindow (default 15m); the second half of them are answered slowly.
	Throttle         Throttle
	MaxLoginAttempts int
	LoginWindow      time.Duration
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
	// BcryptCost is the cost of new password hashes (default 11). Only tests lower it.
	BcryptCost int
}

// Service manages users and tokens.
type Service struct {
	cfg       Config
	entities  storage.Entities
	dummyOnce sync.Once
	dummy     []byte
}

// New returns a Service over entities.
func New(cfg Config, entities storage.Entities) (*Service, error) {
	if cfg.InstallationToken == "" {
		return nil, errors.New("auth: installation token must be set")
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 8 * time.Hour
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcryptCost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxLoginAttempts <= 0 {
		cfg.MaxLoginAttempts = defaultMaxLoginAttempts
	}
	if cfg.LoginWindow <= 0 {
		cfg.LoginWindow = defaultLoginWindow
	}
	if cfg.Throttle == nil {
		cfg.Throttle = NewMemoryThrottle(0, cfg.Now)
	}
	return &Service{cfg: cfg, entities: entities}, nil
}

// Principal is an authenticated user.
type Principal struct {
	UserID   string
	Username string
	Name     string
	Roles    []string
	// TokenExpires is when the bearer token used for this request stops working.
	TokenExpires time.Time
}

// HasRole reports whether the principal holds role (admins hold every role).
func (p *Principal) HasRole(role string) bool {
	for _, r := range p.Roles {
		if r == role || r == domain.RoleAdmin {
			return true
		}
	}
	return false
}

// Token is an issued bearer token.
type Token struct {
	AccessToken string   `json:"access_token"`
	TokenType   string   `json:"token_type"`
	ExpiresIn   int64    `json:"expires_in"`
	Roles       []string `json:"roles"`
}

type storedToken struct {
	UserID  string      `json:"user_id"`
	Issued  domain.Time `json:"issued"`
	Expires domain.Time `json:"expires"`
}

// GenerateSecret returns n random bytes, URL-safe base64 encoded.
func GenerateSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Installed reports whether the first admin exists.
func (s *Service) Installed(ctx context.Context) (bool, error) {
	_, err := s.entities.Get(ctx, domain.EntityInstall, "install")
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Install creates the first admin. It fails with ErrInstallToken for a wrong token and
// ErrInstalled once done; two racing calls cannot both succeed.
func (s *Service) Install(ctx context.Context, username, password, token string) (*domain.User, error) {
	if subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.InstallationToken)) != 1 {
		return nil, ErrInstallToken
	}
	if done, err := s.Installed(ctx); err != nil {
		return nil, err
	} else if done {
		return nil, ErrInstalled
	}
	u, err := s.newUser(username, password, []string{domain.RoleAdmin})
	if err != nil {
		return nil, err
	}
	// The install marker is created first and only once (Put with version 0), which
	// decides races between concurrent installs.
	if _, err := s.entities.Put(ctx, &storage.Entity{Kind: domain.EntityInstall, ID: "install", Doc: []byte(`{"user":` + mustJSON(u.ID) + `}`)}, 0); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return nil, ErrInstalled
		}
		return nil, fmt.Errorf("recording installation: %w", err)
	}
	if err := s.putUser(ctx, u, 0); err != nil {
		return nil, err
	}
	return u, nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// UserID derives a user's id from the username: usernames are unique, case-insensitive.
func UserID(username string) string { return strings.ToLower(strings.TrimSpace(username)) }

func (s *Service) newUser(username, password string, roles []string) (*domain.User, error) {
	username = strings.TrimSpace(username)
	if _, err := mail.ParseAddress(username); err != nil || strings.ContainsAny(username, "<> ") {
		return nil, fmt.Errorf("username: must be an e-mail address: %w", storage.ErrInvalid)
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hashing password: %w", err)
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("roles: at least one role is required: %w", storage.ErrInvalid)
	}
	now := s.now()
	return &domain.User{ID: UserID(username), Username: username, PasswordHash: string(hash), Roles: roles,
		Enabled: true, Created: now, Updated: now, PasswordChanged: now}, nil
}

func checkPassword(pw string) error {
	if len(pw) < 8 {
		return fmt.Errorf("password: must be at least 8 characters: %w", storage.ErrInvalid)
	}
	if len(pw) > 72 { // bcrypt's limit
		return fmt.Errorf("password: must be at most 72 bytes: %w", storage.ErrInvalid)
	}
	return nil
}

func (s *Service) putUser(ctx context.Context, u *domain.User, ifVersion int64) error {
	doc, err := json.Marshal(u)
	if err != nil {
		return err
	}
	v, err := s.entities.Put(ctx, &storage.Entity{Kind: domain.EntityUser, ID: u.ID, Doc: doc}, ifVersion)
	if err != nil {
		return fmt.Errorf("storing user %q: %w", u.ID, err)
	}
	u.Version = v
	return nil
}

// GetUser reads a user.
func (s *Service) GetUser(ctx context.Context, id string) (*domain.User, error) {
	ent, err := s.entities.Get(ctx, domain.EntityUser, id)
	if err != nil {
		return nil, err
	}
	return decodeUser(ent)
}

// Login checks credentials and issues a token. client is the caller's address: attempts
// are counted per client and per username, slowed down and then refused with a
// *ThrottledError (see Config).
func (s *Service) Login(ctx context.Context, username, password, client string) (*Token, error) {
	keys := throttleKeys(username, client)
	delay, retry, err := s.loginVerdict(ctx, keys)
	if err != nil {
		return nil, err
	}
	if retry > 0 {
		return nil, &ThrottledError{RetryAfter: retry}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	tok, err := s.login(ctx, username, password)
	if err == nil {
		for _, k := range keys {
			if err := s.cfg.Throttle.Reset(ctx, k); err != nil {
				return nil, fmt.Errorf("resetting login attempts: %w", err)
			}
		}
	}
	return tok, err
}

func (s *Service) login(ctx context.Context, username, password string) (*Token, error) {
	u, err := s.GetUser(ctx, UserID(username))
	if errors.Is(err, storage.ErrNotFound) {
		// Spend the same time as a real check, so timing does not reveal usernames.
		bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil || !u.Enabled {
		return nil, ErrBadCredentials
	}
	return s.issue(ctx, u)
}

// issue creates a new token for u.
func (s *Service) issue(ctx context.Context, u *domain.User) (*Token, error) {
	secret := "tt_" + GenerateSecret(32)
	now := s.now()
	if now.Before(u.PasswordChanged.Time) { // the wall clock stepped back
		now = u.PasswordChanged
	}
	st := storedToken{UserID: u.ID, Issued: now, Expires: domain.NewTime(now.Add(s.cfg.TokenTTL))}
	doc, _ := json.Marshal(st)
	if _, err := s.entities.Put(ctx, &storage.Entity{Kind: domain.EntityToken, ID: tokenKey(secret), Doc: doc}, 0); err != nil {
		return nil, fmt.Errorf("storing token: %w", err)
	}
	return &Token{AccessToken: secret, TokenType: "bearer", ExpiresIn: int64(s.cfg.TokenTTL.Seconds()), Roles: u.Roles}, nil
}

func (s *Service) now() domain.Time { return domain.NewTime(s.cfg.Now()) }

// dummyHash is a hash of the configured cost, made on first use.
func (s *Service) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte("not a real password"), s.cfg.BcryptCost)
	})
	return s.dummy
}

func tokenKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Authenticate resolves a bearer token to its user.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if secret == "" || len(secret) > 256 {
		return nil, ErrBadToken
	}
	ent, err := s.entities.Get(ctx, domain.EntityToken, tokenKey(secret))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	var st storedToken
	if err := json.Unmarshal(ent.Doc, &st); err != nil {
		return nil, ErrBadToken
	}
	if !s.cfg.Now().Before(st.Expires.Time) {
		_ = s.entities.Delete(ctx, domain.EntityToken, tokenKey(secret))
		return nil, ErrBadToken
	}
	u, err := s.GetUser(ctx, st.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	// A token dies with its user: when the user is disabled, changes its password, or
	// is deleted (and perhaps created again under the same name).
	if !u.Enabled || st.Issued.Before(u.PasswordChanged.Time) || st.Issued.Before(u.Created.Time) {
		return nil, ErrBadToken
	}
	return &Principal{UserID: u.ID, Username: u.Username, Name: u.Name, Roles: u.Roles, TokenExpires: st.Expires.Time}, nil
}

// Logout revokes a token.
func (s *Service) Logout(ctx context.Context, secret string) error {
	err := s.entities.Delete(ctx, domain.EntityToken, tokenKey(secret))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}
