package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Config configures a Shared runner.
type Config struct {
	// Execute makes this process run jobs (its workers); without it the runner only
	// queues, lists and cancels them (serve with RUN_WORKERS=no).
	Execute bool
	// Workers is how many jobs this process runs at once (default 1: batch work
	// should not compete with /track for the CPU).
	Workers int
	// Lease is how long a claimed job stays reserved for its worker without a
	// renewal (default 30s); the worker renews it every SaveEvery.
	Lease time.Duration
	// Poll is how often idle workers look for queued jobs (default 1s).
	Poll time.Duration
	// Keep is how many job records are kept (default 500); older finished ones
	// are deleted.
	Keep int
	// SaveEvery is how often a running job's record is written (progress, lease
	// renewal, cancel check; default 1s).
	SaveEvery time.Duration
	// Exclusive says this process is the only one running jobs on the store (the
	// embedded store, whose file one process owns): a job another process left
	// running is taken over at once instead of after its lease.
	Exclusive bool
	// MaxAttempts is how many workers may take a job (default 3); a job whose
	// workers kept dying is then marked interrupted.
	MaxAttempts int
	// Owner names this process in the records (default host-pid-random).
	Owner string
	// OnFinish, if set, is called once a job has finished (done, failed, cancelled
	// or interrupted) in this process, e.g. to delete an import's upload.
	OnFinish func(Job)
}

// Shared runs jobs whose records live in the entity store. The records are the
// queue: any process with Execute claims a queued job by a compare-and-set of its
// record (status running, owner, lease), renews the lease while it runs, and
// writes progress, counters and the checkpoint into it. A job whose lease ran out
// (its worker died) is claimed again by another worker and resumes from its
// checkpoint; after MaxAttempts it is marked interrupted. A cancel sets a flag in
// the record that the running worker polls.
type Shared struct {
	cfg      Config
	entities storage.Entities
	log      *slog.Logger
	handlers map[string]Handler

	base   context.Context
	stop   context.CancelFunc
	wake   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	active map[string]*run // jobs running in this process
	closed bool
}

// run is a job running in this process.
type run struct {
	r        *Shared
	mu       sync.Mutex
	job      Job
	version  int64
	cancel   context.CancelFunc
	reason   string
	lost     bool
	lastSave time.Time
}

// New returns a runner with the given handlers (by kind) and, with cfg.Execute,
// starts its workers.
func New(ctx context.Context, cfg Config, entities storage.Entities, log *slog.Logger, handlers map[string]Handler) (*Shared, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 500
	}
	if cfg.SaveEvery <= 0 {
		cfg.SaveEvery = time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		rand.Read(b)
		cfg.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if _, _, err := entities.List(ctx, domain.EntityJob, storage.ListOptions{Page: storage.Page{Limit: 1}}); err != nil {
		return nil, fmt.Errorf("reading job records: %w", err)
	}
	r := &Shared{cfg: cfg, entities: entities, log: log, handlers: maps.Clone(handlers),
		wake: make(chan struct{}, 1), active: map[string]*run{}}
	r.base, r.stop = context.WithCancel(context.Background())
	if cfg.Execute {
		for i := 0; i < cfg.Workers; i++ {
			r.wg.Add(1)
			go r.worker()
		}
	}
	return r, nil
}

// Submit implements Runner.
func (r *Shared) Submit(ctx context.Context, kind, key string, params any) (*Job, error) {
	return r.submit(ctx, uuid.Must(uuid.NewV7()).String(), kind, key, params)
}

// SubmitOnce queues a job with the given id unless a job with that id exists; it
// answers storage.ErrConflict then. Used for work that must run once across every
// process (the daily retention job has one id per day).
func (r *Shared) SubmitOnce(ctx context.Context, id, kind string, params any) (*Job, error) {
	return r.submit(ctx, id, kind, "", params)
}

