package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
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

func TestLocalRunsJobsWithProgress(t *testing.T) {
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
	r, err := jobs.NewLocal(ctx, jobs.Config{SaveEvery: time.Millisecond}, store.Entities(), quiet, handlers)
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

func TestLocalMarksUnfinishedJobsInterrupted(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	ctx := context.Background()
	started := make(chan struct{})
	var once atomic.Bool
	handlers := map[string]jobs.Handler{"wait": func(ctx context.Context, task jobs.Task) error {
		if once.CompareAndSwap(false, true) {
			close(started)
		}
		<-ctx.Done()
		return ctx.Err()
	}}
	r, err := jobs.NewLocal(ctx, jobs.Config{}, store.Entities(), quiet, handlers)
	if err != nil {
		t.Fatal(err)
	}
	running, _ := r.Submit(ctx, "wait", "", nil)
	queued, _ := r.Submit(ctx, "wait", "", nil)
	<-started
	r.Close()
	for _, id := range []string{running.ID, queued.ID} {
		if j, err := r.Get(ctx, id); err != nil || j.Status != jobs.Interrupted {
			t.Fatalf("after Close: %+v %v", j, err)
		}
	}
	if _, err := r.Submit(ctx, "wait", "", nil); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("submit after Close: %v", err)
	}

	// A process killed mid-job leaves its record "running"; the next runner fixes it.
	doc := []byte(`{"id":"old","kind":"wait","params":{},"status":"running","counters":{}}`)
	if _, err := store.Entities().Put(ctx, &storage.Entity{Kind: domain.EntityJob, ID: "old", Doc: doc}, -1); err != nil {
		t.Fatal(err)
	}
	r2, err := jobs.NewLocal(ctx, jobs.Config{}, store.Entities(), quiet, handlers)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if j, err := r2.Get(ctx, "old"); err != nil || j.Status != jobs.Interrupted || j.Error == "" {
		t.Fatalf("after restart: %+v %v", j, err)
	}
}

func TestLocalKeepsBoundedHistory(t *testing.T) {
	store := openStore(t, t.TempDir())
	ctx := context.Background()
	r, err := jobs.NewLocal(ctx, jobs.Config{Keep: 3}, store.Entities(), quiet,
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
