// Package storagetest is the conformance suite every storage backend must pass. A
// backend's own test calls Run with a function that opens a fresh, empty store.
package storagetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Run runs the whole suite. open must return a new, empty store; Run closes it.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"CommitAndGet", testCommitAndGet},
		{"NotFound", testNotFound},
		{"EventIdempotence", testEventIdempotence},
		{"ListByProfile", testListByProfile},
		{"ConcurrentCommits", testConcurrentCommits},
		{"Entities", testEntities},
		{"FindByKey", testFindByKey},
		{"Search", testSearch},
		{"Erasure", testErasure},
		{"Reports", testReports},
		{"Ping", func(t *testing.T, s storage.Store) {
			if err := s.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

// RunLocker checks a storage.Locker.
func RunLocker(t *testing.T, l storage.Locker) {
	ctx := context.Background()
	t.Run("MutualExclusion", func(t *testing.T) {
		var inside, max atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				unlock, err := l.Lock(ctx, "k")
				if err != nil {
					t.Error(err)
					return
				}
				if n := inside.Add(1); n > max.Load() {
					max.Store(n)
				}
				time.Sleep(100 * time.Microsecond)
				inside.Add(-1)
				unlock()
			}()
		}
		wg.Wait()
		if max.Load() != 1 {
			t.Fatalf("%d holders at once", max.Load())
		}
	})
	t.Run("IndependentKeys", func(t *testing.T) {
		u1, err := l.Lock(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		defer u1()
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		u2, err := l.Lock(c, "b")
		if err != nil {
			t.Fatalf("locking b while a is held: %v", err)
		}
		u2()
	})
	t.Run("ContextCancel", func(t *testing.T) {
		u1, err := l.Lock(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := l.Lock(c, "c"); err == nil {
			t.Fatal("second Lock of a held key succeeded")
		}
		u1()
		u1() // releasing twice is harmless
		u3, err := l.Lock(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		u3()
	})
}

// SampleBatch returns a batch with one profile, one session and the given events.
func SampleBatch(profileID, sessionID string, eventIDs ...string) *storage.Batch {
	now := domain.Now()
	p := domain.NewProfile(profileID, now)
	p.Traits["plan"] = "gold"
	p.Data["contact"] = map[string]any{"email": map[string]any{"main": "a@example.com"}}
	p.Stats.Views = int64(len(eventIDs))
	s := &domain.Session{ID: sessionID, Profile: domain.Ref{ID: profileID}, Metadata: domain.SessionMetadata{Time: domain.SessionTime{Insert: now, Timestamp: now}, Status: domain.SessionStarted}}
	b := &storage.Batch{Profiles: []*domain.Profile{p}, Sessions: []*domain.Session{s}}
	for i, id := range eventIDs {
		ev := &domain.Event{ID: id, Type: "page-view", Profile: domain.Ref{ID: profileID}, Session: domain.EventSession{ID: sessionID},
			Properties: map[string]any{"n": float64(i)}}
		ev.Metadata.Time.Insert = domain.NewTime(now.Add(time.Duration(i) * time.Millisecond))
		b.Events = append(b.Events, ev)
	}
	return b
}

func testCommitAndGet(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.Commit(ctx, SampleBatch("p1", "s1", "e1", "e2")); err != nil {
		t.Fatal(err)
	}
	p, err := s.Profiles().Get(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "p1" || p.Traits["plan"] != "gold" || p.Stats.Views != 2 || p.Metadata.Time.Insert.IsZero() {
		t.Fatalf("profile read back wrong: %+v", p)
	}
	sess, err := s.Sessions().Get(ctx, "s1")
	if err != nil || sess.Profile.ID != "p1" {
		t.Fatalf("session: %+v, %v", sess, err)
	}
	ev, err := s.Events().Get(ctx, "e2")
	if err != nil || ev.Properties["n"] != float64(1) || ev.Profile.ID != "p1" {
		t.Fatalf("event: %+v, %v", ev, err)
	}
	// An update replaces the document.
	p.Stats.Views = 10
	p.Metadata.MergedInto = "p0"
	if err := s.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{p}}); err != nil {
		t.Fatal(err)
	}
	p2, _ := s.Profiles().Get(ctx, "p1")
	if p2.Stats.Views != 10 || !p2.Merged() {
		t.Fatalf("update lost: %+v", p2)
	}
	for name, f := range map[string]func(context.Context) (int64, error){"sessions": s.Sessions().Count, "events": s.Events().Count} {
		n, err := f(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"sessions": 1, "events": 2}[name]
		if n != want {
			t.Errorf("%s count = %d, want %d", name, n, want)
		}
	}
}

func testNotFound(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.Profiles().Get(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("profile: %v", err)
	}
	if _, err := s.Sessions().Get(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("session: %v", err)
	}
	if _, err := s.Events().Get(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("event: %v", err)
	}
	if _, err := s.Entities().Get(ctx, "source", "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("entity: %v", err)
	}
	if err := s.Entities().Delete(ctx, "source", "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("entity delete: %v", err)
	}
}

func testEventIdempotence(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.Commit(ctx, SampleBatch("p1", "s1", "e1")); err != nil {
		t.Fatal(err)
	}
	b := SampleBatch("p1", "s1", "e1", "e9")
	b.Events[0].Properties["n"] = "changed"
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	ev, _ := s.Events().Get(ctx, "e1")
	if ev.Properties["n"] != float64(0) {
		t.Errorf("a resent event id overwrote the stored event: %v", ev.Properties)
	}
	if n, _ := s.Events().Count(ctx); n != 2 {
		t.Errorf("events = %d, want 2", n)
	}
	got, err := s.Events().Existing(ctx, []string{"e1", "e2", "e9"})
	if err != nil {
		t.Fatal(err)
	}
	if !got["e1"] || got["e2"] || !got["e9"] {
		t.Errorf("Existing = %v", got)
	}
}

func testListByProfile(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if err := s.Commit(ctx, SampleBatch("p1", "s1", "a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, SampleBatch("p2", "s2", "d")); err != nil {
		t.Fatal(err)
	}
	evs, total, err := s.Events().ListByProfile(ctx, []string{"p1", "p2"}, storage.Page{Limit: 2, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	if total != 4 || len(evs) != 2 {
		t.Fatalf("total=%d len=%d", total, len(evs))
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Metadata.Time.Insert.After(evs[i-1].Metadata.Time.Insert.Time) {
			t.Fatalf("not newest first: %v", evs)
		}
	}
	evs, total, _ = s.Events().ListByProfile(ctx, []string{"p2"}, storage.Page{Limit: 10})
	if total != 1 || len(evs) != 1 || evs[0].ID != "d" {
		t.Fatalf("p2 events: %d %v", total, evs)
	}
}

func testConcurrentCommits(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	const n = 100
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- s.Commit(ctx, SampleBatch(fmt.Sprint("p", i), fmt.Sprint("s", i), fmt.Sprint("e", i)))
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := s.Events().Count(ctx); c != n {
		t.Fatalf("events = %d, want %d", c, n)
	}
	if c, _ := s.Profiles().Count(ctx); c != n {
		t.Fatalf("profiles = %d, want %d", c, n)
	}
}

func testEntities(t *testing.T, s storage.Store) {
	ctx := context.Background()
	e := s.Entities()
	doc := func(name string) json.RawMessage { return json.RawMessage(fmt.Sprintf(`{"name":%q}`, name)) }
	v, err := e.Put(ctx, &storage.Entity{Kind: "source", ID: "web", Doc: doc("Web")}, 0)
	if err != nil || v != 1 {
		t.Fatalf("create: %d %v", v, err)
	}
	if _, err := e.Put(ctx, &storage.Entity{Kind: "source", ID: "web", Doc: doc("Again")}, 0); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := e.Put(ctx, &storage.Entity{Kind: "source", ID: "web", Doc: doc("Stale")}, 7); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	if _, err := e.Put(ctx, &storage.Entity{Kind: "source", ID: "missing", Doc: doc("x")}, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("update of missing: %v", err)
	}
	if v, err = e.Put(ctx, &storage.Entity{Kind: "source", ID: "web", Doc: doc("Web 2")}, 1); err != nil || v != 2 {
		t.Fatalf("update: %d %v", v, err)
	}
	if v, err = e.Put(ctx, &storage.Entity{Kind: "source", ID: "web", Doc: doc("Web 3")}, -1); err != nil || v != 3 {
		t.Fatalf("upsert: %d %v", v, err)
	}
	got, err := e.Get(ctx, "source", "web")
	if err != nil || got.Version != 3 || string(got.Doc) != string(doc("Web 3")) {
		t.Fatalf("get: %+v %v", got, err)
	}
	for _, id := range []string{"b", "a", "c"} {
		if _, err := e.Put(ctx, &storage.Entity{Kind: "rule", ID: id, Doc: doc(id)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	list, total, err := e.List(ctx, "rule", storage.ListOptions{Page: storage.Page{Limit: 2}})
	if err != nil || total != 3 || len(list) != 2 || list[0].ID != "a" || list[1].ID != "b" {
		t.Fatalf("list: total=%d %v %v", total, list, err)
	}
	if err := e.Delete(ctx, "rule", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Get(ctx, "rule", "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted entity still there: %v", err)
	}
	if _, total, _ := e.List(ctx, "source", storage.ListOptions{}); total != 1 {
		t.Fatalf("kinds are not separate: %d sources", total)
	}
}

func testFindByKey(t *testing.T, s storage.Store) {
	ctx := context.Background()
	b := &storage.Batch{}
	for i, email := range []string{"a@example.com", "b@example.com", "a@example.com", "a@example.com"} {
		p := domain.NewProfile(fmt.Sprint("k", i), domain.NewTime(time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC)))
		p.Data["contact"] = map[string]any{"email": map[string]any{"main": email}}
		if i == 3 {
			p.Metadata.MergedInto = "k0" // tombstones are never candidates
		}
		b.Profiles = append(b.Profiles, p)
	}
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.Profiles().FindByKey(ctx, "data.contact.email.main", "a@example.com", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "k0" || got[1].ID != "k2" {
		t.Fatalf("FindByKey = %v", ids(got))
	}
	if got, _ := s.Profiles().FindByKey(ctx, "data.contact.email.main", "zzz", 10); len(got) != 0 {
		t.Fatalf("FindByKey(zzz) = %v", ids(got))
	}
	if _, err := s.Profiles().FindByKey(ctx, "data'; DROP TABLE x; --", "v", 10); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("unsafe path accepted: %v", err)
	}
}

func ids(ps []*domain.Profile) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}
