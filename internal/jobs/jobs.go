// Package jobs runs background batch work (segment re-evaluation, later imports and
// retention) with progress that the GUI API shows. Work is described by a kind and
// JSON parameters and executed by the handler registered for the kind, so that a
// backend built on a queue and worker processes can implement Runner later; Local
// runs jobs inside the API process and keeps their records in the entity store.
package jobs

import (
	"context"
	"encoding/json"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// Job statuses.
const (
	Queued    = "queued"
	Running   = "running"
	Done      = "done"
	Failed    = "failed"
	Cancelled = "cancelled"
	// Interrupted: the process stopped (or restarted) before the job finished.
	Interrupted = "interrupted"
)

// Job is the record of one piece of background work.
type Job struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Key groups jobs doing the same work (e.g. "segment:<id>"): submitting a job
	// cancels an unfinished one with the same key, which is superseded.
	Key    string          `json:"key,omitempty"`
	Params json.RawMessage `json:"params"`
	Status string          `json:"status"`
	// Total is how many items the job has to process (0 while unknown), Done how
	// many it has processed.
	Total int64 `json:"total"`
	Done  int64 `json:"done"`
	// Counters are what the handler chose to count (e.g. profiles that entered).
	Counters map[string]int64 `json:"counters"`
	Error    string           `json:"error,omitempty"`
	Created  domain.Time      `json:"created"`
	Started  domain.Time      `json:"started"`
	Finished domain.Time      `json:"finished"`
}

// IsFinished reports whether the job will not change any more.
func (j *Job) IsFinished() bool {
	switch j.Status {
	case Queued, Running:
		return false
	}
	return true
}

// Task is what a handler sees of its job.
type Task interface {
	// Job returns a copy of the job's record.
	Job() Job
	// Decode decodes the job's parameters into dst.
	Decode(dst any) error
	// SetTotal records how many items the job will process.
	SetTotal(n int64)
	// Advance records that n more items were processed.
	Advance(n int64)
	// Count adds n to the counter name.
	Count(name string, n int64)
}

// Handler does the work of one kind of job. It must stop when ctx ends and should be
// idempotent: a job that was interrupted is run again from the start when resubmitted.
type Handler func(ctx context.Context, t Task) error

// Filter selects jobs in a list.
type Filter struct {
	Kind   string
	Key    string
	Status string
	Limit  int // <= 0: 50
	Offset int
}

// Runner runs jobs.
type Runner interface {
	// Submit queues a job of kind with params (encoded as JSON) and returns its
	// record. An unfinished job with the same non-empty key is cancelled.
	Submit(ctx context.Context, kind, key string, params any) (*Job, error)
	// Get returns one job; storage.ErrNotFound when there is none.
	Get(ctx context.Context, id string) (*Job, error)
	// List returns the jobs matching f, newest first, and how many match.
	List(ctx context.Context, f Filter) ([]*Job, int64, error)
	// Cancel stops an unfinished job; storage.ErrConflict when it has finished.
	Cancel(ctx context.Context, id string) error
}
