package sqlite_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// BenchmarkWorkQueue: dequeue and acknowledge with 8 consumers, the embedded queue's
// own cost per delivery.
func BenchmarkWorkQueue(b *testing.B) {
	s, err := sqlite.Open(sqlite.Config{Dir: b.TempDir(), Sync: "normal"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var items []*storage.WorkItem
	for i := 0; i < b.N; i++ {
		items = append(items, &storage.WorkItem{ID: fmt.Sprint(i), Topic: "t", Payload: []byte(`{"a":1}`)})
		if len(items) == 200 || i == b.N-1 {
			if err := s.Commit(ctx, &storage.Batch{Work: items}); err != nil {
				b.Fatal(err)
			}
			items = nil
		}
	}
	q := s.Queue(sqlite.QueueOptions{Lease: time.Minute})
	b.ResetTimer()
	var wg sync.WaitGroup
	var mu sync.Mutex
	left := b.N
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if left == 0 {
					mu.Unlock()
					return
				}
				left--
				mu.Unlock()
				j, err := q.Dequeue(ctx, "t")
				if err != nil {
					b.Error(err)
					return
				}
				q.Ack(ctx, j)
			}
		}()
	}
	wg.Wait()
}
