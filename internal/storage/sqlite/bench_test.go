package sqlite_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

// BenchmarkGroupCommit commits one profile, session and event per operation from 32
// goroutines per CPU and reports how many commits shared each transaction.
func BenchmarkGroupCommit(b *testing.B) {
	var commits, batches atomic.Int64
	s, err := sqlite.Open(sqlite.Config{Dir: b.TempDir(), OnBatch: func(c, _ int) { commits.Add(int64(c)); batches.Add(1) }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if err := s.Commit(context.Background(), storagetest.SampleBatch(fmt.Sprint("p", i%5000), fmt.Sprint("s", i%5000), fmt.Sprint("e", i))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(commits.Load())/float64(max(1, batches.Load())), "commits/batch")
}
