// Package cache is the one policy for values the process keeps in memory and reloads
// from a slower source (configuration entities from the store, mappings from the
// cluster, database files from disk):
//
//   - a loaded value is fresh for TTL, and reading a fresh value costs one atomic load;
//   - one reload runs at a time: concurrent readers of an expired value wait for that
//     reload and share its result instead of starting their own, and readers that have
//     a (stale) value do not wait at all;
//   - when a reload fails, the stale value is served and the next reload is tried only
//     after a back-off (MinBackoff, doubling up to MaxBackoff), so an outage of the
//     source costs one reload per back-off period, not one per request;
//   - without a value to fall back on, the error is returned;
//   - Invalidate makes the next read load again (changes made through this process
//     apply at once), falling back to the old value only if that load fails.
package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Config is the policy of a cache.
type Config struct {
	TTL time.Duration // how long a loaded value is fresh; 0: until invalidated
	// MinBackoff is the wait after a failed reload before the next one (1s); it
	// doubles with each failure in a row up to MaxBackoff (30s, at most TTL when TTL
	// is shorter but not below MinBackoff).
	MinBackoff, MaxBackoff time.Duration
	// OnStale, if set, is told of a failed reload whose stale value is served (the
	// caller logs it); it is not called again until the back-off has passed.
	OnStale func(err error)
	// Now replaces time.Now (tests).
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
		if c.TTL > 0 && c.TTL < c.MaxBackoff {
			c.MaxBackoff = c.TTL
		}
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Backoff is the wait after failures failed reloads in a row (failures >= 1).
func (c Config) Backoff(failures int) time.Duration {
	c = c.withDefaults()
	d := c.MinBackoff
	for i := 1; i < failures && d < c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxBackoff)
}

// LoadFunc loads a value; prev is the current (possibly stale) value when ok, for
// loaders that reuse what did not change.
type LoadFunc[T any] func(ctx context.Context, prev T, ok bool) (T, error)

// Value is one cached value.
type Value[T any] struct {
	cfg  Config
	load LoadFunc[T]

	cur atomic.Pointer[entry[T]]

	mu       sync.Mutex // guards what follows
	flight   *call[T]
	gen      uint64 // incremented by Invalidate
	failures int
}

type entry[T any] struct {
	v       T
	loaded  time.Time // when v was loaded
	expires time.Time // zero with TTL 0: fresh until invalidated
	invalid bool      // invalidated: must be loaded again before it is served fresh
}

type call[T any] struct {
	done chan struct{}
	gen  uint64
	v    T
	err  error
}

// New returns an empty cache of one value.
func New[T any](cfg Config, load LoadFunc[T]) *Value[T] {
	return &Value[T]{cfg: cfg.withDefaults(), load: load}
}

func (v *Value[T]) fresh(e *entry[T], now time.Time) bool {
	return e != nil && !e.invalid && (e.expires.IsZero() || now.Before(e.expires))
}

// Get returns the value, loading it when it is missing, expired or invalidated.
func (v *Value[T]) Get(ctx context.Context) (T, error) {
	if e := v.cur.Load(); v.fresh(e, v.cfg.Now()) {
		return e.v, nil
	}
	return v.reload(ctx, 0)
}

// Refresh returns the value, reloading it first unless it was loaded less than
// minAge ago (or a failed reload's back-off is still running): for callers that know
// the value lacks something it should have.
func (v *Value[T]) Refresh(ctx context.Context, minAge time.Duration) (T, error) {
	return v.reload(ctx, minAge)
}

func (v *Value[T]) reload(ctx context.Context, minAge time.Duration) (T, error) {
	for {
		v.mu.Lock()
		e := v.cur.Load()
		now := v.cfg.Now()
		switch {
		case minAge == 0 && v.fresh(e, now):
			v.mu.Unlock()
			return e.v, nil
		case minAge > 0 && e != nil && !e.invalid && (now.Sub(e.loaded) < minAge || !e.expires.IsZero() && now.Before(e.expires) && v.failures > 0):
			v.mu.Unlock()
			return e.v, nil
		}
		if f := v.flight; f != nil {
			v.mu.Unlock()
			if e != nil && !e.invalid {
				return e.v, nil // stale while another reader reloads
			}
			select {
			case <-f.done:
			case <-ctx.Done():
				var zero T
				return zero, ctx.Err()
			}
			if f.err == nil && !v.invalidatedSince(f.gen) {
				return f.v, nil
			}
			if f.err != nil {
				return f.v, f.err
			}
			continue // invalidated while loading: load again
		}
		f := &call[T]{done: make(chan struct{}), gen: v.gen}
		v.flight = f
		v.mu.Unlock()
		v.run(ctx, f, e)
		return f.v, f.err
	}
}

