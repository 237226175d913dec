package storage_test

import (
	"context"
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
	// A failing reload keeps the last snapshot rather than failing requests.
	store.Close()
	c.Invalidate()
	if _, err := c.Get(ctx); err == nil {
		t.Fatal("no snapshot and no store, yet no error")
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
