// Package jobs runs background batch work (segment re-evaluation, imports, retention)
// with progress that the GUI API shows. Work is described by a kind and JSON
// parameters and executed by the handler registered for the kind. Queued keeps the
// job records in the entity store, which every replica shares (Shared): the records are the
// durable queue, and the workers of any process claim them with a lease
// (docs/workers.md, "Jobs").
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
	// Errors are the first problems the job reported (MaxErrors of them), such as
	// the bad lines of an import.
	Errors []string `json:"errors,omitempty"`
	// CancelRequested is set by a cancel while the job runs in some process; its
	// worker sees it within a second and stops.
	CancelRequested bool `json:"cancel_requested,omitempty"`
	// Owner is the worker process running the job, LeaseUntil when its lease ends:
	// a worker that stops renewing it (it died) loses the job to another worker,
	// which resumes it from Checkpoint.
	Owner      string      `json:"owner,omitempty"`
	LeaseUntil domain.Time `json:"lease_until"`
	// Attempts counts the workers that took the job.
	Attempts int `json:"attempts"`
	// Checkpoint is where the handler can resume (its own format).
	Checkpoint json.RawMessage `json:"checkpoint,omitempty"`
	Created    domain.Time     `json:"created"`
	Started    domain.Time     `json:"started"`
	Finished   domain.Time     `json:"finished"`
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
	// Report records a problem (the first MaxErrors are kept in the record).
	Report(msg string)
	// Checkpoint decodes the last saved checkpoint into dst and says whether there
	// was one.
	Checkpoint(dst any) (bool, error)
	// SaveCheckpoint records v as the point to resume from, together with the
	// progress and counters so far, and writes the record now.
	SaveCheckpoint(v any) error
}

// MaxErrors bounds Job.Errors.
const MaxErrors = 100

// Handler does the work of one kind of job. It must stop when ctx ends and be
// idempotent: a job whose worker died is run again by another worker, from its last
// checkpoint (or from the start if it saved none).
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
