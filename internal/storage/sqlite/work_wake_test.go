package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// TestDelayedWorkWakesNobody: work due later than a waiting consumer reads again by
// itself (a session's end check, due SESSION_TIMEOUT after each new session) does not
// wake it; work due now, or due before that, does — even with a poll of an hour.
func TestDelayedWorkWakesNobody(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	q := s.Queue(QueueOptions{Lease: time.Minute, Poll: time.Hour})
	got := make(chan *storage.Job, 2)
	go func() {
		for range 2 {
			j, err := q.Dequeue(ctx, "later")
			if err != nil {
				t.Error(err)
				return
			}
			if err := q.Ack(ctx, j); err != nil {
				t.Error(err)
			}
			got <- j
		}
	}()
	commit := func(id string, delay time.Duration) {
		t.Helper()
		if err := s.Commit(ctx, &storage.Batch{Work: []*storage.WorkItem{{ID: id, Topic: "later", Payload: []byte(`{}`), Delay: delay}}}); err != nil {
			t.Fatal(err)
		}
	}
	commit("first-far", 30*time.Minute) // the consumer now waits 30 minutes
	for q.reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let it settle into its wait
	before := q.reads.Load()
	for i := range 200 {
		commit(fmt.Sprint("far-", i), 31*time.Minute)
	}
	if n := q.reads.Load() - before; n > 0 {
		t.Fatalf("200 commits of work due in 31 minutes made the waiting consumer read %d times", n)
	}
	// Due sooner than its wait: it wakes and takes it when due; then work due now.
	commit("soon", 100*time.Millisecond)
	commit("now", 0)
	deadline := time.After(30 * time.Second)
	var ids []string
	for len(ids) < 2 {
		select {
		case j := <-got:
			ids = append(ids, j.ID)
		case <-deadline:
			t.Fatalf("the consumer slept past work due before its wait ended (took %v)", ids)
		}
	}
	if ids[0] != "now" || ids[1] != "soon" {
		t.Fatalf("taken %v, want [now soon]", ids)
	}
}
