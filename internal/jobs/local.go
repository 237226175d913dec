package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Config configures a Local runner.
type Config struct {
	// Workers is how many jobs run at once (default 1: batch work should not
	// compete with /track for the CPU).
	Workers int
	// Queue bounds the jobs waiting for a worker (default 1000); past it Submit
	// fails with storage.ErrUnavailable.
	Queue int
	// Keep is how many job records are kept (default 500); older finished ones
	// are deleted.
	Keep int
	// SaveEvery is how often the progress of a running job is written to the
	// store (default 1s); state changes are always written.
	SaveEvery time.Duration
}

// Local runs jobs in this process. Records live in the entity store, so they outlive
// a restart, but the work does not: a job that was queued or running when the process
// stopped is marked Interrupted by the next NewLocal, and is not resumed.
type Local struct {
	cfg      Config
	entities storage.Entities
	log      *slog.Logger
	handlers map[string]Handler

	base   context.Context
	stop   context.CancelFunc
	queue  chan *entry
	wg     sync.WaitGroup
	mu     sync.Mutex
	active map[string]*entry // queued and running jobs, by id
	closed bool
}

type entry struct {
	r        *Local
	job      Job // guarded by r.mu
	cancel   context.CancelFunc
	reason   string // why it was cancelled, guarded by r.mu
	lastSave time.Time
}

// NewLocal returns a runner with the given handlers (by kind), marking the jobs that
// an earlier process left unfinished as interrupted, and starts its workers.
func NewLocal(ctx context.Context, cfg Config, entities storage.Entities, log *slog.Logger, handlers map[string]Handler) (*Local, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 1000
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 500
	}
	if cfg.SaveEvery <= 0 {
		cfg.SaveEvery = time.Second
	}
	r := &Local{cfg: cfg, entities: entities, log: log, handlers: maps.Clone(handlers),
		queue: make(chan *entry, cfg.Queue), active: map[string]*entry{}}
	if err := r.recover(ctx); err != nil {
		return nil, err
	}
	r.base, r.stop = context.WithCancel(context.Background())
	for i := 0; i < cfg.Workers; i++ {
		r.wg.Add(1)
		go r.worker()
	}
	return r, nil
}

func (r *Local) recover(ctx context.Context) error {
	jobs, err := r.stored(ctx)
	if err != nil {
		return fmt.Errorf("reading job records: %w", err)
	}
	for _, j := range jobs {
		if j.IsFinished() {
			continue
		}
		j.Status, j.Error, j.Finished = Interrupted, "the process stopped before the job finished; submit it again", domain.Now()
		if err := r.save(ctx, j); err != nil {
			return fmt.Errorf("marking job %s interrupted: %w", j.ID, err)
		}
	}
	return nil
}

// Submit implements Runner.
func (r *Local) Submit(ctx context.Context, kind, key string, params any) (*Job, error) {
	if _, ok := r.handlers[kind]; !ok {
		return nil, fmt.Errorf("kind: no job kind %q: %w", kind, storage.ErrInvalid)
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encoding job parameters: %w", err)
	}
	if params == nil {
		raw = []byte("{}")
	}
	e := &entry{r: r, job: Job{ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, Key: key, Params: raw, Status: Queued,
		Counters: map[string]int64{}, Created: domain.Now()}}
	// The record is written before the job can change state, so that no later
	// write of it is overtaken by this one.
	if err := r.save(ctx, &e.job); err != nil {
		return nil, fmt.Errorf("saving job record: %w", err)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.discard(e.job.ID)
		return nil, fmt.Errorf("job runner stopped: %w", storage.ErrUnavailable)
	}
	var superseded []*entry
	if key != "" {
		for _, o := range r.active {
			if o.job.Key == key {
				o.reason = "superseded by job " + e.job.ID
				superseded = append(superseded, o)
			}
		}
	}
	select {
	case r.queue <- e:
	default:
		r.mu.Unlock()
		r.discard(e.job.ID)
		return nil, fmt.Errorf("job queue full: %w", storage.ErrUnavailable)
	}
	r.active[e.job.ID] = e
	for _, o := range superseded {
		r.cancelLocked(o)
	}
	job := e.snapshot()
	r.mu.Unlock()
	return &job, nil
}

