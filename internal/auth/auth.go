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
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Entity kinds used by this package.
const (
	KindUser    = "user"
	KindToken   = "token"
	KindInstall = "install"
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
}

// Service manages users and tokens.
type Service struct {
	cfg      Config
	entities storage.Entities
}

// New returns a Service over entities.
func New(cfg Config, entities storage.Entities) (*Service, error) {
	if cfg.InstallationToken == "" {
		return nil, errors.New("auth: installation token must be set")
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 8 * time.Hour
	}
	return &Service{cfg: cfg, entities: entities}, nil
}

// Principal is an authenticated user.
type Principal struct {
	UserID   string
	Username string
	Roles    []string
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
	_, err := s.entities.Get(ctx, KindInstall, "install")
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
	u, err := newUser(username, password, []string{domain.RoleAdmin})
	if err != nil {
		return nil, err
	}
	// The install marker is created first and only once (Put with version 0), which
	// decides races between concurrent installs.
	if _, err := s.entities.Put(ctx, &storage.Entity{Kind: KindInstall, ID: "install", Doc: []byte(`{"user":` + mustJSON(u.ID) + `}`)}, 0); err != nil {
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

func newUser(username, password string, roles []string) (*domain.User, error) {
	username = strings.TrimSpace(username)
	if _, err := mail.ParseAddress(username); err != nil || strings.ContainsAny(username, "<> ") {
		return nil, fmt.Errorf("username: must be an e-mail address: %w", storage.ErrInvalid)
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hashing password: %w", err)
	}
	now := domain.Now()
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
	v, err := s.entities.Put(ctx, &storage.Entity{Kind: KindUser, ID: u.ID, Doc: doc}, ifVersion)
	if err != nil {
		return fmt.Errorf("storing user %q: %w", u.ID, err)
	}
	u.Version = v
	return nil
}

// GetUser reads a user.
func (s *Service) GetUser(ctx context.Context, id string) (*domain.User, error) {
	ent, err := s.entities.Get(ctx, KindUser, id)
	if err != nil {
		return nil, err
	}
	var u domain.User
	if err := json.Unmarshal(ent.Doc, &u); err != nil {
		return nil, fmt.Errorf("decoding user %q: %w", id, err)
	}
	u.Version = ent.Version
	return &u, nil
}

// Login checks credentials and issues a token.
func (s *Service) Login(ctx context.Context, username, password string) (*Token, error) {
	u, err := s.GetUser(ctx, UserID(username))
	if errors.Is(err, storage.ErrNotFound) {
		// Spend the same time as a real check, so timing does not reveal usernames.
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil || !u.Enabled {
		return nil, ErrBadCredentials
	}
	secret := "tt_" + GenerateSecret(32)
	now := domain.Now()
	st := storedToken{UserID: u.ID, Issued: now, Expires: domain.NewTime(now.Add(s.cfg.TokenTTL))}
	doc, _ := json.Marshal(st)
	if _, err := s.entities.Put(ctx, &storage.Entity{Kind: KindToken, ID: tokenKey(secret), Doc: doc}, 0); err != nil {
		return nil, fmt.Errorf("storing token: %w", err)
	}
	return &Token{AccessToken: secret, TokenType: "bearer", ExpiresIn: int64(s.cfg.TokenTTL.Seconds()), Roles: u.Roles}, nil
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a real password"), bcryptCost)

func tokenKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Authenticate resolves a bearer token to its user.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if secret == "" || len(secret) > 256 {
		return nil, ErrBadToken
	}
	ent, err := s.entities.Get(ctx, KindToken, tokenKey(secret))
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
	if time.Now().After(st.Expires.Time) {
		_ = s.entities.Delete(ctx, KindToken, tokenKey(secret))
		return nil, ErrBadToken
	}
	u, err := s.GetUser(ctx, st.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	if !u.Enabled || st.Issued.Before(u.PasswordChanged.Time) {
		return nil, ErrBadToken
	}
	return &Principal{UserID: u.ID, Username: u.Username, Roles: u.Roles}, nil
}

// Logout revokes a token.
func (s *Service) Logout(ctx context.Context, secret string) error {
	err := s.entities.Delete(ctx, KindToken, tokenKey(secret))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}
