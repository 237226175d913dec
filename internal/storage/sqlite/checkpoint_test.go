package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

// TestWriterCheckpointsBoundWAL commits many random updates and checks that the writer's
// own checkpoints keep the WAL file bounded: when its queue runs empty after each
// commit (idle), when it never does (32 committers), and while a reader holds a read
// transaction open on an old snapshot for part of the run (the checkpoint cannot copy
// everything then and the WAL cannot restart until the reader is gone).
func TestWriterCheckpointsBoundWAL(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	idle, hard := idleCheckpointFrames, hardCheckpointFrames
	idleCheckpointFrames, hardCheckpointFrames = 100, 400
	t.Cleanup(func() { idleCheckpointFrames, hardCheckpointFrames = idle, hard })
	const frame = 24 + 4096 // WAL frame header + page
	for _, tc := range []struct {
		name       string
		committers int
		commits    int // per committer
		holdReader bool
	}{
		{"idle", 1, 1500, false},
		{"under load", 32, 80, false},
		{"reader on an old snapshot", 8, 200, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(Config{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			for i := range 2000 {
				if err := s.Commit(ctx, storagetest.SampleBatch(fmt.Sprint("p", i), fmt.Sprint("s", i))); err != nil {
					t.Fatal(err)
				}
			}
			walSize := func() int64 {
				fi, err := os.Stat(filepath.Join(dir, FileName+"-wal"))
				if err != nil {
					t.Fatal(err)
				}
				return fi.Size()
			}
			var release func()
			if tc.holdReader {
				tx, err := s.r.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				var n int
				if err := tx.QueryRow(`SELECT count(*) FROM profiles`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				release = func() { tx.Rollback() }
			}
			var wg sync.WaitGroup
			var maxWAL int64
			var mu sync.Mutex
			for c := range tc.committers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range tc.commits {
						if tc.holdReader && c == 0 && i == tc.commits/2 {
							release()
						}
						v := rand.IntN(2000)
						if err := s.Commit(ctx, storagetest.SampleBatch(fmt.Sprint("p", v), fmt.Sprint("s", v), fmt.Sprint("e", c, "-", i))); err != nil {
							t.Error(err)
							return
						}
						if i%10 == 0 {
							mu.Lock()
							maxWAL = max(maxWAL, walSize())
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			if s.checkpoints.Load() == 0 {
				t.Fatal("the writer never checkpointed")
			}
			if tc.holdReader && s.partialCheckpoints.Load() == 0 {
				t.Error("no checkpoint was held back by the reader's snapshot")
			}
			// Set-up and commits together: the WAL never holds much more than the hard
			// bound plus one batch, however long the run; with a reader holding the
			// WAL, what was written while it held it.
			limit := int64(3*hardCheckpointFrames) * frame
			if tc.holdReader {
				limit = 0 // checked after the reader is gone, below
			}
			if limit > 0 && maxWAL > limit {
				t.Errorf("WAL reached %d bytes (%d frames), bound %d frames", maxWAL, maxWAL/frame, 3*hardCheckpointFrames)
			}
			// After the run (and the reader), the WAL restarts and stops growing: more
			// commits keep it where it is.
			before := walSize()
			for i := range 1000 {
				v := rand.IntN(2000)
				if err := s.Commit(ctx, storagetest.SampleBatch(fmt.Sprint("p", v), fmt.Sprint("s", v), fmt.Sprint("x", i))); err != nil {
					t.Fatal(err)
				}
			}
			if after := walSize(); after > max(before, int64(3*hardCheckpointFrames)*frame) {
				t.Errorf("WAL grew from %d to %d bytes over 1,000 more commits", before, after)
			}
			var stored int
			if err := s.r.QueryRow(`SELECT count(*) FROM events`).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if want := tc.committers*tc.commits + 1000; stored != want {
				t.Errorf("%d events stored, want %d", stored, want)
			}
			t.Logf("checkpoints %d (partial %d), WAL at most %d frames", s.checkpoints.Load(), s.partialCheckpoints.Load(), maxWAL/frame)
		})
	}
}

// BenchmarkCheckpoint measures one PASSIVE checkpoint on the writer connection after a
// number of single commits (each a profile and session chosen at random among 50,000
// stored, plus an event): how long the writer is busy with it, which is how long a
// request arriving meanwhile waits for it. Reported per checkpoint: WAL frames copied,
// wall ms and cpu-µs (the commits themselves are not timed).
func BenchmarkCheckpoint(b *testing.B) {
	for _, commits := range []int{30, 120, 480} {
		b.Run(fmt.Sprint("commits=", commits), func(b *testing.B) {
			idle, hard := idleCheckpointFrames, hardCheckpointFrames
			idleCheckpointFrames, hardCheckpointFrames = 1<<30, 1<<28 // only this benchmark checkpoints
			defer func() { idleCheckpointFrames, hardCheckpointFrames = idle, hard }()
			const stored = 50000
			s, err := Open(Config{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			all := storagetest.SampleBatch("p0", "s0")
			for i := 1; i < stored; i++ {
				one := storagetest.SampleBatch(fmt.Sprint("p", i), fmt.Sprint("s", i))
				all.Profiles = append(all.Profiles, one.Profiles...)
				all.Sessions = append(all.Sessions, one.Sessions...)
			}
			if err := s.Commit(ctx, all); err != nil {
				b.Fatal(err)
			}
			ckpt := func() (frames int) {
				var busy, log, done int
				if err := s.w.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
					b.Fatal(err)
				}
				return done
			}
			ckpt()
			var frames int
			var cpu time.Duration
			e := 0
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				for range commits {
					v := rand.IntN(stored)
					e++
					if err := s.Commit(ctx, storagetest.SampleBatch(fmt.Sprint("p", v), fmt.Sprint("s", v), fmt.Sprint("e", e))); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				c0 := floorCPU()
				frames += ckpt()
				cpu += floorCPU() - c0
			}
			b.StopTimer()
			b.ReportMetric(float64(frames)/float64(b.N), "frames/ckpt")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/ckpt")
		})
	}
}
