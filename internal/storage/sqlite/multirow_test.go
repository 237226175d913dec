package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

// TestWriteMultiRow writes batches of commits straight through Store.write, which puts
// profiles and events into multi-row statements of up to rowsPerStmt rows: the rows
// stored, the events counted as new, the last of two updates of one profile in a
// transaction winning, and duplicate event ids stored once.
func TestWriteMultiRow(t *testing.T) {
	for _, tc := range []struct {
		name       string
		commits    []*storage.Batch
		wantStored int // new events
		wantEvents int // events in the table afterwards
	}{
		{"one commit, one event", []*storage.Batch{storagetest.SampleBatch("p1", "s1", "e1")}, 1, 1},
		{"no events", []*storage.Batch{storagetest.SampleBatch("p1", "s1")}, 0, 0},
		{"more events than one statement takes", []*storage.Batch{storagetest.SampleBatch("p1", "s1", ids("e", 2*rowsPerStmt+5)...)}, 2*rowsPerStmt + 5, 2*rowsPerStmt + 5},
		{"exactly one statement's worth", []*storage.Batch{storagetest.SampleBatch("p1", "s1", ids("e", rowsPerStmt)...)}, rowsPerStmt, rowsPerStmt},
		{"many commits", manyCommits(rowsPerStmt + 3), rowsPerStmt + 3, rowsPerStmt + 3},
		{"duplicate event ids", []*storage.Batch{storagetest.SampleBatch("p1", "s1", "e1", "e2"), storagetest.SampleBatch("p2", "s2", "e2", "e3")}, 3, 3},
		{"same profile twice", []*storage.Batch{viewed(storagetest.SampleBatch("p1", "s1", "e1"), 1), viewed(storagetest.SampleBatch("p1", "s1", "e2"), 7)}, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(Config{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var reqs []*commitReq
			for _, b := range tc.commits {
				r, err := encodeBatch(b)
				if err != nil {
					t.Fatal(err)
				}
				reqs = append(reqs, r)
			}
			// Nothing is committed through the queue here, so the writer goroutine
			// stays idle and the test may call write in its place.
			stored, err := s.write(reqs)
			if err != nil {
				t.Fatal(err)
			}
			if stored != tc.wantStored {
				t.Errorf("write counted %d new events, want %d", stored, tc.wantStored)
			}
			var n int
			if err := s.r.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tc.wantEvents {
				t.Errorf("%d events stored, want %d", n, tc.wantEvents)
			}
			ctx := context.Background()
			for _, b := range tc.commits {
				for _, p := range b.Profiles {
					got, err := s.Profiles().Get(ctx, p.ID)
					if err != nil {
						t.Fatal(err)
					}
					// The last commit naming the profile wins.
					var want int64
					for _, c := range tc.commits {
						for _, q := range c.Profiles {
							if q.ID == p.ID {
								want = q.Stats.Views
							}
						}
					}
					if got.Stats.Views != want {
						t.Errorf("profile %s: views %d, want %d (the last update)", p.ID, got.Stats.Views, want)
					}
				}
				for _, x := range b.Sessions {
					if _, err := s.Sessions().Get(ctx, x.ID); err != nil {
						t.Errorf("session %s: %v", x.ID, err)
					}
				}
			}
		})
	}
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(prefix, i)
	}
	return out
}

func manyCommits(n int) []*storage.Batch {
	var out []*storage.Batch
	for i := range n {
		out = append(out, storagetest.SampleBatch(fmt.Sprint("p", i), fmt.Sprint("s", i), fmt.Sprint("e", i)))
	}
	return out
}

func viewed(b *storage.Batch, views int64) *storage.Batch {
	b.Profiles[0].Stats.Views = views
	return b
}
