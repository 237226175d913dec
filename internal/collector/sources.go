package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// SourceCache looks event sources up for every request without a store read each
// time. Entries live for TTL, so that a change made through another replica takes
// effect within it; changes made through this process call Invalidate and apply at once.
type SourceCache struct {
	entities storage.Entities
	ttl      time.Duration
	mu       sync.RWMutex
	entries  map[string]sourceEntry
}

type sourceEntry struct {
	src     *domain.Source // nil: known not to exist
	expires time.Time
}

// NewSourceCache returns a cache over entities.
func NewSourceCache(entities storage.Entities, ttl time.Duration) *SourceCache {
	return &SourceCache{entities: entities, ttl: ttl, entries: make(map[string]sourceEntry)}
}

// Get returns the source with id; storage.ErrNotFound when there is none.
func (c *SourceCache) Get(ctx context.Context, id string) (*domain.Source, error) {
	now := time.Now()
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		if e.src == nil {
			return nil, fmt.Errorf("source %q: %w", id, storage.ErrNotFound)
		}
		return e.src, nil
	}
	src, err := LoadSource(ctx, c.entities, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) > 10000 { // unknown ids from the internet must not grow this forever
		clear(c.entries)
	}
	c.entries[id] = sourceEntry{src: src, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return src, err
}

// Invalidate drops id from the cache.
func (c *SourceCache) Invalidate(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}

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
