package storage_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

func TestKindCache(t *testing.T) {
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put := func(id string) {
		if _, err := store.Entities().Put(ctx, &storage.Entity{Kind: "thing", ID: id, Doc: []byte(`{}`)}, -1); err != nil {
			t.Fatal(err)
		}
	}
	var loads atomic.Int32
	c := storage.NewKindCache(store.Entities(), "thing", time.Hour, func(ents []*storage.Entity) (int, error) {
		loads.Add(1)
		return len(ents), nil
	})
	put("a")
	if n, err := c.Get(ctx); err != nil || n != 1 {
		t.Fatalf("first get: %d %v", n, err)
	}
	put("b")
	if n, _ := c.Get(ctx); n != 1 || loads.Load() != 1 {
		t.Fatalf("within the TTL the snapshot is kept: %d, %d loads", n, loads.Load())
	}
	c.Invalidate()
	if n, _ := c.Get(ctx); n != 2 || loads.Load() != 2 {
		t.Fatalf("after Invalidate: %d, %d loads", n, loads.Load())
	}
	// A failing reload keeps the last snapshot rather than failing requests, also
	// after Invalidate (internal/cache's policy).
	store.Close()
	c.Invalidate()
	if n, err := c.Get(ctx); err != nil || n != 2 {
		t.Fatalf("invalidated, failing reload: %d %v; want the last snapshot", n, err)
	}
	short := storage.NewKindCache(store.Entities(), "thing", time.Nanosecond, func(ents []*storage.Entity) (int, error) { return len(ents), nil })
	if _, err := short.Get(ctx); err == nil {
		t.Fatal("closed store loaded")
	}
}

func TestKindCacheKeepsStaleOnError(t *testing.T) {
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := store.Entities().Put(ctx, &storage.Entity{Kind: "thing", ID: "a", Doc: []byte(`{}`)}, -1); err != nil {
		t.Fatal(err)
	}
	c := storage.NewKindCache(store.Entities(), "thing", time.Millisecond, func(ents []*storage.Entity) (int, error) { return len(ents), nil })
	if n, err := c.Get(ctx); err != nil || n != 1 {
		t.Fatalf("get: %d %v", n, err)
	}
	store.Close()
	time.Sleep(2 * time.Millisecond)
	if n, err := c.Get(ctx); err != nil || n != 1 {
		t.Fatalf("stale snapshot not kept: %d %v", n, err)
	}
}

// countingEntities counts List calls and fails them while down, as a store in an
// outage does.
type countingEntities struct {
	storage.Entities
	lists atomic.Int32
	down  atomic.Bool
}

func (e *countingEntities) List(ctx context.Context, kind string, o storage.ListOptions) ([]*storage.Entity, int64, error) {
	e.lists.Add(1)
	if e.down.Load() {
		return nil, 0, fmt.Errorf("listing %s: %w", kind, storage.ErrUnavailable)
	}
	return e.Entities.List(ctx, kind, o)
}

// TestStorageOutageDoesNotMultiplyReloads: during an outage, requests keep being
// answered from the last snapshot and the store is asked again once per back-off, not
// once per request (the workflow's rule index used to reload on every request).
func TestStorageOutageDoesNotMultiplyReloads(t *testing.T) {
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	if _, err := store.Entities().Put(ctx, &storage.Entity{Kind: "thing", ID: "a", Doc: []byte(`{}`)}, -1); err != nil {
		t.Fatal(err)
	}
	ents := &countingEntities{Entities: store.Entities()}
	c := storage.NewKindCache(ents, "thing", time.Nanosecond, func(es []*storage.Entity) (int, error) { return len(es), nil })
	if n, err := c.Get(ctx); err != nil || n != 1 {
		t.Fatalf("get: %d %v", n, err)
	}
	ents.down.Store(true)
	const requests = 200
	var wg sync.WaitGroup
	for range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := c.Get(ctx); err != nil || n != 1 {
				t.Errorf("during the outage: %d %v; want the last snapshot", n, err)
			}
		}()
	}
	wg.Wait()
	// One initial load, one failed reload; the back-off (1 s) covers the rest unless
	// the machine stalls for seconds.
	if n := ents.lists.Load(); n > 5 {
		t.Fatalf("%d store reads for %d requests during an outage", n, requests)
	}
}