// discard deletes the record of a job that was never queued.
func (r *Local) discard(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.entities.Delete(ctx, domain.EntityJob, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		r.log.Warn("job_record_not_deleted", "job_id", id, "error", err)
	}
}

// cancelLocked stops o: a running job through its context, a queued one at once.
func (r *Local) cancelLocked(o *entry) {
	if o.cancel != nil {
		o.cancel()
		return
	}
	if o.job.Status == Queued {
		o.job.Status, o.job.Error, o.job.Finished = Cancelled, o.reason, domain.Now()
		delete(r.active, o.job.ID)
		job := o.job
		go r.finish(&job)
	}
}

// Cancel implements Runner.
func (r *Local) Cancel(ctx context.Context, id string) error {
	r.mu.Lock()
	if e, ok := r.active[id]; ok {
		e.reason = "cancelled"
		r.cancelLocked(e)
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	j, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("job %s is %s: %w", id, j.Status, storage.ErrConflict)
}

// Get implements Runner.
func (r *Local) Get(ctx context.Context, id string) (*Job, error) {
	r.mu.Lock()
	if e, ok := r.active[id]; ok {
		j := e.snapshot()
		r.mu.Unlock()
		return &j, nil
	}
	r.mu.Unlock()
	ent, err := r.entities.Get(ctx, domain.EntityJob, id)
	if err != nil {
		return nil, err
	}
	return decode(ent)
}

// List implements Runner.
func (r *Local) List(ctx context.Context, f Filter) ([]*Job, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	all, err := r.stored(ctx)
	if err != nil {
		return nil, 0, err
	}
	r.mu.Lock()
	for i, j := range all {
		if e, ok := r.active[j.ID]; ok { // fresher than the saved progress
			s := e.snapshot()
			all[i] = &s
		}
	}
	r.mu.Unlock()
	slices.Reverse(all) // ids are UUIDv7: newest last in id order
	out := []*Job{}
	var total int64
	for _, j := range all {
		if f.Kind != "" && j.Kind != f.Kind || f.Key != "" && j.Key != f.Key || f.Status != "" && j.Status != f.Status {
			continue
		}
		if total >= int64(f.Offset) && len(out) < f.Limit {
			out = append(out, j)
		}
		total++
	}
	return out, total, nil
}

func (r *Local) stored(ctx context.Context) ([]*Job, error) {
	ents, _, err := r.entities.List(ctx, domain.EntityJob, storage.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]*Job, 0, len(ents))
	for _, ent := range ents {
		j, err := decode(ent)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func decode(ent *storage.Entity) (*Job, error) {
	j := new(Job)
	if err := json.Unmarshal(ent.Doc, j); err != nil {
		return nil, fmt.Errorf("decoding job %s: %w", ent.ID, err)
	}
	return j, nil
}

func (r *Local) save(ctx context.Context, j *Job) error {
	doc, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = r.entities.Put(ctx, &storage.Entity{Kind: domain.EntityJob, ID: j.ID, Doc: doc}, -1)
	return err
}

// snapshot copies the job record; r.mu must be held.
func (e *entry) snapshot() Job {
	j := e.job
	j.Counters = maps.Clone(e.job.Counters)
	return j
}

func (r *Local) worker() {
	defer r.wg.Done()
	for {
		select {
		case <-r.base.Done():
			return
		case e := <-r.queue:
			r.run(e)
		}
	}
}

func (r *Local) run(e *entry) {
	r.mu.Lock()
	if e.job.Status != Queued { // cancelled while it waited
		r.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(r.base)
	defer cancel()
	e.cancel = cancel
	e.job.Status, e.job.Started = Running, domain.Now()
	job := e.snapshot()
	r.mu.Unlock()
	r.saveQuiet(&job)

	err := r.call(ctx, e)

	r.mu.Lock()
	delete(r.active, e.job.ID)
	now := domain.Now()
	switch {
	case err == nil:
		e.job.Status = Done
	case ctx.Err() != nil && r.base.Err() != nil:
		e.job.Status, e.job.Error = Interrupted, "the process stopped before the job finished; submit it again"
	case ctx.Err() != nil:
		e.job.Status, e.job.Error = Cancelled, e.reason
	default:
		e.job.Status, e.job.Error = Failed, err.Error()
	}
	e.job.Finished = now
	job = e.snapshot()
	r.mu.Unlock()
	if job.Status == Failed {
		r.log.Warn("job_failed", "job_id", job.ID, "kind", job.Kind, "error", job.Error)
	}
	r.finish(&job)
}

func (r *Local) call(ctx context.Context, e *entry) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job panicked: %v", p)
		}
	}()
	return r.handlers[e.job.Kind](ctx, e)
}

