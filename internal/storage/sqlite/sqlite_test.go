package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

func open(t *testing.T) storage.Store {
	s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) { storagetest.Run(t, open) }

// With the paths the conformance searches compare indexed, their answers (totals, pages,
// order) are the same: on the index alone where no profile has an array on the path.
func TestConformanceIndexedPaths(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir(), IndexedPaths: []string{"traits.plan", "traits.score", "traits.x"}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Commit(ctx, &storage.Batch{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Entities().Put(ctx, &storage.Entity{Kind: "k", ID: "i", Doc: []byte(`{}`)}, 0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Entities().Get(ctx, "k", "i"); err != nil {
		t.Fatal(err)
	}
}

func TestCommitAfterClose(t *testing.T) {
	s := open(t)
	s.Close()
	if err := s.Commit(context.Background(), &storage.Batch{}); err == nil {
		t.Fatal("commit after close succeeded")
	}
}

// TestFindByKeyUsesPartialIndex checks that the key index, which leaves out profiles
// without the key, still serves FindByKey's lookup.
func TestFindByKeyUsesPartialIndex(t *testing.T) {
	s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Profiles().FindByKey(context.Background(), "data.contact.email.main", "a@example.com", 5); err != nil {
		t.Fatal(err)
	}
	var id, parent, notused int
	var detail string
	err = s.DB().QueryRow(`EXPLAIN QUERY PLAN SELECT doc FROM profiles WHERE json_extract(doc, '$.data.contact.email.main') = ? AND merged_into IS NULL ORDER BY created, id LIMIT 5`, "a@example.com").Scan(&id, &parent, &notused, &detail)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "profiles_key_data_contact_email_main") {
		t.Fatalf("query plan %q does not use the key index", detail)
	}
}

// The store behaves the same with either synchronous setting; only what a machine
// failure can take differs.
func TestConformanceSyncNormal(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir(), Sync: "normal"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSyncSetting(t *testing.T) {
	for _, tc := range []struct {
		sync string
		want int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{{"", 2}, {"full", 2}, {"normal", 1}} {
		s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir(), Sync: tc.sync})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := s.DB().QueryRow(`PRAGMA synchronous`).Scan(&got); err != nil || got != tc.want {
			t.Errorf("Sync %q: synchronous = %d, %v; want %d", tc.sync, got, err, tc.want)
		}
		s.Close()
	}
	if _, err := sqlite.Open(sqlite.Config{Dir: t.TempDir(), Sync: "off"}); err == nil || !strings.Contains(err.Error(), `"off"`) {
		t.Errorf("Sync off: %v, want an error naming the value", err)
	}
}

// Open builds the indexes of the configured merge keys, so that the first look-up does
// not build one (reading every profile) while commits wait for the writer.
func TestOpenIndexesKeyPaths(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(sqlite.Config{Dir: dir, KeyPaths: []string{"data.contact.email.main", "data.identifier.id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"profiles_key_data_contact_email_main", "profiles_key_data_identifier_id"} {
		var n int
		if err := s.DB().QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n); err != nil || n != 1 {
			t.Errorf("index %s: %d, %v", name, n, err)
		}
	}
	if _, err := sqlite.Open(sqlite.Config{Dir: t.TempDir(), KeyPaths: []string{"data.Email"}}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("invalid key path: %v, want ErrInvalid", err)
	}
}

// The commit window (Config.CommitWindow) holds a transaction open for requests about to
// arrive; whatever it does, every Commit is answered after its own transaction, and
// every event is stored once. Concurrent committers, then one committer at a time (whose
// next request can only come after the previous one is answered, so each batch must
// hold exactly one), with the window at its largest, the default and off.
func TestCommitWindow(t *testing.T) {
	for _, window := range []time.Duration{5 * time.Millisecond, 0, -1} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			var commits, batches, events atomic.Int64
			var largest atomic.Int64
			dir := t.TempDir()
			s, err := sqlite.Open(sqlite.Config{Dir: dir, CommitWindow: window, OnBatch: func(c, e int) {
				commits.Add(int64(c))
				batches.Add(1)
				events.Add(int64(e))
				if int64(c) > largest.Load() {
					largest.Store(int64(c))
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			const workers, each = 16, 40
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := range each {
						id := fmt.Sprintf("w%d-%d", w, i)
						if err := s.Commit(ctx, storagetest.SampleBatch("p"+id, "s"+id, "e"+id)); err != nil {
							t.Error(err)
						}
					}
				})
			}
			wg.Wait()
			if got := commits.Load(); got != workers*each {
				t.Fatalf("batches served %d commits, want %d", got, workers*each)
			}
			if got := events.Load(); got != workers*each {
				t.Fatalf("%d events stored, want %d", got, workers*each)
			}
			commits.Store(0)
			batches.Store(0)
			largest.Store(0)
			for i := range 50 {
				id := fmt.Sprint("seq-", i)
				if err := s.Commit(ctx, storagetest.SampleBatch("p"+id, "s"+id, "e"+id)); err != nil {
					t.Fatal(err)
				}
			}
			if commits.Load() != 50 || batches.Load() != 50 || largest.Load() != 1 {
				t.Fatalf("one committer at a time: %d commits in %d batches, largest %d; want 50 in 50, largest 1", commits.Load(), batches.Load(), largest.Load())
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err = sqlite.Open(sqlite.Config{Dir: dir}); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var n int
			if err := s.DB().QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != workers*each+50 {
				t.Fatalf("%d events in the database after reopening, want %d", n, workers*each+50)
			}
		})
	}
}

func TestCommitPhases(t *testing.T) {
	storagetest.CommitPhases(t, func(t *testing.T, onCommit func(storage.CommitPhases)) storage.Store {
		s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir(), OnCommit: onCommit})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
