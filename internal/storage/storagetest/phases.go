package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// CommitPhases checks a group-committing store's OnCommit hook (storage.CommitPhases):
// open returns a store that calls onCommit from every Commit that was written. Each
// Commit reports once, from inside the call (so its phases fit in the call's own time),
// with a write that took time and no negative phase; concurrent Commits each report too.
func CommitPhases(t *testing.T, open func(t *testing.T, onCommit func(storage.CommitPhases)) storage.Store) {
	var mu sync.Mutex
	var got []storage.CommitPhases
	s := open(t, func(p storage.CommitPhases) {
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	})
	defer s.Close()
	ctx := context.Background()
	reported := func() []storage.CommitPhases {
		mu.Lock()
		defer mu.Unlock()
		return append([]storage.CommitPhases(nil), got...)
	}
	for i := range 3 {
		start := time.Now()
		if err := s.Commit(ctx, SampleBatch(fmt.Sprint("phases-p", i), fmt.Sprint("phases-s", i), fmt.Sprint("phases-e", i))); err != nil {
			t.Fatal(err)
		}
		call := time.Since(start)
		r := reported()
		if len(r) != i+1 {
			t.Fatalf("after %d commits %d reports: Commit must report before it returns", i+1, len(r))
		}
		p := r[i]
		if p.Queued < 0 || p.Write <= 0 || p.Answer < 0 {
			t.Fatalf("commit %d reported %+v: a phase is negative or the write took no time", i, p)
		}
		if sum := p.Queued + p.Write + p.Answer; sum > call {
			t.Fatalf("commit %d reported %v in all (%+v), longer than the call itself (%v)", i, sum, p, call)
		}
	}
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Commit(ctx, SampleBatch(fmt.Sprint("phases-cp", i), fmt.Sprint("phases-cs", i), fmt.Sprint("phases-ce", i)))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent commit %d: %v", i, err)
		}
	}
	if r := reported(); len(r) != 3+n {
		t.Fatalf("%d commits made %d reports", 3+n, len(r))
	}
}