func (r *Shared) submit(ctx context.Context, id, kind, key string, params any) (*Job, error) {
	if _, ok := r.handlers[kind]; !ok {
		return nil, fmt.Errorf("kind: no job kind %q: %w", kind, storage.ErrInvalid)
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("job runner stopped: %w", storage.ErrUnavailable)
	}
	raw := []byte("{}")
	if params != nil {
		var err error
		if raw, err = json.Marshal(params); err != nil {
			return nil, fmt.Errorf("encoding job parameters: %w", err)
		}
	}
	j := &Job{ID: id, Kind: kind, Key: key, Params: raw, Status: Queued, Counters: map[string]int64{}, Created: domain.Now()}
	doc, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	if _, err := r.entities.Put(ctx, &storage.Entity{Kind: domain.EntityJob, ID: id, Doc: doc}, 0); err != nil {
		return nil, fmt.Errorf("saving job record: %w", err)
	}
	if key != "" {
		all, err := r.stored(ctx)
		if err == nil {
			for _, o := range all {
				if o.Key == key && o.ID != id && !o.IsFinished() {
					if err := r.requestCancel(ctx, o.ID, "superseded by job "+id); err != nil && !errors.Is(err, storage.ErrConflict) {
						r.log.Warn("job_not_superseded", "job_id", o.ID, "error", err)
					}
				}
			}
		}
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return j, nil
}

// Cancel implements Runner: a queued job is cancelled at once, a running one is
// flagged and stops within about a second (SaveEvery) in whichever process runs it.
func (r *Shared) Cancel(ctx context.Context, id string) error {
	return r.requestCancel(ctx, id, "cancelled")
}

func (r *Shared) requestCancel(ctx context.Context, id, reason string) error {
	for try := 0; ; try++ {
		// Checked on every try: a queued job this process claims between two tries
		// is running here by the next one, and its heartbeat rewrites the record
		// every SaveEvery, which would keep the write below in conflict.
		r.mu.Lock()
		a, ok := r.active[id]
		r.mu.Unlock()
		if ok {
			a.mu.Lock()
			if a.job.IsFinished() { // its final record is being written
				status := a.job.Status
				a.mu.Unlock()
				return fmt.Errorf("job %s is %s: %w", id, status, storage.ErrConflict)
			}
			a.job.CancelRequested, a.reason = true, reason
			a.mu.Unlock()
			a.cancel()
			return nil
		}
		j, version, err := r.load(ctx, id)
		if err != nil {
			return err
		}
		switch j.Status {
		case Queued:
			j.Status, j.Error, j.Finished = Cancelled, reason, domain.Now()
		case Running:
			if j.CancelRequested {
				return nil
			}
			j.CancelRequested, j.Error = true, reason
		default:
			return fmt.Errorf("job %s is %s: %w", id, j.Status, storage.ErrConflict)
		}
		err = r.put(ctx, j, version)
		if err == nil && j.IsFinished() {
			r.finished(*j)
		}
		if err == nil || !errors.Is(err, storage.ErrConflict) || try >= 5 {
			return err
		}
	}
}

// Get implements Runner.
func (r *Shared) Get(ctx context.Context, id string) (*Job, error) {
	r.mu.Lock()
	if a, ok := r.active[id]; ok {
		r.mu.Unlock()
		j := a.snapshot()
		return &j, nil
	}
	r.mu.Unlock()
	j, _, err := r.load(ctx, id)
	return j, err
}

// List implements Runner.
func (r *Shared) List(ctx context.Context, f Filter) ([]*Job, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	// The jobs running here are read before the store: one that finishes in between
	// has its final record stored before it leaves active, so a finished stored
	// record wins over the snapshot; an unfinished one is older than the snapshot.
	r.mu.Lock()
	running := make(map[string]Job, len(r.active))
	for id, a := range r.active {
		running[id] = a.snapshot()
	}
	r.mu.Unlock()
	all, err := r.stored(ctx)
	if err != nil {
		return nil, 0, err
	}
	for i, j := range all {
		if s, ok := running[j.ID]; ok && !j.IsFinished() {
			all[i] = &s
		}
	}
	slices.SortStableFunc(all, func(a, b *Job) int { // newest first
		if c := b.Created.Compare(a.Created.Time); c != 0 {
			return c
		}
		return compareStrings(b.ID, a.ID)
	})
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

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (r *Shared) stored(ctx context.Context) ([]*Job, error) {
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
	if j.Counters == nil {
		j.Counters = map[string]int64{}
	}
	return j, nil
}

func (r *Shared) load(ctx context.Context, id string) (*Job, int64, error) {
	ent, err := r.entities.Get(ctx, domain.EntityJob, id)
	if err != nil {
		return nil, 0, err
	}
	j, err := decode(ent)
	return j, ent.Version, err
}

// put writes j if its stored version is still version.
func (r *Shared) put(ctx context.Context, j *Job, version int64) error {
	doc, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = r.entities.Put(ctx, &storage.Entity{Kind: domain.EntityJob, ID: j.ID, Doc: doc}, version)
	return err
}

func (r *Shared) worker() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.Poll)
	defer t.Stop()
	for {
		for r.base.Err() == nil && r.claimAndRun() {
		}
		select {
		case <-r.base.Done():
			return
		case <-r.wake:
		case <-t.C:
		}
	}
}

