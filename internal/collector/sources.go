package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/cache"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// SourceCache looks event sources up for every request without a store read each
// time. Entries live for TTL, so that a change made through another replica takes
// effect within it; changes made through this process call Invalidate and apply at
// once. Unknown ids are cached too (as absent), and at most 10,000 ids are kept, so
// that ids from the internet cannot grow it. Reloads follow internal/cache's policy.
type SourceCache struct {
	m *cache.Map[string, *domain.Source] // nil value: known not to exist
}

// NewSourceCache returns a cache over entities.
func NewSourceCache(entities storage.Entities, ttl time.Duration) *SourceCache {
	load := func(ctx context.Context, id string, _ *domain.Source, _ bool) (*domain.Source, error) {
		src, err := LoadSource(ctx, entities, id)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil
		}
		return src, err
	}
	return &SourceCache{m: cache.NewMap(cache.Config{TTL: ttl}, 10000, load)}
}

// Get returns the source with id; storage.ErrNotFound when there is none.
func (c *SourceCache) Get(ctx context.Context, id string) (*domain.Source, error) {
	src, err := c.m.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, fmt.Errorf("source %q: %w", id, storage.ErrNotFound)
	}
	return src, nil
}

// Invalidate drops id from the cache.
func (c *SourceCache) Invalidate(id string) { c.m.Invalidate(id) }

// LoadSource reads one source from the store.
func LoadSource(ctx context.Context, entities storage.Entities, id string) (*domain.Source, error) {
	ent, err := entities.Get(ctx, domain.EntitySource, id)
	if err != nil {
		return nil, err
	}
	var src domain.Source
	if err := json.Unmarshal(ent.Doc, &src); err != nil {
		return nil, fmt.Errorf("decoding source %q: %w", id, err)
	}
	src.Version = ent.Version
	return &src, nil
}
