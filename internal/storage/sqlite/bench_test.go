package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

// BenchmarkGroupCommit commits one profile, session and event per operation from 32
// goroutines per CPU and reports how many commits shared each transaction.
func BenchmarkGroupCommit(b *testing.B) { benchCommit(b, 32) }

// BenchmarkGroupCommitIndexedPaths is BenchmarkGroupCommit with two INDEXED_PATHS, one
// the sample profile has (traits.plan) and one it lacks: the difference from
// BenchmarkGroupCommit is the write cost of the path indexes.
func BenchmarkGroupCommitIndexedPaths(b *testing.B) {
	benchCommit(b, 32, "traits.plan", "traits.tier")
}

// BenchmarkSingleCommit is the same from one goroutine: one transaction (and fsync)
// per commit, what a lightly loaded server pays.
func BenchmarkSingleCommit(b *testing.B) { benchCommit(b, 1) }

// BenchmarkGroupCommitReturning is BenchmarkGroupCommit with the bench's returning
// visitors: 50,000 stored profiles and sessions, each commit updating one of them chosen
// at random (and adding an event), so the pages a commit dirties are spread over the
// tables and indexes as in `make bench` with many profiles.
func BenchmarkGroupCommitReturning(b *testing.B) {
	const stored = 50000
	var commits, batches atomic.Int64
	s, err := sqlite.Open(sqlite.Config{Dir: b.TempDir(), OnBatch: func(c, _ int) { commits.Add(int64(c)); batches.Add(1) }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	all := &storage.Batch{}
	for i := range stored {
		one := storagetest.SampleBatch(fmt.Sprint("p", i), fmt.Sprint("s", i))
		all.Profiles = append(all.Profiles, one.Profiles...)
		all.Sessions = append(all.Sessions, one.Sessions...)
	}
	if err := s.Commit(context.Background(), all); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			v := rand.IntN(stored)
			if err := s.Commit(context.Background(), storagetest.SampleBatch(fmt.Sprint("p", v), fmt.Sprint("s", v), fmt.Sprint("e", i))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(commits.Load())/float64(max(1, batches.Load())), "commits/batch")
}

func benchCommit(b *testing.B, parallelism int, indexedPaths ...string) {
	var commits, batches atomic.Int64
	s, err := sqlite.Open(sqlite.Config{Dir: b.TempDir(), IndexedPaths: indexedPaths, OnBatch: func(c, _ int) { commits.Add(int64(c)); batches.Add(1) }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if err := s.Commit(context.Background(), storagetest.SampleBatch(fmt.Sprint("p", i%5000), fmt.Sprint("s", i%5000), fmt.Sprint("e", i))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(commits.Load())/float64(max(1, batches.Load())), "commits/batch")
}

// cpuTime is the process's user and system CPU time: on a shared machine, CPU per
// operation drifts less than wall time per operation.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGetProfileAndSession reads a stored profile and session by id, as the
// pipeline does for a returning visitor missing from its cache.
func BenchmarkGetProfileAndSession(b *testing.B) {
	s, err := sqlite.Open(sqlite.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const n = 2000
	for i := range n {
		if err := s.Commit(ctx, storagetest.SampleBatch(fmt.Sprint("p", i), fmt.Sprint("s", i), fmt.Sprint("e", i))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Sessions().Get(ctx, fmt.Sprint("s", i*7%n)); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Profiles().Get(ctx, fmt.Sprint("p", i*7%n)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}
