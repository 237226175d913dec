package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Throttle counts login attempts per key (a client address, a username) in fixed
// windows. It is the one piece of login protection that must be shared by every
// replica; MemoryThrottle serves one process, a Redis one serves many.
type Throttle interface {
	// Hit counts one attempt for key and returns how many attempts the current window
	// holds, this one included, and how long until the window ends. A window starts
	// with the first attempt after the previous one ended.
	Hit(ctx context.Context, key string, window time.Duration) (count int, resetIn time.Duration, err error)
	// Reset forgets the attempts of key.
	Reset(ctx context.Context, key string) error
}

// ThrottledError is a login refused without checking the password because too many
// attempts came from the client or for the username; retry after RetryAfter.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many login attempts; retry in %s", e.RetryAfter.Round(time.Second))
}

// Login throttling defaults: after half of MaxLoginAttempts attempts in a window, each
// further attempt is answered more slowly; past MaxLoginAttempts, attempts are refused
// until the window ends.
const (
	defaultMaxLoginAttempts = 10
	defaultLoginWindow      = 15 * time.Minute
	slowStep                = 250 * time.Millisecond
	slowMax                 = 4 * time.Second
)

// loginVerdict decides, from the attempt counts of every key, whether a login may go
// on (after delay) or is refused (retryAfter > 0).
func (s *Service) loginVerdict(ctx context.Context, keys []string) (delay, retryAfter time.Duration, err error) {
	max := s.cfg.MaxLoginAttempts
	for _, k := range keys {
		n, reset, err := s.cfg.Throttle.Hit(ctx, k, s.cfg.LoginWindow)
		if err != nil {
			return 0, 0, fmt.Errorf("counting login attempts: %w", err)
		}
		switch free := max / 2; {
		case n > max:
			retryAfter = maxDuration(retryAfter, maxDuration(reset, time.Second))
		case n > free:
			d := slowStep << min(n-free-1, 16)
			delay = maxDuration(delay, min(d, slowMax))
		}
	}
	return delay, retryAfter, nil
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// throttleKeys are the keys a login attempt counts against: the username, and the
// client address (IPv6 clients by their /64, which one client usually holds whole).
func throttleKeys(username, client string) []string {
	user := UserID(username)
	if len(user) > 256 {
		// Keys are kept in memory: a long made-up username costs its hash only.
		sum := sha256.Sum256([]byte(user))
		user = "#" + hex.EncodeToString(sum[:])
	}
	keys := []string{"user:" + user}
	if a, err := netip.ParseAddr(client); err == nil {
		a = a.Unmap()
		if a.Is6() {
			p, _ := a.Prefix(64)
			keys = append(keys, "net:"+p.String())
		} else {
			keys = append(keys, "ip:"+a.String())
		}
	} else if client != "" {
		keys = append(keys, "ip:"+client)
	}
	return keys
}

// MemoryThrottle is a Throttle for one process. It remembers at most a fixed number of
// keys (least recently used go first), so a flood of made-up usernames cannot grow it
// without bound.
type MemoryThrottle struct {
	mu   sync.Mutex
	now  func() time.Time
	keys *lru.Cache[string, *throttleWindow]
}

type throttleWindow struct {
	count int
	ends  time.Time
}

// NewMemoryThrottle returns a MemoryThrottle; now may be nil (time.Now).
func NewMemoryThrottle(size int, now func() time.Time) *MemoryThrottle {
	if now == nil {
		now = time.Now
	}
	if size <= 0 {
		size = 100000
	}
	c, _ := lru.New[string, *throttleWindow](size)
	return &MemoryThrottle{now: now, keys: c}
}

// Hit implements Throttle.
func (m *MemoryThrottle) Hit(_ context.Context, key string, window time.Duration) (int, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	w, ok := m.keys.Get(key)
	if !ok || !now.Before(w.ends) {
		w = &throttleWindow{ends: now.Add(window)}
		m.keys.Add(key, w)
	}
	w.count++
	return w.count, w.ends.Sub(now), nil
}

// Reset implements Throttle.
func (m *MemoryThrottle) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys.Remove(key)
	return nil
}

var _ Throttle = (*MemoryThrottle)(nil)
