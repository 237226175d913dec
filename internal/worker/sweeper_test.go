package worker_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/worker"
)

// memOutbox is an outbox whose Remove can fail (the sweeper "crashed" before it).
type memOutbox struct {
	mu        sync.Mutex
	items     map[string]*storage.WorkItem
	failRm    bool
	failPend  bool
	removedBy int
}

func (o *memOutbox) Pending(_ context.Context, limit int) ([]*storage.WorkItem, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failPend {
		return nil, errors.New("search store down")
	}
	var ids []string
	for id := range o.items {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []*storage.WorkItem
	for _, id := range ids[:min(limit, len(ids))] {
		out = append(out, o.items[id])
	}
	return out, nil
}

func (o *memOutbox) Remove(_ context.Context, ids []string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failRm {
		return errors.New("crashed before the delete")
	}
	for _, id := range ids {
		delete(o.items, id)
	}
	o.removedBy++
	return nil
}

// onceQueue queues each id once, like redis.Queue.Put, and can fail like a Redis
// that is down.
type onceQueue struct {
	mu     sync.Mutex
	queued map[string]int
	down   bool
}

func (q *onceQueue) Put(_ context.Context, items []*storage.WorkItem) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.down {
		return 0, errors.New("redis down")
	}
	n := 0
	for _, it := range items {
		if q.queued[it.ID] == 0 {
			n++
		}
		q.queued[it.ID]++
	}
	return n, nil
}

// TestSweeperNeverLosesNorRequeues walks the hand-off through its failures: the queue
// down (nothing removed from the outbox), a crash between queueing and removing (the
// next sweep queues nothing again and removes them), the search store down.
func TestSweeperNeverLosesNorRequeues(t *testing.T) {
	ctx := context.Background()
	box := &memOutbox{items: map[string]*storage.WorkItem{}}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		box.items[id] = &storage.WorkItem{ID: id, Topic: "destination:x"}
	}
	q := &onceQueue{queued: map[string]int{}}
	s := worker.NewSweeper(box, q, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	s.Batch = 3

	steps := []struct {
		name               string
		down, failRm, pend bool
		handled, added     int
		wantErr            bool
		left               int
	}{
		{name: "queue down: the outbox keeps everything", down: true, wantErr: true, left: 5},
		{name: "crash after queueing, before removing", failRm: true, added: 3, wantErr: true, left: 5},
		{name: "next sweep: queued already, now removed", handled: 3, added: 0, left: 2},
		{name: "search store down", pend: true, wantErr: true, left: 2},
		{name: "the rest", handled: 2, added: 2, left: 0},
		{name: "empty", left: 0},
	}
	for _, st := range steps {
		q.down, box.failRm, box.failPend = st.down, st.failRm, st.pend
		h, a, err := s.SweepOnce(ctx)
		if (err != nil) != st.wantErr || h != st.handled || a != st.added || len(box.items) != st.left {
			t.Fatalf("%s: handled %d added %d err %v, %d left; want %d %d err=%v %d left",
				st.name, h, a, err, len(box.items), st.handled, st.added, st.wantErr, st.left)
		}
	}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		if q.queued[id] == 0 {
			t.Errorf("%s was never queued", id)
		}
	}
}
