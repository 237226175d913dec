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
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
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
	// Erasure deletes documents for good (erasure.go).
	Erasure() Erasure
	// Reports computes counts over time and breakdowns in the store (reports.go).
	Reports() Reports
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
	// Work is queued in the same atomic write (work.go): the transactional outbox.
	Work []*WorkItem
}

// CommitPhases says where one Commit's wait went, for a store that group-commits: a
// goroutine of its own (the writer) takes what the callers queued and writes it in one
// transaction or request. Queued runs from the Commit being queued until the writer
// started the write that carries it (waiting for the write before it, a checkpoint, the
// commit window); Write is that write (a SQLite transaction with its fsync, or a _bulk
// request and the cache updates after it); Answer runs from the write's end until the
// caller's goroutine ran again, which is the process's scheduling delay. The stores
// report them through their OnCommit hook; serve exports them as
// thamesthrive_store_commit_phase_seconds.
type CommitPhases struct{ Queued, Write, Answer time.Duration }

// Profiles reads profiles.
type Profiles interface {
	// Get returns the profile stored under id, which may be a merge tombstone
	// (Metadata.MergedInto set). ErrNotFound when there is none.
	Get(ctx context.Context, id string) (*domain.Profile, error)
	Count(ctx context.Context) (int64, error)
	// FindByKey returns the live (not merged) profiles whose value at the dotted path
	// equals value: the look-up identity resolution does for merge keys. Backends
	// keep it indexed. path must match domain.ValidKeyPath.
	FindByKey(ctx context.Context, path, value string, limit int) ([]*domain.Profile, error)
	// Search returns the live profiles matching q and how many match in all (see Query).
	Search(ctx context.Context, q Query) ([]*domain.Profile, int64, error)
	// Scan returns up to limit live profiles with ids greater than after that match
	// where (nil: all), in id order: a keyset walk for batch jobs that stays correct
	// while profiles are added and changed. An empty result means the walk is over.
	Scan(ctx context.Context, where query.Expr, after string, limit int) ([]*domain.Profile, error)
}

// Sessions reads sessions.
type Sessions interface {
	Get(ctx context.Context, id string) (*domain.Session, error)
	Count(ctx context.Context) (int64, error)
	// Search returns the sessions matching q and how many match in all.
	Search(ctx context.Context, q Query) ([]*domain.Session, int64, error)
}

// Events reads events.
type Events interface {
	Get(ctx context.Context, id string) (*domain.Event, error)
	// Existing returns which of ids are stored already.
	Existing(ctx context.Context, ids []string) (map[string]bool, error)
	// ListByProfile lists events of any of profileIDs, newest first.
	ListByProfile(ctx context.Context, profileIDs []string, page Page) ([]*domain.Event, int64, error)
	Count(ctx context.Context) (int64, error)
	// Search returns the events matching q and how many match in all.
	Search(ctx context.Context, q Query) ([]*domain.Event, int64, error)
}

// Page selects a slice of a result list.
type Page struct {
	Limit  int
	Offset int
}

// Query selects documents of one kind with a condition of the query language.
type Query struct {
	// Where is the condition, its fields in the scope of the searched kind
	// ("profile", "session" or "event"); nil matches every document. A condition
	// naming another scope fails with ErrInvalid.
	Where query.Expr
	// Sort orders the result; ties and an empty Sort fall back to newest first
	// (metadata.time.insert descending), then id.
	Sort []Sort
	// Page selects the slice returned. Limit <= 0 returns no documents, only the
	// total (a count).
	Page Page
	// Now is the instant now() stands for; zero means the current time.
	Now time.Time
	// TotalLimit bounds the count behind the total: with TotalLimit n > 0 the total is
	// min(matches, n+1), so a total above n means "more than n" (counting stops there,
	// as Elasticsearch's track_total_hits does); 0 counts every match. An exact count
	// of a broad condition reads every matching index entry, which at millions of
	// documents costs more than the page itself (docs/performance.md, C round 3).
	TotalLimit int
}

// Sort is one sort key: a dotted document path (ValidSortField) and its direction.
type Sort struct {
	Field string
	Desc  bool
}

// ValidSortField reports whether field is a dotted path of letters, digits, '_' and
// '-' (at most 10 segments), safe to use as a sort key.
func ValidSortField(field string) bool {
	if field == "" || len(field) > 200 {
		return false
	}
	segs := strings.Split(field, ".")
	if len(segs) > 10 {
		return false
	}
	for _, seg := range segs {
		if seg == "" {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
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

// Queue is a durable, at-least-once job queue shared by every process of a deployment
// (destination deliveries, delayed workflow steps, imports). A job is durable once
// Enqueue returns; a job that is dequeued and then neither acknowledged nor given back
// within the lease (its consumer died or hung) is delivered again, so handlers must be
// idempotent. A job delivered MaxDeliveries times without success moves to the topic's
// dead-letter list instead of being delivered again.
type Queue interface {
	// Enqueue adds a job with payload to topic, to be delivered after delay (0: now),
	// and returns its id.
	Enqueue(ctx context.Context, topic string, payload []byte, delay time.Duration) (string, error)
	// Dequeue waits until a job of topic is due, leases it to the caller and returns
	// it; it returns ctx's error when ctx ends first.
	Dequeue(ctx context.Context, topic string) (*Job, error)
	// Ack removes a delivered job for good.
	Ack(ctx context.Context, j *Job) error
	// Retry gives a delivered job back to be delivered again after delay, recording
	// why it failed; a job out of deliveries goes to the dead-letter list instead.
	Retry(ctx context.Context, j *Job, delay time.Duration, reason string) error
	// Dead lists topic's dead-letter jobs, most recent first, and how many there are.
	Dead(ctx context.Context, topic string, page Page) ([]*Job, int64, error)
}

// Job is one delivery of a queued job.
type Job struct {
	ID         string
	Topic      string
	Payload    []byte
	Enqueued   time.Time
	Deliveries int    // including this one
	LastError  string // the reason given to the last Retry, if any
	// Receipt identifies this delivery to the queue implementation.
	Receipt string
}