func (v *Value[T]) invalidatedSince(gen uint64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.gen != gen
}

func (v *Value[T]) run(ctx context.Context, f *call[T], old *entry[T]) {
	var prev T
	if old != nil {
		prev = old.v
	}
	val, err := v.load(ctx, prev, old != nil)
	now := v.cfg.Now()
	v.mu.Lock()
	var stale error
	switch {
	case err == nil:
		v.failures = 0
		next := &entry[T]{v: val, loaded: now, invalid: v.gen != f.gen}
		if v.cfg.TTL > 0 {
			next.expires = now.Add(v.cfg.TTL)
		}
		v.cur.Store(next)
		f.v = val
	case old != nil:
		v.failures++
		// Serve the old value until the back-off has passed; keep when it was loaded.
		v.cur.Store(&entry[T]{v: old.v, loaded: old.loaded, expires: now.Add(v.cfg.Backoff(v.failures))})
		f.v, stale = old.v, err
	default:
		v.failures++
		f.err = err
	}
	v.flight = nil
	close(f.done)
	v.mu.Unlock()
	if stale != nil && v.cfg.OnStale != nil {
		v.cfg.OnStale(stale)
	}
}

// Invalidate makes the next Get load the value again.
func (v *Value[T]) Invalidate() {
	v.mu.Lock()
	v.gen++
	v.failures = 0
	if e := v.cur.Load(); e != nil {
		cp := *e
		cp.invalid = true
		v.cur.Store(&cp)
	}
	v.mu.Unlock()
}

// Map is a cache of values by key, each with the policy of Value. It holds at most
// MaxKeys keys (10,000): past that it starts again empty, so that keys from the
// outside (ids sent by clients) cannot grow it without bound.
type Map[K comparable, V any] struct {
	cfg     Config
	load    func(ctx context.Context, key K, prev V, ok bool) (V, error)
	maxKeys int

	mu   sync.RWMutex
	vals map[K]*Value[V]
}

// NewMap returns an empty map; load loads the value of one key.
func NewMap[K comparable, V any](cfg Config, maxKeys int, load func(ctx context.Context, key K, prev V, ok bool) (V, error)) *Map[K, V] {
	if maxKeys <= 0 {
		maxKeys = 10000
	}
	return &Map[K, V]{cfg: cfg.withDefaults(), load: load, maxKeys: maxKeys, vals: map[K]*Value[V]{}}
}

func (m *Map[K, V]) value(key K) *Value[V] {
	m.mu.RLock()
	val := m.vals[key]
	m.mu.RUnlock()
	if val != nil {
		return val
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if val = m.vals[key]; val == nil {
		if len(m.vals) >= m.maxKeys {
			clear(m.vals)
		}
		val = New(m.cfg, func(ctx context.Context, prev V, ok bool) (V, error) { return m.load(ctx, key, prev, ok) })
		m.vals[key] = val
	}
	return val
}

// Get returns the value of key (see Value.Get).
func (m *Map[K, V]) Get(ctx context.Context, key K) (V, error) { return m.value(key).Get(ctx) }

// Refresh returns the value of key, reloading it unless it is younger than minAge
// (see Value.Refresh).
func (m *Map[K, V]) Refresh(ctx context.Context, key K, minAge time.Duration) (V, error) {
	return m.value(key).Refresh(ctx, minAge)
}

// Invalidate makes the next Get of key load it again.
func (m *Map[K, V]) Invalidate(key K) {
	m.mu.RLock()
	val := m.vals[key]
	m.mu.RUnlock()
	if val != nil {
		val.Invalidate()
	}
}

// InvalidateAll makes the next Get of every key load it again.
func (m *Map[K, V]) InvalidateAll() {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, val := range m.vals {
		val.Invalidate()
	}
}
