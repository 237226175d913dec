package sqlite_test

import (
	"context"
	"errors"
	"strings"
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
