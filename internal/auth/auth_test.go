package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const pw = "a long enough password"

func newService(t *testing.T, cfg Config) (*Service, *clock) {
	t.Helper()
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg.InstallationToken, cfg.Now, cfg.BcryptCost = "install-token", c.now, bcrypt.MinCost
	s, err := New(cfg, store.Entities())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Install(context.Background(), "admin@example.com", pw, "install-token"); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func login(t *testing.T, s *Service, user string) string {
	t.Helper()
	tok, err := s.Login(context.Background(), user, pw, "192.0.2.1")
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return tok.AccessToken
}

func alive(s *Service, tok string) bool {
	_, err := s.Authenticate(context.Background(), tok)
	return err == nil
}

func TestTokensExpire(t *testing.T) {
	s, c := newService(t, Config{TokenTTL: time.Hour})
	tok := login(t, s, "admin@example.com")
	p, err := s.Authenticate(context.Background(), tok)
	if err != nil || p.TokenExpires != c.now().Add(time.Hour) || p.Roles[0] != domain.RoleAdmin {
		t.Fatalf("principal %+v %v", p, err)
	}
	c.add(time.Hour - time.Second)
	if !alive(s, tok) {
		t.Fatal("token died before its time")
	}
	c.add(time.Second)
	if alive(s, tok) {
		t.Fatal("token outlived its TTL")
	}
}

func TestTokensDieWithTheirUser(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t, Config{})
	mk := func(name string) {
		t.Helper()
		if _, err := s.CreateUser(ctx, NewUser{Username: name, Password: pw, Roles: []string{domain.RoleMarketer}, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	step := func() { c.add(time.Millisecond) }

	mk("m@example.com")
	step()
	tok := login(t, s, "m@example.com")
	step()
	newPW := "another long password"
	if _, err := s.UpdateUser(ctx, "m@example.com", UserChange{Password: &newPW}); err != nil {
		t.Fatal(err)
	}
	if alive(s, tok) {
		t.Fatal("token survived a password change")
	}
	if _, err := s.Login(ctx, "m@example.com", pw, ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password: %v", err)
	}

	step()
	tok2, err := s.Login(ctx, "m@example.com", newPW, "")
	if err != nil {
		t.Fatal(err)
	}
	step()
	off := false
	if _, err := s.UpdateUser(ctx, "m@example.com", UserChange{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := s.UpdateUser(ctx, "m@example.com", UserChange{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	if alive(s, tok2.AccessToken) {
		t.Fatal("token survived disabling (and re-enabling) its user")
	}

	step()
	tok3, _ := s.Login(ctx, "m@example.com", newPW, "")
	step()
	if err := s.DeleteUser(ctx, "m@example.com"); err != nil {
		t.Fatal(err)
	}
	if alive(s, tok3.AccessToken) {
		t.Fatal("token survived deletion of its user")
	}
	// A new user under the same name does not inherit tokens of the old one, even one
	// whose record were left behind.
	mk("m@example.com")
	if alive(s, tok3.AccessToken) {
		t.Fatal("token of a deleted user works for a new user of the same name")
	}
}

func TestChangeOwnPassword(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t, Config{})
	old := login(t, s, "admin@example.com")
	c.add(time.Millisecond)
	if _, err := s.ChangePassword(ctx, "admin@example.com", "wrong password", "new password 123"); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("wrong current password: %v", err)
	}
	tok, err := s.ChangePassword(ctx, "admin@example.com", pw, "new password 123")
	if err != nil {
		t.Fatal(err)
	}
	if alive(s, old) || !alive(s, tok.AccessToken) {
		t.Fatal("after a password change the old token must die and the new one live")
	}
}

func TestSessionsAndRevoke(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t, Config{TokenTTL: time.Hour})
	a := login(t, s, "admin@example.com")
	c.add(time.Minute)
	b := login(t, s, "admin@example.com")
	list, err := s.Sessions(ctx, "admin@example.com")
	if err != nil || len(list) != 2 || !list[0].Issued.After(list[1].Issued.Time) || len(list[0].ID) != 16 {
		t.Fatalf("sessions %+v %v", list, err)
	}
	c.add(59*time.Minute + time.Second) // a has expired, b has not
	if list, _ := s.Sessions(ctx, "admin@example.com"); len(list) != 1 {
		t.Fatalf("expired session listed: %+v", list)
	}
	if n, err := s.RevokeTokens(ctx, "admin@example.com"); err != nil || n != 1 {
		t.Fatalf("revoke: %d %v", n, err)
	}
	if alive(s, a) || alive(s, b) {
		t.Fatal("revoked token alive")
	}
	if _, err := s.Sessions(ctx, "nobody@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("sessions of nobody: %v", err)
	}
}

func TestUserValidationAndLastAdmin(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t, Config{})
	for name, nu := range map[string]NewUser{
		"no roles":     {Username: "x@example.com", Password: pw},
		"unknown role": {Username: "x@example.com", Password: pw, Roles: []string{"root"}},
		"bad username": {Username: "x", Password: pw, Roles: []string{domain.RoleAdmin}},
		"short pw":     {Username: "x@example.com", Password: "short", Roles: []string{domain.RoleAdmin}},
	} {
		if _, err := s.CreateUser(ctx, nu); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := s.CreateUser(ctx, NewUser{Username: "ADMIN@example.com", Password: pw, Roles: []string{domain.RoleAdmin}}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("duplicate username: %v", err)
	}
	if err := s.DeleteUser(ctx, "admin@example.com"); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("delete last admin: %v", err)
	}
	off := false
	if _, err := s.UpdateUser(ctx, "admin@example.com", UserChange{Enabled: &off}); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("disable last admin: %v", err)
	}
	if _, err := s.UpdateUser(ctx, "admin@example.com", UserChange{Roles: []string{domain.RoleMaintainer}}); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demote last admin: %v", err)
	}
	if _, err := s.CreateUser(ctx, NewUser{Username: "b@example.com", Password: pw, Roles: []string{domain.RoleAdmin, domain.RoleAdmin}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	u, err := s.UpdateUser(ctx, "admin@example.com", UserChange{Roles: []string{domain.RoleMaintainer}, Version: 1})
	if err != nil || u.Version != 2 {
		t.Fatalf("demote with another admin present: %+v %v", u, err)
	}
	if _, err := s.UpdateUser(ctx, "admin@example.com", UserChange{Version: 1}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}
	list, total, err := s.ListUsers(ctx, "B@", storage.Page{Limit: 10})
	if err != nil || total != 1 || list[0].ID != "b@example.com" || list[0].Roles[0] != domain.RoleAdmin || len(list[0].Roles) != 1 {
		t.Fatalf("list: %d %+v %v", total, list, err)
	}
}

func TestLoginThrottle(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t, Config{MaxLoginAttempts: 4, LoginWindow: time.Minute})
	attempt := func(user, client, password string) error {
		_, err := s.Login(ctx, user, password, client)
		return err
	}
	for i := 1; i <= 4; i++ {
		if err := attempt("admin@example.com", "192.0.2.7", "wrong password"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	err := attempt("admin@example.com", "192.0.2.7", pw)
	var te *ThrottledError
	if !errors.As(err, &te) || te.RetryAfter <= 0 || te.RetryAfter > time.Minute {
		t.Fatalf("attempt 5 with the right password: %v", err)
	}
	// The username is throttled from any address; another username from a fresh
	// address is not.
	if err := attempt("admin@example.com", "198.51.100.1", pw); !errors.As(err, &te) {
		t.Fatalf("same user, other client: %v", err)
	}
	if err := attempt("other@example.com", "198.51.100.2", "x"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("other user, other client: %v", err)
	}
	// The window ends; a successful login clears the counts.
	c.add(time.Minute)
	if err := attempt("admin@example.com", "192.0.2.7", pw); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if d, retry, _ := s.loginVerdict(ctx, throttleKeys("admin@example.com", "192.0.2.7")); d != 0 || retry != 0 {
		t.Fatalf("after success the counts start again: %s %s", d, retry)
	}
}

func TestLoginVerdictSlowsThenRefuses(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t, Config{MaxLoginAttempts: 6, LoginWindow: time.Minute})
	keys := []string{"user:x", "ip:192.0.2.9"}
	want := []time.Duration{0, 0, 0, slowStep, 2 * slowStep, 4 * slowStep}
	for i, w := range want {
		d, retry, err := s.loginVerdict(ctx, keys)
		if err != nil || d != w || retry != 0 {
			t.Fatalf("attempt %d: delay %s retry %s %v; want delay %s", i+1, d, retry, err, w)
		}
	}
	c.add(20 * time.Second)
	if _, retry, _ := s.loginVerdict(ctx, keys); retry != 40*time.Second {
		t.Fatalf("attempt 7: retry after %s, want the rest of the window", retry)
	}
	// A key over its limit refuses even when the other key is fresh.
	if _, retry, _ := s.loginVerdict(ctx, []string{"user:x", "ip:198.51.100.9"}); retry == 0 {
		t.Fatal("username over the limit not refused from a new address")
	}
}

func TestThrottleKeys(t *testing.T) {
	if k := throttleKeys(strings.Repeat("x", 100000), "")[0]; len(k) > 100 {
		t.Fatalf("long username kept whole in a key: %d bytes", len(k))
	}
	for client, want := range map[string]string{
		"192.0.2.1":            "ip:192.0.2.1",
		"::ffff:192.0.2.1":     "ip:192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "net:2001:db8:1:2::/64",
		"2001:db8:1:2:ff::1":   "net:2001:db8:1:2::/64",
		"not-an-address":       "ip:not-an-address",
	} {
		keys := throttleKeys("A@Example.com", client)
		if len(keys) != 2 || keys[0] != "user:a@example.com" || keys[1] != want {
			t.Errorf("throttleKeys(%q) = %v", client, keys)
		}
	}
}
