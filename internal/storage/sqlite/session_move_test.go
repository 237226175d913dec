package sqlite_test

import (
	"context"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

// TestSessionChangesProfile: a session upsert leaves profile_id out of its SET list unless
// the profile changed (docs/performance.md); a session moved to another profile and back
// must still be stored, and found through sessions_profile, under its new profile.
func TestSessionChangesProfile(t *testing.T) {
	s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for i, p := range []string{"p1", "p1", "p2", "p2", "p1"} {
		b := storagetest.SampleBatch(p, "s1")
		b.Sessions[0].Metadata.Status = []string{"a", "b", "c", "d", "e"}[i]
		if err := s.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
		x, err := s.Sessions().Get(ctx, "s1")
		if err != nil || x.Profile.ID != p || x.Metadata.Status != b.Sessions[0].Metadata.Status {
			t.Fatal(i, x, err)
		}
		var col string
		var n int
		s.DB().QueryRow(`SELECT profile_id FROM sessions WHERE id='s1'`).Scan(&col)
		s.DB().QueryRow(`SELECT count(*) FROM sessions INDEXED BY sessions_profile WHERE profile_id=?`, p).Scan(&n)
		if col != p || n != 1 {
			t.Fatal(i, col, n)
		}
	}
}