// finish saves a finished job and deletes the oldest records past Keep.
func (r *Local) finish(j *Job) {
	r.saveQuiet(j)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ents, total, err := r.entities.List(ctx, domain.EntityJob, storage.ListOptions{})
	if err != nil || total <= int64(r.cfg.Keep) {
		return
	}
	extra := int(total) - r.cfg.Keep
	for _, ent := range ents { // oldest first
		if extra == 0 {
			break
		}
		old, err := decode(ent)
		if err != nil || !old.IsFinished() {
			continue
		}
		if err := r.entities.Delete(ctx, domain.EntityJob, old.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			r.log.Warn("job_record_not_deleted", "job_id", old.ID, "error", err)
			return
		}
		extra--
	}
}

func (r *Local) saveQuiet(j *Job) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.save(ctx, j); err != nil {
		r.log.Warn("job_record_not_saved", "job_id", j.ID, "error", err)
	}
}

// Close stops the runner: running jobs are cancelled and recorded as interrupted,
// queued ones too. It waits for the workers.
func (r *Local) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.stop()
	r.mu.Unlock()
	r.wg.Wait()
	r.mu.Lock()
	var left []Job
	for id, e := range r.active {
		e.job.Status, e.job.Error, e.job.Finished = Interrupted, "the process stopped before the job started; submit it again", domain.Now()
		left = append(left, e.snapshot())
		delete(r.active, id)
	}
	r.mu.Unlock()
	for i := range left {
		r.saveQuiet(&left[i])
	}
}

// Job implements Task.
func (e *entry) Job() Job {
	e.r.mu.Lock()
	defer e.r.mu.Unlock()
	return e.snapshot()
}

// Decode implements Task.
func (e *entry) Decode(dst any) error {
	e.r.mu.Lock()
	raw := e.job.Params
	e.r.mu.Unlock()
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("decoding job parameters: %w", err)
	}
	return nil
}

// SetTotal implements Task.
func (e *entry) SetTotal(n int64) { e.update(func(j *Job) { j.Total = n }) }

// Advance implements Task.
func (e *entry) Advance(n int64) { e.update(func(j *Job) { j.Done += n }) }

// Count implements Task.
func (e *entry) Count(name string, n int64) { e.update(func(j *Job) { j.Counters[name] += n }) }

// update changes the record and writes it to the store at most every SaveEvery.
func (e *entry) update(fn func(*Job)) {
	r := e.r
	r.mu.Lock()
	fn(&e.job)
	var job *Job
	if now := time.Now(); now.Sub(e.lastSave) >= r.cfg.SaveEvery {
		e.lastSave = now
		s := e.snapshot()
		job = &s
	}
	r.mu.Unlock()
	if job != nil {
		r.saveQuiet(job)
	}
}

var (
	_ Runner = (*Local)(nil)
	_ Task   = (*entry)(nil)
)