// claimAndRun claims the oldest job this process can run and runs it; it says
// whether there was one.
func (r *Shared) claimAndRun() bool {
	ctx, cancel := context.WithTimeout(r.base, 10*time.Second)
	defer cancel()
	ents, _, err := r.entities.List(ctx, domain.EntityJob, storage.ListOptions{})
	if err != nil {
		if r.base.Err() == nil {
			r.log.Warn("job_poll_failed", "error", err)
		}
		return false
	}
	type cand struct {
		j       *Job
		version int64
	}
	var cands []cand
	now := time.Now()
	for _, ent := range ents {
		j, err := decode(ent)
		if err != nil || j.IsFinished() {
			continue
		}
		if _, ok := r.handlers[j.Kind]; !ok {
			continue
		}
		if j.Status == Running {
			r.mu.Lock()
			_, mine := r.active[j.ID]
			r.mu.Unlock()
			orphan := r.cfg.Exclusive && j.Owner != r.cfg.Owner || now.After(j.LeaseUntil.Time)
			if mine || !orphan {
				continue
			}
		}
		cands = append(cands, cand{j, ent.Version})
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return a.j.Created.Compare(b.j.Created.Time) })
	for _, c := range cands {
		j := c.j
		resumed := j.Status == Running
		switch {
		case j.CancelRequested:
			j.Status, j.Finished = Cancelled, domain.Now()
			if j.Error == "" {
				j.Error = "cancelled"
			}
			if r.put(ctx, j, c.version) == nil {
				r.finished(*j)
			}
			continue
		case j.Attempts >= r.cfg.MaxAttempts:
			j.Status, j.Finished = Interrupted, domain.Now()
			j.Error = fmt.Sprintf("its worker stopped %d times before the job finished; submit it again", j.Attempts)
			if r.put(ctx, j, c.version) == nil {
				r.finished(*j)
			}
			continue
		}
		if !j.Started.IsZero() { // resumed: progress made after the checkpoint is done again
			rewind(j)
		}
		j.Status, j.Owner, j.Attempts = Running, r.cfg.Owner, j.Attempts+1
		j.LeaseUntil = domain.Time{Time: time.Now().Add(r.cfg.Lease).UTC()}
		if j.Started.IsZero() {
			j.Started = domain.Now()
		}
		doc, err := json.Marshal(j)
		if err != nil {
			continue
		}
		v, err := r.entities.Put(ctx, &storage.Entity{Kind: domain.EntityJob, ID: j.ID, Doc: doc}, c.version)
		if err != nil { // another worker was faster, or the store failed
			continue
		}
		if resumed {
			r.log.Info("job_resumed", "job_id", j.ID, "kind", j.Kind, "attempt", j.Attempts)
		}
		r.execute(j, v)
		return true
	}
	return false
}

