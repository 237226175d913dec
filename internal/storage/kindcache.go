package storage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// KindCache keeps every configuration entity of one kind in memory, prepared once by
// build (decoded, conditions compiled), for stages that consult them on every request.
// A snapshot lives for TTL, so that changes made through another replica apply within
// it; changes made through this process call Invalidate and apply at once. Reading a
// fresh snapshot costs one atomic load.
type KindCache[T any] struct {
	entities Entities
	kind     string
	ttl      time.Duration
	build    func([]*Entity) (T, error)

	mu  sync.Mutex // serialises loads and invalidations
	cur atomic.Pointer[kindSnapshot[T]]
}

type kindSnapshot[T any] struct {
	v       T
	expires time.Time
}

// NewKindCache returns a cache of the entities of kind, prepared by build.
func NewKindCache[T any](entities Entities, kind string, ttl time.Duration, build func([]*Entity) (T, error)) *KindCache[T] {
	return &KindCache[T]{entities: entities, kind: kind, ttl: ttl, build: build}
}

// Get returns the current snapshot, loading it when it is missing or expired. When a
// reload fails, the previous snapshot is kept for another second rather than failing
// requests; without one, the error is returned.
func (c *KindCache[T]) Get(ctx context.Context) (T, error) {
	if s := c.cur.Load(); s != nil && time.Now().Before(s.expires) {
		return s.v, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.cur.Load()
	if old != nil && time.Now().Before(old.expires) {
		return old.v, nil
	}
	v, err := c.load(ctx)
	if err != nil {
		if old != nil {
			c.cur.Store(&kindSnapshot[T]{v: old.v, expires: time.Now().Add(time.Second)})
			return old.v, nil
		}
		var zero T
		return zero, err
	}
	c.cur.Store(&kindSnapshot[T]{v: v, expires: time.Now().Add(c.ttl)})
	return v, nil
}

func (c *KindCache[T]) load(ctx context.Context) (T, error) {
	var zero T
	ents, _, err := c.entities.List(ctx, c.kind, ListOptions{})
	if err != nil {
		return zero, fmt.Errorf("loading %s entities: %w", c.kind, err)
	}
	return c.build(ents)
}

// Invalidate drops the snapshot; the next Get loads a new one.
func (c *KindCache[T]) Invalidate() {
	c.mu.Lock()
	c.cur.Store(nil)
	c.mu.Unlock()
}
