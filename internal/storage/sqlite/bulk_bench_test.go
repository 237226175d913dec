package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// BenchmarkBulkEvents commits 1,000 events per operation (one Commit, as `make
// bench-scale` loads them), times spread over 60 days and 8 types: the write cost per
// event of the events table's indexes and of the event_counts triggers.
func BenchmarkBulkEvents(b *testing.B) {
	s, err := sqlite.Open(sqlite.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	types := []string{"page-view", "page-view", "page-view", "page-view", "product-view", "add-to-basket", "sign-in", "purchase"}
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Now()
	batch := func(n int) *storage.Batch {
		bt := &storage.Batch{}
		for j := range 1000 {
			at := domain.NewTime(now.Add(-time.Duration(rng.Int64N(int64(60 * 24 * time.Hour)))))
			pid := fmt.Sprint("p", rng.IntN(10000))
			e := &domain.Event{ID: fmt.Sprintf("e%d-%d", n, j), Type: types[rng.IntN(len(types))],
				Profile: domain.Ref{ID: pid}, Session: domain.EventSession{ID: "s" + pid}, Properties: map[string]any{"price": 12.0},
				Traits: map[string]any{}, Context: map[string]any{}, Data: map[string]any{}}
			e.Metadata.Time = domain.EventTime{Insert: at, Create: at}
			bt.Events = append(bt.Events, e)
		}
		return bt
	}
	ctx := context.Background()
	for i := range 20 { // a table of 20,000 events first
		if err := s.Commit(ctx, batch(-1-i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var cpu time.Duration
	for i := range b.N {
		bt := batch(i)
		c0 := cpuTime()
		if err := s.Commit(ctx, bt); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*1000), "cpu-µs/event")
}
