package elastic_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// BenchmarkCommit measures one /track-sized batch (profile, session, event) committed
// by parallel callers, as the pipeline does.
func BenchmarkCommit(b *testing.B) {
	s := openB(b)
	ctx := context.Background()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			p := domain.NewProfile(fmt.Sprint("bp", i%100), domain.Now())
			sess := &domain.Session{ID: fmt.Sprint("bs", i%100), Profile: domain.Ref{ID: p.ID}}
			ev := &domain.Event{ID: fmt.Sprint("be", i), Type: "page-view", Profile: domain.Ref{ID: p.ID}}
			ev.Metadata.Time.Insert = domain.Now()
			if err := s.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{p}, Sessions: []*domain.Session{sess}, Events: []*domain.Event{ev}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkGet(b *testing.B) {
	s := openB(b)
	ctx := context.Background()
	p := domain.NewProfile("g1", domain.Now())
	if err := s.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{p}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Profiles().Get(ctx, "g1"); err != nil {
			b.Fatal(err)
		}
	}
}
