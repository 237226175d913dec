package storage

import (
	"context"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// WorkItem is background work queued with a Commit (domain.WorkItem): the
// transactional outbox.
type WorkItem = domain.WorkItem

// DeadLetters is what a Queue offers beyond storage.Queue for operators: a job can be
// dead-lettered by its handler at once (a permanent failure, or out of time), and
// dead-lettered jobs can be put back (replayed). Both backends' queues implement it.
type DeadLetters interface {
	// Bury moves a delivered job to its topic's dead-letter list with reason.
	Bury(ctx context.Context, j *Job, reason string) error
	// Replay puts the dead-lettered job id of topic (all of them when id is empty) back
	// to be delivered now, with its deliveries counted from zero, and says how many.
	// Replaying an unknown id answers ErrNotFound.
	Replay(ctx context.Context, topic, id string) (int, error)
	// Depth says how many jobs of topic are queued (delayed or due, leased or not).
	Depth(ctx context.Context, topic string) (int64, error)
}

// DeliveryAttempt is one recorded attempt to deliver a work item to a destination.
type DeliveryAttempt struct {
	Destination string    `json:"destination"`
	Item        string    `json:"item"` // the work item's id, which is its idempotency key
	Attempt     int       `json:"attempt"`
	Time        time.Time `json:"time"`
	// Outcome is delivered, failed (to be retried), dead (dead-lettered), skipped
	// (nothing changed since the last delivery) or refused (by the outbound guard).
	Outcome   string  `json:"outcome"`
	Status    int     `json:"status,omitempty"` // the receiver's HTTP status, if it answered
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

// DeliveryLog keeps the recent delivery attempts of each destination (a bounded
// number per destination) and, for profile destinations, what was last delivered for
// each profile.
type DeliveryLog interface {
	Record(ctx context.Context, a []DeliveryAttempt) error
	// List answers destination's attempts, newest first, and how many are kept.
	List(ctx context.Context, destination string, page Page) ([]DeliveryAttempt, int64, error)
	// Last returns the version and payload hash last delivered to destination for
	// subject (a profile id); empty when none was.
	Last(ctx context.Context, destination, subject string) (version, hash string, err error)
	// SetLast records a delivery for subject, unless a later version is recorded.
	SetLast(ctx context.Context, destination, subject, version, hash string) error
}

// Outbox is the production store's side of the hand-off to the queue: work items
// committed with the documents that caused them, waiting to be moved into the queue
// by a worker's sweeper (docs/architecture.md, "Background work"). The embedded
// store needs none: its queue is in the same file.
type Outbox interface {
	// Pending returns up to limit waiting items, oldest first.
	Pending(ctx context.Context, limit int) ([]*WorkItem, error)
	// Remove deletes items that were moved into the queue; unknown ids are ignored.
	Remove(ctx context.Context, ids []string) error
}
