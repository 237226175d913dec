package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// QueueOptions are the settings RunQueue opens queues with: short, so that the suite
// runs quickly.
type QueueOptions struct {
	Lease         time.Duration
	MaxDeliveries int
}

// RunQueue checks a storage.Queue. open must return a queue on an empty namespace with
// the given options; RunQueue does not close it (use t.Cleanup).
func RunQueue(t *testing.T, open func(t *testing.T, o QueueOptions) storage.Queue) {
	o := QueueOptions{Lease: 300 * time.Millisecond, MaxDeliveries: 3}
	ctx := context.Background()
	dequeue := func(t *testing.T, q storage.Queue, topic string, wait time.Duration) *storage.Job {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		j, err := q.Dequeue(c, topic)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil
		}
		if err != nil {
			t.Fatalf("dequeue: %v", err)
		}
		return j
	}
	t.Run("FIFOAndAck", func(t *testing.T) {
		q := open(t, o)
		var ids []string
		for i := 0; i < 3; i++ {
			id, err := q.Enqueue(ctx, "t", []byte(fmt.Sprint("job", i)), 0)
			if err != nil || id == "" {
				t.Fatalf("enqueue: %q %v", id, err)
			}
			ids = append(ids, id)
		}
		for i := 0; i < 3; i++ {
			j := dequeue(t, q, "t", 2*time.Second)
			if j == nil || j.ID != ids[i] || string(j.Payload) != fmt.Sprint("job", i) || j.Deliveries != 1 || j.Topic != "t" || j.Enqueued.IsZero() {
				t.Fatalf("job %d: %+v", i, j)
			}
			if err := q.Ack(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		if j := dequeue(t, q, "t", 3*o.Lease); j != nil {
			t.Fatalf("acknowledged job delivered again: %+v", j)
		}
		if j := dequeue(t, q, "other", 50*time.Millisecond); j != nil {
			t.Fatalf("topics are not separate: %+v", j)
		}
	})
	t.Run("RedeliveredAfterLease", func(t *testing.T) {
		q := open(t, o)
		id, _ := q.Enqueue(ctx, "t", []byte("x"), 0)
		j := dequeue(t, q, "t", 2*time.Second)
		if j == nil || j.ID != id {
			t.Fatalf("first delivery: %+v", j)
		}
		// Not acknowledged: the consumer "died". Within the lease nobody else gets it.
		if j2 := dequeue(t, q, "t", o.Lease/3); j2 != nil {
			t.Fatalf("delivered twice within the lease: %+v", j2)
		}
		j2 := dequeue(t, q, "t", 5*o.Lease)
		if j2 == nil || j2.ID != id || j2.Deliveries != 2 {
			t.Fatalf("redelivery: %+v", j2)
		}
		if err := q.Ack(ctx, j2); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("DelayAndRetry", func(t *testing.T) {
		q := open(t, o)
		start := time.Now()
		id, _ := q.Enqueue(ctx, "t", []byte("later"), 400*time.Millisecond)
		if j := dequeue(t, q, "t", 100*time.Millisecond); j != nil {
			t.Fatalf("delayed job delivered early: %+v", j)
		}
		j := dequeue(t, q, "t", 3*time.Second)
		if j == nil || j.ID != id || time.Since(start) < 390*time.Millisecond {
			t.Fatalf("delayed job: %+v after %v", j, time.Since(start))
		}
		if err := q.Retry(ctx, j, 200*time.Millisecond, "boom"); err != nil {
			t.Fatal(err)
		}
		if j := dequeue(t, q, "t", 50*time.Millisecond); j != nil {
			t.Fatalf("retried job delivered before its delay: %+v", j)
		}
		j = dequeue(t, q, "t", 3*time.Second)
		if j == nil || j.ID != id || j.Deliveries != 2 || j.LastError != "boom" || string(j.Payload) != "later" {
			t.Fatalf("retried job: %+v", j)
		}
		q.Ack(ctx, j)
	})
	t.Run("DeadLetter", func(t *testing.T) {
		q := open(t, o)
		id, _ := q.Enqueue(ctx, "t", []byte("poison"), 0)
		for i := 1; i <= o.MaxDeliveries; i++ {
			j := dequeue(t, q, "t", 3*time.Second)
			if j == nil || j.ID != id || j.Deliveries != i {
				t.Fatalf("delivery %d: %+v", i, j)
			}
			if i < o.MaxDeliveries {
				if err := q.Retry(ctx, j, 0, fmt.Sprint("fail ", i)); err != nil {
					t.Fatal(err)
				}
			}
			// The last delivery is abandoned: its lease runs out.
		}
		if j := dequeue(t, q, "t", 4*o.Lease); j != nil {
			t.Fatalf("job delivered more than %d times: %+v", o.MaxDeliveries, j)
		}
		dead, total, err := q.Dead(ctx, "t", storage.Page{Limit: 10})
		if err != nil || total != 1 || len(dead) != 1 || dead[0].ID != id || string(dead[0].Payload) != "poison" {
			t.Fatalf("dead letters: %d %+v %v", total, dead, err)
		}
		if dead[0].LastError == "" {
			t.Errorf("dead letter without a reason: %+v", dead[0])
		}
	})
	t.Run("ConcurrentConsumers", func(t *testing.T) {
		q := open(t, QueueOptions{Lease: 5 * time.Second, MaxDeliveries: 3})
		const n = 200
		for i := 0; i < n; i++ {
			if _, err := q.Enqueue(ctx, "t", []byte(fmt.Sprint(i)), 0); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
					j, err := q.Dequeue(c, "t")
					cancel()
					if err != nil {
						return
					}
					mu.Lock()
					seen[string(j.Payload)]++
					mu.Unlock()
					if err := q.Ack(ctx, j); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("%d distinct jobs delivered, want %d", len(seen), n)
		}
		for p, c := range seen {
			if c != 1 {
				t.Fatalf("job %s delivered %d times within its lease", p, c)
			}
		}
	})
}
