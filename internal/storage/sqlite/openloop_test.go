package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

// BenchmarkOpenLoopCommit offers commits at a fixed rate (open loop: a commit is started
// when it is due, whether or not earlier ones have finished) and reports the latency of
// each commit from the moment it was due, as /track's callers see it at a load below
// saturation. Each commit updates a profile and session chosen at random among 50,000
// stored and adds an event, so the WAL fills and is checkpointed as in `make bench`.
// The rate is SQLITE_BENCH_RATE commits per second (default 1500); run it with
// -benchtime Nx so that it lasts several seconds (N/rate), e.g. -benchtime 15000x.
// It also reports the largest size of the WAL file seen (sampled every 5 ms).
func BenchmarkOpenLoopCommit(b *testing.B) {
	const stored = 50000
	rate := 1500.0
	if v, err := strconv.ParseFloat(os.Getenv("SQLITE_BENCH_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	dir := b.TempDir()
	var commits, batches atomic.Int64
	s, err := sqlite.Open(sqlite.Config{Dir: dir, OnBatch: func(c, _ int) { commits.Add(int64(c)); batches.Add(1) }})
	if err != nil {
		b.Fatal(err)
	}
	all := &storage.Batch{}
	for i := range stored {
		one := storagetest.SampleBatch(fmt.Sprint("p", i), fmt.Sprint("s", i))
		all.Profiles = append(all.Profiles, one.Profiles...)
		all.Sessions = append(all.Sessions, one.Sessions...)
	}
	if err := s.Commit(context.Background(), all); err != nil {
		b.Fatal(err)
	}
	// Closing checkpoints and removes the set-up's large WAL, so that the WAL's size seen
	// below is the one the commits under test make.
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if s, err = sqlite.Open(sqlite.Config{Dir: dir, OnBatch: func(c, _ int) { commits.Add(int64(c)); batches.Add(1) }}); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// The batches are built before the clock starts: the figure is the store's.
	reqs := make([]*storage.Batch, b.N)
	for i := range reqs {
		v := rand.IntN(stored)
		reqs[i] = storagetest.SampleBatch(fmt.Sprint("p", v), fmt.Sprint("s", v), fmt.Sprint("e", i))
	}
	lat := make([]time.Duration, b.N)
	var walMax atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
				if fi, err := os.Stat(filepath.Join(dir, sqlite.FileName+"-wal")); err == nil && fi.Size() > walMax.Load() {
					walMax.Store(fi.Size())
				}
			}
		}
	}()
	interval := time.Duration(float64(time.Second) / rate)
	commits.Store(0)
	batches.Store(0)
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for i := range b.N {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Commit(context.Background(), reqs[i]); err != nil {
				b.Error(err)
			}
			// From when it was due, not from when it was started: a late start is waiting too.
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	close(stopSampling)
	<-sampled
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.90), "p90-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "done/s")
	b.ReportMetric(float64(commits.Load())/float64(max(1, batches.Load())), "commits/batch")
	b.ReportMetric(float64(walMax.Load())/(1<<20), "wal-max-MB")
}
