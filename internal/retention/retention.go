// Package retention deletes events older than EVENT_RETENTION_DAYS: a job that runs
// once a day across every worker process (docs/workers.md, "Jobs").
package retention

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// JobKind is the kind of retention jobs.
const JobKind = "retention"

// Params are a retention job's parameters.
type Params struct {
	Days   int       `json:"days"`
	Before time.Time `json:"before"` // events inserted before this are deleted
}

// Run returns the job handler that deletes events through store.
func Run(store storage.EventRetention) jobs.Handler {
	return func(ctx context.Context, t jobs.Task) error {
		var p Params
		if err := t.Decode(&p); err != nil {
			return err
		}
		_, err := store.DeleteEventsBefore(ctx, p.Before, func(n int64) {
			t.Advance(1)
			if n > 0 {
				t.Count("deleted", n)
			}
		})
		return err
	}
}

// OnceSubmitter queues a job under an id unless one exists (jobs.Shared).
type OnceSubmitter interface {
	SubmitOnce(ctx context.Context, id, kind string, params any) (*jobs.Job, error)
}

// JobID is the id of day's retention job: one id per UTC day, so that however many
// processes schedule it, the job is created once (the store's create-only write
// decides) and run by one worker (the job's claim decides).
func JobID(day time.Time) string { return "retention-" + day.UTC().Format("2006-01-02") }

// Schedule queues the day's retention job at start and then every hour, until ctx
// ends. days <= 0 does nothing.
func Schedule(ctx context.Context, j OnceSubmitter, days int, log *slog.Logger) {
	if days <= 0 {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now().UTC()
		p := Params{Days: days, Before: now.AddDate(0, 0, -days)}
		if _, err := j.SubmitOnce(ctx, JobID(now), JobKind, p); err == nil {
			log.Info("retention_scheduled", "before", p.Before, "days", days)
		} else if !errors.Is(err, storage.ErrConflict) && ctx.Err() == nil {
			log.Warn("retention_not_scheduled", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
