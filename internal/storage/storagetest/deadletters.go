package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// DeadLetterQueue is a queue with dead letters an operator can list and replay.
type DeadLetterQueue interface {
	storage.Queue
	storage.DeadLetters
}

// RunDeadLetters checks Bury, Replay (one and all) and Depth. open returns a queue on
// an empty namespace whose leases last at least a minute.
func RunDeadLetters(t *testing.T, open func(t *testing.T) DeadLetterQueue) {
	ctx := context.Background()
	q := open(t)
	dequeue := func() *storage.Job {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		j, err := q.Dequeue(c, "t")
		if err != nil {
			t.Fatalf("dequeue: %v", err)
		}
		return j
	}
	for _, p := range []string{"a", "b"} {
		if _, err := q.Enqueue(ctx, "t", []byte(p), 0); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := q.Depth(ctx, "t"); err != nil || n != 2 {
		t.Fatalf("depth %d %v, want 2", n, err)
	}
	var ids []string
	for i := 0; i < 2; i++ {
		j := dequeue()
		ids = append(ids, j.ID)
		if err := q.Bury(ctx, j, "receiver answered 400"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := q.Depth(ctx, "t"); err != nil || n != 0 {
		t.Fatalf("depth after burying %d %v, want 0", n, err)
	}
	dead, total, err := q.Dead(ctx, "t", storage.Page{Limit: 10})
	if err != nil || total != 2 || len(dead) != 2 || dead[0].ID != ids[1] || dead[0].LastError != "receiver answered 400" || string(dead[0].Payload) != "b" {
		t.Fatalf("dead letters %d %+v %v", total, dead, err)
	}
	if _, err := q.Replay(ctx, "t", "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("replay of an unknown id: %v", err)
	}
	if n, err := q.Replay(ctx, "t", ids[0]); err != nil || n != 1 {
		t.Fatalf("replay one: %d %v", n, err)
	}
	j := dequeue()
	if j.ID != ids[0] || j.Deliveries != 1 || string(j.Payload) != "a" || time.Since(j.Enqueued) > time.Minute {
		t.Fatalf("replayed job %+v", j)
	}
	if err := q.Ack(ctx, j); err != nil {
		t.Fatal(err)
	}
	if n, err := q.Replay(ctx, "t", ""); err != nil || n != 1 {
		t.Fatalf("replay all: %d %v", n, err)
	}
	if _, total, _ := q.Dead(ctx, "t", storage.Page{}); total != 0 {
		t.Fatalf("%d dead letters left after replaying all", total)
	}
	if j := dequeue(); j.ID != ids[1] {
		t.Fatalf("replayed job %+v", j)
	}
}

// RunDeliveryLog checks a storage.DeliveryLog on an empty namespace. Record may
// return before the attempt is visible; List is polled.
func RunDeliveryLog(t *testing.T, l storage.DeliveryLog) {
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := l.Record(ctx, []storage.DeliveryAttempt{{Destination: "crm", Item: "e:crm", Attempt: i + 1, Outcome: "failed", Status: 500}}); err != nil {
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
	if v, h, err := l.Last(ctx, "crm", "p2"); err != nil || v != "" || h != "" {
		t.Fatalf("last of another profile %q %q %v", v, h, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, total, err := l.List(ctx, "crm", storage.Page{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if total == 3 {
			if len(got) != 2 || got[0].Attempt != 3 || got[0].Status != 500 || got[1].Attempt != 2 {
				t.Fatalf("list %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts recorded, want 3", total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, total, _ := l.List(ctx, "other", storage.Page{Limit: 10}); total != 0 {
		t.Fatalf("another destination has %d attempts", total)
	}
}
