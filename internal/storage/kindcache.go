package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/cache"
)

// KindCache keeps every configuration entity of one kind in memory, prepared once by
// build (decoded, conditions compiled), for stages that consult them on every request.
// A snapshot lives for TTL, so that changes made through another replica apply within
// it; changes made through this process call Invalidate and apply at once. Reloads
// follow internal/cache's policy: a failed one keeps serving the previous snapshot
// and is retried after a back-off.
type KindCache[T any] struct {
	v *cache.Value[T]
}

// NewKindCache returns a cache of the entities of kind, prepared by build.
func NewKindCache[T any](entities Entities, kind string, ttl time.Duration, build func([]*Entity) (T, error)) *KindCache[T] {
	load := func(ctx context.Context, _ T, _ bool) (T, error) {
		var zero T
		ents, _, err := entities.List(ctx, kind, ListOptions{})
		if err != nil {
			return zero, fmt.Errorf("loading %s entities: %w", kind, err)
		}
		return build(ents)
	}
	return &KindCache[T]{v: cache.New(cache.Config{TTL: ttl}, load)}
}

// Get returns the current snapshot (see cache.Value.Get).
func (c *KindCache[T]) Get(ctx context.Context) (T, error) { return c.v.Get(ctx) }

// Invalidate makes the next Get load a new snapshot.
func (c *KindCache[T]) Invalidate() { c.v.Invalidate() }
