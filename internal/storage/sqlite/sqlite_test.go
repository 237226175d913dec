package sqlite_test

import (
	"context"
	"testing"

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
