package sqlite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

func TestWorkQueueConformance(t *testing.T) {
	storagetest.RunQueue(t, func(t *testing.T, o storagetest.QueueOptions) storage.Queue {
		s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.Queue(sqlite.QueueOptions{Lease: o.Lease, MaxDeliveries: o.MaxDeliveries, Poll: 100 * time.Millisecond})
	})
}

func dequeue(t *testing.T, q storage.Queue, topic string, wait time.Duration) *storage.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	j, err := q.Dequeue(ctx, topic)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestOutboxCommittedWithTheEvent: the work items of a Commit are in the same
// transaction as its documents, are deduplicated by id, and survive reopening the
// file (a restart), leased or not.
func TestOutboxCommittedWithTheEvent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ev := &domain.Event{ID: "e1", Type: "purchase", Profile: domain.Ref{ID: "p1"}, Session: domain.EventSession{ID: "s1"}}
	item := &storage.WorkItem{ID: "e1/crm", Topic: "dest:crm", Payload: []byte(`{"x":1}`)}
	for i := 0; i < 2; i++ { // a retried request queues nothing twice
		if err := s.Commit(ctx, &storage.Batch{Events: []*domain.Event{ev}, Work: []*storage.WorkItem{item}}); err != nil {
			t.Fatal(err)
		}
	}
	q := s.Queue(sqlite.QueueOptions{Lease: time.Minute})
	if n, err := q.Depth(ctx, "dest:crm"); err != nil || n != 1 {
		t.Fatalf("depth %d %v, want 1", n, err)
	}
	j := dequeue(t, q, "dest:crm", 2*time.Second)
	if j == nil || j.ID != "e1/crm" || string(j.Payload) != `{"x":1}` || j.Deliveries != 1 {
		t.Fatalf("job %+v", j)
	}
	// The process dies holding the lease: reopened, the job is due again.
	s.Close()
	s, err = sqlite.Open(sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q = s.Queue(sqlite.QueueOptions{Lease: time.Minute})
	j = dequeue(t, q, "dest:crm", 2*time.Second)
	if j == nil || j.ID != "e1/crm" {
		t.Fatalf("after restart: %+v", j)
	}
	if err := q.Ack(ctx, j); err != nil {
		t.Fatal(err)
	}
	if j := dequeue(t, q, "dest:crm", 300*time.Millisecond); j != nil {
		t.Fatalf("acknowledged job delivered again: %+v", j)
	}
}

func TestDeadLettersConformance(t *testing.T) {
	storagetest.RunDeadLetters(t, func(t *testing.T) storagetest.DeadLetterQueue {
		s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.Queue(sqlite.QueueOptions{Lease: time.Minute})
	})
}

func TestDeliveryLogConformance(t *testing.T) {
	s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storagetest.RunDeliveryLog(t, s.DeliveryLog())
}