func (r *Shared) execute(j *Job, version int64) {
	ctx, cancel := context.WithCancel(r.base)
	defer cancel()
	a := &run{r: r, job: *j, version: version, cancel: cancel, lastSave: time.Now()}
	r.mu.Lock()
	r.active[j.ID] = a
	r.mu.Unlock()
	beat := make(chan struct{})
	go func() { // renews the lease and sees cancels and take-overs while the handler is busy
		t := time.NewTicker(r.cfg.SaveEvery)
		defer t.Stop()
		for {
			select {
			case <-beat:
				return
			case <-t.C:
				a.persist(false)
			}
		}
	}()

	err := r.call(ctx, a)

	close(beat)
	// The run stays in active until its final record is written: while it is
	// written, Get and List answer the finished status from here, and afterwards
	// from the store, so a cancel never reads a running record of a finished job.
	inactive := func() {
		r.mu.Lock()
		delete(r.active, j.ID)
		r.mu.Unlock()
	}
	a.mu.Lock()
	lost := a.lost
	switch {
	case lost:
	case err == nil:
		a.job.Status = Done
	case r.base.Err() != nil && !a.job.CancelRequested:
		// This process stops: the job goes back to the queue, for this or another
		// worker to resume from its checkpoint.
		a.job.Status, a.job.Owner, a.job.LeaseUntil = Queued, "", domain.Time{}
		a.job.Attempts--
	case ctx.Err() != nil || a.job.CancelRequested:
		a.job.Status = Cancelled
		if a.reason != "" {
			a.job.Error = a.reason
		} else if a.job.Error == "" {
			a.job.Error = "cancelled"
		}
	default:
		a.job.Status, a.job.Error = Failed, err.Error()
	}
	if a.job.Status != Queued && !lost {
		a.job.Finished, a.job.Owner = domain.Now(), ""
	}
	status := a.job.Status
	a.mu.Unlock()
	if lost {
		inactive()
		r.log.Warn("job_lost", "job_id", j.ID, "kind", j.Kind)
		return
	}
	if status == Failed {
		r.log.Warn("job_failed", "job_id", j.ID, "kind", j.Kind, "error", err)
	}
	saved := a.persist(true) == nil
	inactive()
	if saved && status != Queued {
		r.finished(a.snapshot())
	}
}

// finished runs OnFinish and prunes old records.
func (r *Shared) finished(j Job) {
	if r.cfg.OnFinish != nil {
		r.cfg.OnFinish(j)
	}
	r.prune()
}

func (r *Shared) call(ctx context.Context, a *run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job panicked: %v", p)
		}
	}()
	return r.handlers[a.job.Kind](ctx, a)
}

// persist writes the running job's record: progress, counters, checkpoint and a
// renewed lease. It first reads the stored record: a cancel flag there stops the
// job; another owner there (the lease ran out and another worker took the job)
// stops it without writing. final writes the finished state.
func (a *run) persist(final bool) error {
	r := a.r
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	for try := 0; try < 5; try++ {
		var stored *Job
		var version int64
		if stored, version, err = r.load(ctx, a.job.ID); err != nil {
			break
		}
		a.mu.Lock()
		if stored.Owner != r.cfg.Owner && !(final && stored.Owner == "") {
			a.lost = true
			a.mu.Unlock()
			a.cancel()
			return fmt.Errorf("job %s was taken over by %s", a.job.ID, stored.Owner)
		}
		if stored.CancelRequested && !a.job.CancelRequested {
			a.job.CancelRequested = true
			if a.reason == "" {
				a.reason = stored.Error
			}
			a.cancel()
		}
		if !final {
			a.job.LeaseUntil = domain.Time{Time: time.Now().Add(r.cfg.Lease).UTC()}
		}
		j := a.snapshotLocked()
		a.lastSave = time.Now()
		a.mu.Unlock()
		if err = r.put(ctx, &j, version); err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrConflict) {
			break
		}
	}
	r.log.Warn("job_record_not_saved", "job_id", a.job.ID, "error", err)
	return err
}

