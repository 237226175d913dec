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

func TestDeadLettersBuryAndReplay(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := s.Queue(sqlite.QueueOptions{Lease: time.Minute})
	for _, id := range []string{"a", "b"} {
		if err := s.Commit(ctx, &storage.Batch{Work: []*storage.WorkItem{{ID: id, Topic: "t", Payload: []byte(id)}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		j := dequeue(t, q, "t", 2*time.Second)
		if j == nil {
			t.Fatal("no job")
		}
		if err := q.Bury(ctx, j, "receiver answered 400"); err != nil {
			t.Fatal(err)
		}
	}
	dead, total, err := q.Dead(ctx, "t", storage.Page{Limit: 10})
	if err != nil || total != 2 || len(dead) != 2 || dead[0].ID != "b" || dead[0].LastError != "receiver answered 400" {
		t.Fatalf("dead %d %+v %v", total, dead, err)
	}
	if _, err := q.Replay(ctx, "t", "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("replay of an unknown id: %v", err)
	}
	if n, err := q.Replay(ctx, "t", "a"); err != nil || n != 1 {
		t.Fatalf("replay one: %d %v", n, err)
	}
	j := dequeue(t, q, "t", 2*time.Second)
	if j == nil || j.ID != "a" || j.Deliveries != 1 {
		t.Fatalf("replayed: %+v", j)
	}
	q.Ack(ctx, j)
	if n, err := q.Replay(ctx, "t", ""); err != nil || n != 1 {
		t.Fatalf("replay all: %d %v", n, err)
	}
	if _, total, _ := q.Dead(ctx, "t", storage.Page{}); total != 0 {
		t.Fatalf("%d dead letters left", total)
	}
	if j := dequeue(t, q, "t", 2*time.Second); j == nil || j.ID != "b" {
		t.Fatalf("replayed: %+v", j)
	}
}

func TestDeliveryLog(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := s.DeliveryLog()
	for i := 0; i < 3; i++ {
		if err := l.Record(ctx, []storage.DeliveryAttempt{{Destination: "crm", Item: "e/crm", Attempt: i + 1, Outcome: "failed", Status: 500}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.SetLast(ctx, "crm", "p1", "2026-01-02", "h2"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetLast(ctx, "crm", "p1", "2026-01-01", "h1"); err != nil { // older: kept out
		t.Fatal(err)
	}
	if v, h, err := l.Last(ctx, "crm", "p1"); err != nil || v != "2026-01-02" || h != "h2" {
		t.Fatalf("last %q %q %v", v, h, err)
	}
	// Record does not wait; SetLast did, after it.
	got, total, err := l.List(ctx, "crm", storage.Page{Limit: 2})
	if err != nil || total != 3 || len(got) != 2 || got[0].Attempt != 3 || got[0].Status != 500 {
		t.Fatalf("list %d %+v %v", total, got, err)
	}
}
