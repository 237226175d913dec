package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Mover queues swept work items, each at most once (redis.Queue.Put).
type Mover interface {
	Put(ctx context.Context, items []*storage.WorkItem) (int, error)
}

// Sweeper moves the production store's outbox into the queue: it reads waiting
// items, queues them (idempotently: an item queued before is not queued again) and
// only then removes them from the outbox. A crash at any point leaves the outbox
// document in place for the next sweep, so no delivery is lost between the search
// store and the queue (docs/architecture.md, "Background work"). Every worker
// process runs one; they may race, the Mover makes that harmless.
type Sweeper struct {
	Outbox storage.Outbox
	Queue  Mover
	Logger *slog.Logger
	// Interval is the pause between sweeps that found less than a full batch (500ms).
	Interval time.Duration
	// Batch is how many items one sweep moves at most (500).
	Batch int

	swept prometheus.Counter
}

// NewSweeper returns a sweeper whose counter is registered with reg (may be nil).
func NewSweeper(o storage.Outbox, q Mover, log *slog.Logger, reg prometheus.Registerer) *Sweeper {
	s := &Sweeper{Outbox: o, Queue: q, Logger: log, Interval: 500 * time.Millisecond, Batch: 500,
		swept: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "thamesthrive", Name: "outbox_swept_total",
			Help: "Work items moved from the search store's outbox into the queue by this process."})}
	if reg != nil {
		reg.MustRegister(s.swept)
	}
	return s
}

// SweepOnce moves up to Batch items. It says how many outbox documents it handled
// and how many of them it queued (the others were queued by an earlier sweep: a
// removed document stays visible to searches until the next refresh).
func (s *Sweeper) SweepOnce(ctx context.Context) (handled, added int, err error) {
	items, err := s.Outbox.Pending(ctx, s.Batch)
	if err != nil || len(items) == 0 {
		return 0, 0, err
	}
	added, err = s.Queue.Put(ctx, items)
	if err != nil {
		return 0, 0, err
	}
	s.swept.Add(float64(added))
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	// Only after the queue acknowledged them: a crash before this line leaves them in
	// the outbox, and the next sweep's Put adds nothing for them.
	if err := s.Outbox.Remove(ctx, ids); err != nil {
		return 0, added, err
	}
	return len(items), added, nil
}

// Run sweeps until ctx ends; a sweep in progress is finished first.
func (s *Sweeper) Run(ctx context.Context) {
	for {
		n, added, err := s.SweepOnce(context.WithoutCancel(ctx))
		if err != nil {
			s.Logger.Warn("outbox_sweep_failed", "error", err.Error())
		}
		wait := s.Interval
		if err == nil && n >= s.Batch && added > 0 {
			wait = 0 // more are waiting
		}
		if err != nil {
			wait = 2 * s.Interval
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
