package storage

import (
	"context"
	"time"
)

// EventRetention deletes old events (EVENT_RETENTION_DAYS; the retention job). Both
// backends implement it.
type EventRetention interface {
	// DeleteEventsBefore deletes the events inserted before t, in steps that each hold
	// the store's writer only briefly, calling progress after each step with what it
	// deleted (-1 when a step's count is unknown, such as a dropped index whose
	// count could not be read). It answers how many it deleted.
	DeleteEventsBefore(ctx context.Context, t time.Time, progress func(deleted int64)) (int64, error)
}