// prune deletes the oldest finished records past Keep.
func (r *Shared) prune() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	all, err := r.stored(ctx)
	if err != nil || len(all) <= r.cfg.Keep {
		return
	}
	slices.SortStableFunc(all, func(a, b *Job) int { return a.Created.Compare(b.Created.Time) })
	extra := len(all) - r.cfg.Keep
	for _, old := range all {
		if extra == 0 {
			break
		}
		if !old.IsFinished() {
			continue
		}
		if err := r.entities.Delete(ctx, domain.EntityJob, old.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			r.log.Warn("job_record_not_deleted", "job_id", old.ID, "error", err)
			return
		}
		extra--
	}
}

// Close stops the runner's workers: a running job's handler is stopped and the job
// goes back to the queue (with its checkpoint) for the next worker; queued jobs stay
// queued. It waits for the workers.
func (r *Shared) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.stop()
	r.mu.Unlock()
	r.wg.Wait()
}

func (a *run) snapshot() Job {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.snapshotLocked()
}

func (a *run) snapshotLocked() Job {
	j := a.job
	j.Counters = maps.Clone(a.job.Counters)
	j.Errors = slices.Clone(a.job.Errors)
	return j
}

// Job implements Task.
func (a *run) Job() Job { return a.snapshot() }

// Decode implements Task.
func (a *run) Decode(dst any) error {
	if err := json.Unmarshal(a.job.Params, dst); err != nil {
		return fmt.Errorf("decoding job parameters: %w", err)
	}
	return nil
}

// SetTotal implements Task.
func (a *run) SetTotal(n int64) { a.update(func(j *Job) { j.Total = n }) }

// Advance implements Task.
func (a *run) Advance(n int64) { a.update(func(j *Job) { j.Done += n }) }

// Count implements Task.
func (a *run) Count(name string, n int64) { a.update(func(j *Job) { j.Counters[name] += n }) }

// Report implements Task.
func (a *run) Report(msg string) {
	a.update(func(j *Job) {
		if len(j.Errors) < MaxErrors {
			j.Errors = append(j.Errors, msg)
		}
	})
}

// savedCheckpoint is what Job.Checkpoint holds: the handler's position and the
// progress recorded up to it, which a resumed job starts from again.
type savedCheckpoint struct {
	At       json.RawMessage  `json:"at"`
	Done     int64            `json:"done"`
	Counters map[string]int64 `json:"counters"`
	Errors   int              `json:"errors"`
}

// rewind sets a resumed job's progress back to its checkpoint (to nothing without
// one): what was counted after it is done, and counted, again.
func rewind(j *Job) {
	var cp savedCheckpoint
	if len(j.Checkpoint) > 0 && json.Unmarshal(j.Checkpoint, &cp) == nil {
		j.Done, j.Counters = cp.Done, cp.Counters
		if cp.Errors < len(j.Errors) {
			j.Errors = j.Errors[:cp.Errors]
		}
	} else {
		j.Done, j.Counters, j.Errors = 0, map[string]int64{}, nil
	}
	if j.Counters == nil {
		j.Counters = map[string]int64{}
	}
}

// Checkpoint implements Task.
func (a *run) Checkpoint(dst any) (bool, error) {
	a.mu.Lock()
	raw := a.job.Checkpoint
	a.mu.Unlock()
	var cp savedCheckpoint
	if len(raw) == 0 || json.Unmarshal(raw, &cp) != nil || len(cp.At) == 0 || string(cp.At) == "null" {
		return false, nil
	}
	return true, json.Unmarshal(cp.At, dst)
}

// SaveCheckpoint implements Task.
func (a *run) SaveCheckpoint(v any) error {
	at, err := json.Marshal(v)
	if err != nil {
		return err
	}
	a.mu.Lock()
	raw, err := json.Marshal(savedCheckpoint{At: at, Done: a.job.Done, Counters: a.job.Counters, Errors: len(a.job.Errors)})
	if err == nil {
		a.job.Checkpoint = raw
	}
	a.mu.Unlock()
	if err != nil {
		return err
	}
	return a.persist(false)
}

// update changes the in-memory record; the heartbeat writes it (every SaveEvery).
func (a *run) update(fn func(*Job)) {
	a.mu.Lock()
	fn(&a.job)
	a.mu.Unlock()
}

var (
	_ Runner = (*Shared)(nil)
	_ Task   = (*run)(nil)
)
