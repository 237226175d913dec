package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openStore(t *testing.T, dir string) storage.Store {
	t.Helper()
	s, err := sqlite.Open(sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitFor polls the job until it has finished.
func waitFor(t *testing.T, r jobs.Runner, id string) *jobs.Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		j, err := r.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.IsFinished() {
			return j
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("job %s did not finish", id)
	return nil
}

type countParams struct {
	N int `json:"n"`
}

func TestQueuedRunsJobsWithProgress(t *testing.T) {
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	gate := make(chan struct{})
	handlers := map[string]jobs.Handler{
		"count": func(ctx context.Context, task jobs.Task) error {
			var p countParams
			if err := task.Decode(&p); err != nil {
				return err
			}
			task.SetTotal(int64(p.N))
			for i := 0; i < p.N; i++ {
				task.Advance(1)
				task.Count("even", int64(1-i%2))
			}
			return nil
		},
		"fail":  func(context.Context, jobs.Task) error { return errors.New("boom") },
		"panic": func(context.Context, jobs.Task) error { panic("oops") },
		"wait": func(ctx context.Context, task jobs.Task) error {
			task.SetTotal(1)
			select {
			case <-gate:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
	r, err := jobs.New(ctx, jobs.Config{Execute: true, SaveEvery: time.Millisecond}, store.Entities(), quiet, handlers)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	t.Run("done", func(t *testing.T) {
		j, err := r.Submit(ctx, "count", "", countParams{N: 5})
		if err != nil || j.Status != jobs.Queued {
			t.Fatalf("submit: %+v %v", j, err)
		}
		j = waitFor(t, r, j.ID)
		if j.Status != jobs.Done || j.Total != 5 || j.Done != 5 || j.Counters["even"] != 3 || j.Started.IsZero() || j.Finished.IsZero() {
			t.Fatalf("job = %+v", j)
		}
	})
	t.Run("failed", func(t *testing.T) {
		for kind, msg := range map[string]string{"fail": "boom", "panic": "job panicked: oops"} {
			j, _ := r.Submit(ctx, kind, "", nil)
			if j = waitFor(t, r, j.ID); j.Status != jobs.Failed || j.Error != msg {
				t.Errorf("%s: %+v", kind, j)
			}
		}
	})
	t.Run("unknown kind", func(t *testing.T) {
		if _, err := r.Submit(ctx, "nope", "", nil); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("supersede and cancel", func(t *testing.T) {
		first, _ := r.Submit(ctx, "wait", "k", nil)
		deadline := time.Now().Add(5 * time.Second)
		for j, _ := r.Get(ctx, first.ID); j.Status != jobs.Running; j, _ = r.Get(ctx, first.ID) {
			if time.Now().After(deadline) {
				t.Fatal("first job did not start")
			}
			time.Sleep(time.Millisecond)
		}
		queued, _ := r.Submit(ctx, "wait", "other", nil) // waits behind the running one
		second, _ := r.Submit(ctx, "wait", "k", nil)
		if j := waitFor(t, r, first.ID); j.Status != jobs.Cancelled || j.Error != "superseded by job "+second.ID {
			t.Fatalf("first = %+v", j)
		}
		// The queued job runs next; cancel it while it waits.
		if err := r.Cancel(ctx, queued.ID); err != nil {
			t.Fatal(err)
		}
		if j := waitFor(t, r, queued.ID); j.Status != jobs.Cancelled {
			t.Fatalf("queued = %+v", j)
		}
		close(gate)
		if j := waitFor(t, r, second.ID); j.Status != jobs.Done {
			t.Fatalf("second = %+v", j)
		}
		if err := r.Cancel(ctx, second.ID); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("cancel of a finished job: %v", err)
		}
		if err := r.Cancel(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("cancel of an unknown job: %v", err)
		}
	})
	t.Run("list", func(t *testing.T) {
		all, total, err := r.List(ctx, jobs.Filter{})
		if err != nil || total != 6 || len(all) != 6 {
			t.Fatalf("list: %d %d %v", total, len(all), err)
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID > all[i-1].ID {
				t.Fatal("not newest first")
			}
		}
		keyed, total, _ := r.List(ctx, jobs.Filter{Key: "k", Status: jobs.Done})
		if total != 1 || keyed[0].Kind != "wait" {
			t.Fatalf("filtered: %d %+v", total, keyed)
		}
		page, total, _ := r.List(ctx, jobs.Filter{Limit: 2, Offset: 5})
		if total != 6 || len(page) != 1 || page[0].ID != all[5].ID {
			t.Fatalf("page: %d %+v", total, page)
		}
	})
}

// putRecord writes a job record as another (perhaps dead) process left it.
func putRecord(t *testing.T, store storage.Store, doc string) {
	t.Helper()
	var j jobs.Job
	if err := json.Unmarshal([]byte(doc), &j); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Entities().Put(context.Background(), &storage.Entity{Kind: domain.EntityJob, ID: j.ID, Doc: []byte(doc)}, -1); err != nil {
		t.Fatal(err)
	}
}

type step struct {
	N int `json:"n"`
}

func TestQueuedResumesAndTakesOver(t *testing.T) {
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	var resumedFrom atomic.Int64
	started := make(chan string, 10)
	handlers := map[string]jobs.Handler{
		// steps saves a checkpoint after each of 5 steps; "block" in the params makes
		// it wait for ctx after the third.
		"steps": func(ctx context.Context, task jobs.Task) error {
			var cp step
			if ok, err := task.Checkpoint(&cp); err != nil {
				return err
			} else if ok {
				resumedFrom.Store(int64(cp.N))
			}
			var p struct{ Block bool }
			task.Decode(&p)
			started <- task.Job().ID
			for cp.N < 5 {
				if cp.N == 3 && p.Block {
					<-ctx.Done()
					return ctx.Err()
				}
				cp.N++
				task.Advance(1)
				if err := task.SaveCheckpoint(cp); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cfg := jobs.Config{Execute: true, SaveEvery: 10 * time.Millisecond, Lease: 200 * time.Millisecond, Poll: 10 * time.Millisecond}

	t.Run("a dead worker's job is taken over after its lease, from its checkpoint", func(t *testing.T) {
		putRecord(t, store, `{"id":"dead1","kind":"steps","params":{},"status":"running","owner":"gone","attempts":1,
			"lease_until":"2020-01-01T00:00:00Z","checkpoint":{"at":{"n":2},"done":2,"counters":{}},"done":2,"counters":{},"created":"2020-01-01T00:00:00Z"}`)
		r, err := jobs.New(ctx, cfg, store.Entities(), quiet, handlers)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		j := waitFor(t, r, "dead1")
		if j.Status != jobs.Done || j.Done != 5 || j.Attempts != 2 || resumedFrom.Load() != 2 {
			t.Fatalf("job = %+v, resumed from %d", j, resumedFrom.Load())
		}
	})
	t.Run("a job whose workers kept dying is interrupted", func(t *testing.T) {
		putRecord(t, store, `{"id":"dead2","kind":"steps","params":{},"status":"running","owner":"gone","attempts":3,
			"lease_until":"2020-01-01T00:00:00Z","counters":{},"created":"2020-01-01T00:00:00Z"}`)
		r, _ := jobs.New(ctx, cfg, store.Entities(), quiet, handlers)
		defer r.Close()
		if j := waitFor(t, r, "dead2"); j.Status != jobs.Interrupted || j.Error == "" {
			t.Fatalf("job = %+v", j)
		}
	})
	t.Run("a live lease is respected unless the runner is exclusive", func(t *testing.T) {
		far := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		putRecord(t, store, `{"id":"live","kind":"steps","params":{},"status":"running","owner":"other","attempts":1,
			"lease_until":"`+far+`","counters":{},"created":"2020-01-01T00:00:00Z"}`)
		r, _ := jobs.New(ctx, cfg, store.Entities(), quiet, handlers)
		time.Sleep(100 * time.Millisecond)
		if j, _ := r.Get(ctx, "live"); j.Status != jobs.Running || j.Owner != "other" {
			t.Fatalf("job = %+v", j)
		}
		r.Close()
		ex := cfg
		ex.Exclusive = true
		r2, _ := jobs.New(ctx, ex, store.Entities(), quiet, handlers)
		defer r2.Close()
		if j := waitFor(t, r2, "live"); j.Status != jobs.Done {
			t.Fatalf("job = %+v", j)
		}
	})
	t.Run("Close puts a running job back; the next runner resumes it", func(t *testing.T) {
		r, _ := jobs.New(ctx, cfg, store.Entities(), quiet, handlers)
		j, _ := r.Submit(ctx, "steps", "", map[string]bool{"block": true})
		for id := range started {
			if id == j.ID {
				break
			}
		}
		r.Close()
		got, _ := r.Get(ctx, j.ID)
		if got.Status != jobs.Queued || got.Done != 3 {
			t.Fatalf("after Close: %+v", got)
		}
		if _, err := r.Submit(ctx, "steps", "", nil); !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("submit after Close: %v", err)
		}
		resumedFrom.Store(-1)
		r2, _ := jobs.New(ctx, cfg, store.Entities(), quiet, handlers)
		defer r2.Close()
		<-started
		if resumedFrom.Load() != 3 {
			t.Fatalf("resumed from %d", resumedFrom.Load())
		}
		// It blocks again at step 3: cancel it from a runner that does not execute
		// (another process): the flag in the record stops it.
		front, _ := jobs.New(ctx, jobs.Config{}, store.Entities(), quiet, handlers)
		if err := front.Cancel(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if got := waitFor(t, front, j.ID); got.Status != jobs.Cancelled {
			t.Fatalf("after cancel: %+v", got)
		}
	})
}

func TestQueuedKeepsBoundedHistory(t *testing.T) {
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	r, err := jobs.New(ctx, jobs.Config{Execute: true, Keep: 3}, store.Entities(), quiet,
		map[string]jobs.Handler{"noop": func(context.Context, jobs.Task) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var last *jobs.Job
	for i := 0; i < 6; i++ {
		last, _ = r.Submit(ctx, "noop", "", nil)
		waitFor(t, r, last.ID)
	}
	// The last finish prunes after saving; give it a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, total, err := r.List(ctx, jobs.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if total == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records kept, want 3", total)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := r.Get(ctx, last.ID); err != nil {
		t.Fatalf("newest job pruned: %v", err)
	}
}

// heldEntities holds the write of a job's finished record until released, so a
// test can look at the runner while that write is under way.
type heldEntities struct {
	storage.Entities
	held, release chan struct{}
}

func (h *heldEntities) Put(ctx context.Context, ent *storage.Entity, ifVersion int64) (int64, error) {
	var j jobs.Job
	if json.Unmarshal(ent.Doc, &j) == nil && j.Status == jobs.Done {
		h.held <- struct{}{}
		<-h.release
	}
	return h.Entities.Put(ctx, ent, ifVersion)
}

// A job's finished status is answered only with the store writing it: a cancel in
// that moment is refused as for any finished job, not written into a record the
// runner is about to close.
func TestQueuedFinishIsSeenWithItsRecord(t *testing.T) {
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	ents := &heldEntities{Entities: store.Entities(), held: make(chan struct{}), release: make(chan struct{})}
	r, err := jobs.New(ctx, jobs.Config{Execute: true, SaveEvery: time.Hour}, ents, quiet,
		map[string]jobs.Handler{"noop": func(context.Context, jobs.Task) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var release sync.Once
	defer release.Do(func() { close(ents.release) }) // before Close, should the test fail
	j, err := r.Submit(ctx, "noop", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	<-ents.held // the final record is being written
	if got, err := r.Get(ctx, j.ID); err != nil || got.Status != jobs.Done {
		t.Fatalf("get while the final record is written: %+v %v", got, err)
	}
	if err := r.Cancel(ctx, j.ID); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("cancel while the final record is written: %v", err)
	}
	release.Do(func() { close(ents.release) })
	got := waitFor(t, r, j.ID)
	deadline := time.Now().Add(5 * time.Second)
	for {
		ent, err := store.Entities().Get(ctx, domain.EntityJob, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		var stored jobs.Job
		if err := json.Unmarshal(ent.Doc, &stored); err != nil {
			t.Fatal(err)
		}
		if stored.Status == jobs.Done {
			if stored.CancelRequested || got.Status != jobs.Done {
				t.Fatalf("stored %+v, answered %+v", stored, got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored record stays %+v", stored)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// claimRace makes a cancel meet a claim: the claim's write is held until a cancel
// writes, and every write of that cancel waits until the job's heartbeat has
// rewritten the record since the version the cancel read, so it conflicts.
type claimRace struct {
	storage.Entities
	claimed, proceed chan struct{}
	release          sync.Once
	version          atomic.Int64 // of the latest heartbeat write
	beat             chan struct{}
}

type cancelCall struct{}

func (c *claimRace) Put(ctx context.Context, ent *storage.Entity, ifVersion int64) (int64, error) {
	if ctx.Value(cancelCall{}) != nil {
		c.release.Do(func() { close(c.proceed) }) // the job now runs here, with its heartbeat
		for c.version.Load() <= ifVersion {
			<-c.beat
		}
		return c.Entities.Put(ctx, ent, ifVersion)
	}
	v, err := c.Entities.Put(ctx, ent, ifVersion)
	var j jobs.Job
	if err == nil && json.Unmarshal(ent.Doc, &j) == nil && j.Status == jobs.Running {
		if ifVersion == 1 { // the claim of the submitted record
			close(c.claimed)
			<-c.proceed
		} else {
			c.version.Store(v)
			select {
			case c.beat <- struct{}{}:
			default:
			}
		}
	}
	return v, err
}

// A cancel that reads a job's record just as this process claims it, and then
// loses its write to the job's heartbeat, reaches the job running here instead of
// fighting the heartbeat through the store until it gives up.
func TestQueuedCancelMeetsAClaim(t *testing.T) {
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	ents := &claimRace{Entities: store.Entities(), claimed: make(chan struct{}), proceed: make(chan struct{}), beat: make(chan struct{}, 1)}
	r, err := jobs.New(ctx, jobs.Config{Execute: true, SaveEvery: time.Millisecond}, ents, quiet,
		map[string]jobs.Handler{"wait": func(ctx context.Context, task jobs.Task) error {
			<-ctx.Done()
			return ctx.Err()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer ents.release.Do(func() { close(ents.proceed) }) // before Close, should the test fail
	j, err := r.Submit(ctx, "wait", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	<-ents.claimed
	if err := r.Cancel(context.WithValue(ctx, cancelCall{}, true), j.ID); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, r, j.ID); got.Status != jobs.Cancelled || got.Error != "cancelled" {
		t.Fatalf("job = %+v", got)
	}
}
