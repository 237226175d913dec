// Package storage defines what ThamesThrive needs from a storage backend: documents
// (profiles, sessions, events), configuration entities, and the coordination pieces
// (locks) that make concurrent processing safe. Backends live in sub-packages and all
// pass the conformance suite in storagetest; nothing above this package knows which
// backend it runs on.
package storage

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// Error classes. Backends wrap these so callers can classify with errors.Is, and the
// HTTP layer maps each class to one status code.
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrInvalid     = errors.New("invalid")
	ErrUnavailable = errors.New("storage unavailable")
)

// Store is a storage backend.
type Store interface {
	Profiles() Profiles
	Sessions() Sessions
	Events() Events
	Entities() Entities
	// Commit stores a batch atomically and durably: when it returns nil, the batch
	// survives a crash of this process. Backends share one physical write among
	// concurrent Commits (group commit). It fails with ErrUnavailable when the store
	// cannot accept writes.
	Commit(ctx context.Context, b *Batch) error
	// Ping reports whether the backend is reachable and writable.
	Ping(ctx context.Context) error
	Close() error
}

// Batch is one unit of work of the pipeline.
type Batch struct {
	Profiles []*domain.Profile // upserted by id
	Sessions []*domain.Session // upserted by id
	Events   []*domain.Event   // inserted; an id that exists already is skipped
}

// Profiles reads profiles.
type Profiles interface {
	// Get returns the profile stored under id, which may be a merge tombstone
	// (Metadata.MergedInto set). ErrNotFound when there is none.
	Get(ctx context.Context, id string) (*domain.Profile, error)
	Count(ctx context.Context) (int64, error)
	// FindByKey returns the live (not merged) profiles whose value at the dotted path
	// equals value: the look-up identity resolution does for merge keys. Backends
	// keep it indexed. path must match ValidKeyPath.
	FindByKey(ctx context.Context, path, value string, limit int) ([]*domain.Profile, error)
}

// ValidKeyPath reports whether path is a dotted path of lower-case letters, digits and
// underscores, safe to use in index definitions.
func ValidKeyPath(path string) bool {
	if path == "" || len(path) > 200 || path[0] == '.' || path[len(path)-1] == '.' {
		return false
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.' && path[i-1] != '.') {
			return false
		}
	}
	return true
}

// Sessions reads sessions.
type Sessions interface {
	Get(ctx context.Context, id string) (*domain.Session, error)
	Count(ctx context.Context) (int64, error)
}

// Events reads events.
type Events interface {
	Get(ctx context.Context, id string) (*domain.Event, error)
	// Existing returns which of ids are stored already.
	Existing(ctx context.Context, ids []string) (map[string]bool, error)
	// ListByProfile lists events of any of profileIDs, newest first.
	ListByProfile(ctx context.Context, profileIDs []string, page Page) ([]*domain.Event, int64, error)
	Count(ctx context.Context) (int64, error)
}

// Page selects a slice of a result list.
type Page struct {
	Limit  int
	Offset int
}

// Entity is a stored configuration document of some kind (source, user, rule…).
type Entity struct {
	Kind    string
	ID      string
	Version int64 // starts at 1, +1 on every update
	Doc     json.RawMessage
}

// ListOptions filters and pages an entity list.
type ListOptions struct {
	Page
}

// Entities stores configuration entities: small JSON documents addressed by kind and id,
// versioned for optimistic concurrency.
type Entities interface {
	Get(ctx context.Context, kind, id string) (*Entity, error)
	List(ctx context.Context, kind string, o ListOptions) ([]*Entity, int64, error)
	// Put creates (ifVersion 0: fails with ErrConflict if it exists) or updates
	// (ifVersion n > 0: fails with ErrConflict unless the stored version is n;
	// ifVersion -1: unconditional upsert) an entity, and returns the new version.
	Put(ctx context.Context, e *Entity, ifVersion int64) (int64, error)
	Delete(ctx context.Context, kind, id string) error
}

// Locker serialises work on one key (a profile, a session) across everything that
// shares the store.
type Locker interface {
	// Lock blocks until key is held or ctx ends, and returns the function that releases it.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}
