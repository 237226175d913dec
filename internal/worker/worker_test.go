package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/delivery"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/worker"
)

type rig struct {
	store *sqlite.Store
	q     *sqlite.Queue
	w     *worker.Worker
	got   sync.Map // idempotency key -> *atomic.Int64
	n     atomic.Int64
	rcv   *httptest.Server
}

func newRig(t testing.TB, status func() int) *rig {
	s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir(), Sync: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	r := &rig{store: s, q: s.Queue(sqlite.QueueOptions{Lease: time.Minute, MaxDeliveries: 1000})}
	r.rcv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		st := status()
		if st == 200 {
			c, _ := r.got.LoadOrStore(req.Header.Get(delivery.IdempotencyHeader), new(atomic.Int64))
			c.(*atomic.Int64).Add(1)
			r.n.Add(1)
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(r.rcv.Close)
	r.w, err = worker.New(worker.Config{Refresh: 100 * time.Millisecond, Backoff: 20 * time.Millisecond, MaxAge: time.Second, PauseAfter: -1},
		worker.Deps{Queue: r.q, Log: s.DeliveryLog(), Entities: s.Entities(), Sender: delivery.NewSender(netguard.New(netguard.Config{AllowPrivate: true})),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) destination(t testing.TB, id string, concurrency int) {
	d := domain.Destination{Events: true, Concurrency: concurrency, Webhook: &domain.DestinationWebhook{URL: r.rcv.URL, Method: "POST", Timeout: "5s"}}
	d.ID, d.Name, d.Enabled = id, id, true
	doc, _ := json.Marshal(d)
	if _, err := r.store.Entities().Put(context.Background(), &storage.Entity{Kind: delivery.EntityKind, ID: id, Doc: doc}, 0); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) enqueue(t testing.TB, dest string, from, n int) {
	var items []*storage.WorkItem
	for i := from; i < from+n; i++ {
		it := delivery.Item{Destination: dest, Kind: delivery.KindEvent, Key: "ev-" + strconv.Itoa(i) + ":" + dest, Event: "ev-" + strconv.Itoa(i),
			ContentType: "application/json", Body: []byte(`{"event":{"id":"ev-` + strconv.Itoa(i) + `"}}`)}
		b, _ := json.Marshal(it)
		items = append(items, &storage.WorkItem{ID: it.Key, Topic: delivery.Topic(dest), Payload: b})
		if len(items) == 100 || i == from+n-1 {
			if err := r.store.Commit(context.Background(), &storage.Batch{Work: items}); err != nil {
				t.Fatal(err)
			}
			items = nil
		}
	}
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestWorkerDeliversEveryItemOnce: every queued item reaches the receiver exactly once
// when nothing crashes, and the delivery log records it. With WORKER_BENCH_ITEMS set
// it logs deliveries per second and per CPU-second (receiver in the same process, so
// its CPU is counted too).
func TestWorkerDeliversEveryItemOnce(t *testing.T) {
	n := 2000
	if v, _ := strconv.Atoi(os.Getenv("WORKER_BENCH_ITEMS")); v > 0 {
		n = v
	}
	r := newRig(t, func() int { return 200 })
	r.destination(t, "crm", 8)
	r.enqueue(t, "crm", 0, n)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c0, t0 := cpu(), time.Now()
	go func() { r.w.Run(ctx); close(done) }()
	deadline := time.Now().Add(2 * time.Minute)
	for r.n.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	wall, used := time.Since(t0), cpu()-c0
	cancel()
	<-done
	distinct := 0
	r.got.Range(func(k, v any) bool {
		distinct++
		if c := v.(*atomic.Int64).Load(); c != 1 {
			t.Errorf("%s delivered %d times without a crash", k, c)
		}
		return true
	})
	if distinct != n {
		t.Fatalf("%d of %d delivered", distinct, n)
	}
	t.Logf("%d deliveries in %s: %.0f/s, %.0f per CPU-second (worker and receiver)", n, wall.Round(time.Millisecond),
		float64(n)/wall.Seconds(), float64(n)/used.Seconds())
	// Acknowledgements are written after the delivery, asynchronously.
	for i := 0; i < 100; i++ {
		if d, _ := r.q.Depth(context.Background(), delivery.Topic("crm")); d == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("deliveries left in the queue")
}

// TestWorkerRetriesThenDeadLetters: a receiver answering 500 gets the same item (same
// key) several times, then the item is a dead letter with the error; replayed to a
// receiver that accepts, it is delivered.
func TestWorkerRetriesThenDeadLetters(t *testing.T) {
	var status atomic.Int32
	status.Store(500)
	r := newRig(t, func() int { return int(status.Load()) })
	r.destination(t, "crm", 2)
	r.enqueue(t, "crm", 0, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.w.Run(ctx)
	topic := delivery.Topic("crm")
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, total, err := r.q.Dead(ctx, topic, storage.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if total == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d dead letters", total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	dead, _, _ := r.q.Dead(ctx, topic, storage.Page{Limit: 10})
	if dead[0].Deliveries < 2 || dead[0].LastError == "" {
		t.Fatalf("dead letter %+v", dead[0])
	}
	attempts, _, err := r.store.DeliveryLog().List(ctx, "crm", storage.Page{Limit: 100})
	if err != nil || len(attempts) < 4 {
		t.Fatalf("log %v %v", attempts, err)
	}
	status.Store(200)
	if n, err := r.q.Replay(ctx, topic, ""); err != nil || n != 2 {
		t.Fatalf("replay %d %v", n, err)
	}
	for r.n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if r.n.Load() != 2 {
		t.Fatalf("%d delivered after replay", r.n.Load())
	}
	_ = fmt.Sprint
}
