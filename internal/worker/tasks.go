package worker

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// TaskFunc carries out one queued job of a task topic (a resumed flow, a scheduled
// event, an ended session). nil acknowledges the job; Later gives it back to be
// carried out after a while (not a failure); Permanent buries it at once in the
// topic's dead letters; any other error is retried with backoff.
type TaskFunc func(ctx context.Context, j *storage.Job) error

// permanentError marks an error retrying cannot help.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one retrying cannot help: the job is dead-lettered.
func Permanent(err error) error { return permanentError{err} }

// laterError asks for the job again after a delay.
type laterError struct{ after time.Duration }

func (e laterError) Error() string { return "not due yet" }

// Later asks for the job to be carried out again after d.
func Later(d time.Duration) error { return laterError{d} }

// Tasks runs the handlers of task topics: a few consumers per topic, each taking
// one job at a time from the shared queue (any number of processes may run Tasks
// side by side; a job goes to one of them, again only after a crash).
type Tasks struct {
	Queue    Queue
	Handlers map[string]TaskFunc
	// Concurrency is how many jobs of one topic a process carries out at once (4).
	Concurrency int
	// MaxAge is how long a failing job is retried before it is dead-lettered (24h).
	MaxAge time.Duration
	Logger *slog.Logger

	done *prometheus.CounterVec
}

// NewTasks returns Tasks whose counters are registered with reg (may be nil).
func NewTasks(q Queue, handlers map[string]TaskFunc, log *slog.Logger, reg prometheus.Registerer) *Tasks {
	t := &Tasks{Queue: q, Handlers: handlers, Concurrency: 4, MaxAge: 24 * time.Hour, Logger: log,
		done: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "thamesthrive", Name: "tasks_total",
			Help: "Background tasks (resumed flows, scheduled events, ended sessions, scheduled runs) by topic and outcome (done, later, failed, dead)."},
			[]string{"topic", "outcome"})}
	if reg != nil {
		reg.MustRegister(t.done)
	}
	return t
}

// Run carries out jobs until ctx ends, then waits for those in progress.
func (t *Tasks) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for topic, h := range t.Handlers {
		for i := 0; i < max(t.Concurrency, 1); i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.consume(ctx, topic, h)
			}()
		}
	}
	wg.Wait()
}

func (t *Tasks) consume(ctx context.Context, topic string, h TaskFunc) {
	for {
		j, err := t.Queue.Dequeue(ctx, topic)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			t.Logger.Warn("dequeue_failed", "topic", topic, "error", err.Error())
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		t.handle(context.WithoutCancel(ctx), topic, h, j)
	}
}

func (t *Tasks) handle(ctx context.Context, topic string, h TaskFunc, j *storage.Job) {
	err := safeTask(ctx, h, j)
	var later laterError
	var perm permanentError
	switch {
	case err == nil:
		t.done.WithLabelValues(topic, "done").Inc()
		if err := t.Queue.Ack(ctx, j); err != nil {
			t.Logger.Warn("ack_failed", "topic", topic, "job", j.ID, "error", err.Error())
		}
	case errors.As(err, &later):
		t.done.WithLabelValues(topic, "later").Inc()
		if err := t.Queue.Retry(ctx, j, later.after, ""); err != nil {
			t.Logger.Warn("retry_failed", "topic", topic, "job", j.ID, "error", err.Error())
		}
	case errors.As(err, &perm) || time.Since(j.Enqueued) > t.MaxAge:
		t.done.WithLabelValues(topic, "dead").Inc()
		t.Logger.Warn("task_dead", "topic", topic, "job", j.ID, "error", err.Error())
		if err := t.Queue.Bury(ctx, j, err.Error()); err != nil {
			t.Logger.Warn("bury_failed", "topic", topic, "job", j.ID, "error", err.Error())
		}
	default:
		t.done.WithLabelValues(topic, "failed").Inc()
		t.Logger.Warn("task_failed", "topic", topic, "job", j.ID, "deliveries", j.Deliveries, "error", err.Error())
		d := time.Second << min(j.Deliveries, 9) // 2s … ~8.5 min
		d = d/2 + rand.N(d/2+1)
		if err := t.Queue.Retry(ctx, j, d, err.Error()); err != nil {
			t.Logger.Warn("retry_failed", "topic", topic, "job", j.ID, "error", err.Error())
		}
	}
}

func safeTask(ctx context.Context, h TaskFunc, j *storage.Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(errors.New("task panicked"))
		}
	}()
	return h(ctx, j)
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
