package worker_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thamesthrive/thamesthrive/internal/delivery"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/storage/redis"
	"github.com/thamesthrive/thamesthrive/internal/storage/redis/redistest"
	"github.com/thamesthrive/thamesthrive/internal/worker"
)

// TestThreeWorkersShareARedisQueue: three workers (each with its own consumer in the
// topic's consumer group, as three processes have) deliver 3,000 queued items: every
// item exactly once, shared among the workers. Needs REDIS_HOST (make
// test-integration).
func TestThreeWorkersShareARedisQueue(t *testing.T) {
	c := redistest.Client(t, "worker-test")

	const n = 3000
	var mu sync.Mutex
	byKey := map[string]int{}
	var total atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		byKey[r.Header.Get(delivery.IdempotencyHeader)]++
		mu.Unlock()
		total.Add(1)
	}))
	defer rcv.Close()
	r := newRig(t, func() int { return 200 }) // for the destination entity
	r.rcv = rcv
	r.destination(t, "crm", 4)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var regs []*prometheus.Registry
	for i := 0; i < 3; i++ {
		reg := prometheus.NewRegistry()
		regs = append(regs, reg)
		q := c.Queue(redis.QueueOptions{Lease: time.Minute, MaxDeliveries: 1000, Poll: 50 * time.Millisecond})
		guard := netguard.New(netguard.Config{AllowPrivate: true})
		w, err := worker.New(worker.Config{Refresh: 100 * time.Millisecond, PauseAfter: -1},
			worker.Deps{Queue: q, Log: c.DeliveryLog(0), Entities: r.store.Entities(),
				Sender: delivery.NewSender(guard), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(ctx) }()
	}
	q := c.Queue(redis.QueueOptions{})
	for i := 0; i < n; i++ {
		it := delivery.Item{Destination: "crm", Kind: delivery.KindEvent, Key: "ev-" + strconv.Itoa(i) + ":crm", ContentType: "application/json", Body: []byte(`{}`)}
		b, _ := json.Marshal(it)
		if _, err := q.Enqueue(ctx, delivery.Topic("crm"), b, 0); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for total.Load() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // anything delivered twice arrives by now
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(byKey) != n {
		t.Fatalf("%d of %d items delivered", len(byKey), n)
	}
	for k, c := range byKey {
		if c != 1 {
			t.Errorf("%s delivered %d times without a crash", k, c)
		}
	}
	var byWorker []float64
	for _, reg := range regs {
		mfs, _ := reg.Gather()
		sum := 0.0
		for _, mf := range mfs {
			if mf.GetName() == "thamesthrive_deliveries_total" {
				for _, m := range mf.GetMetric() {
					sum += m.GetCounter().GetValue()
				}
			}
		}
		if sum > 0 {
			byWorker = append(byWorker, sum)
		}
	}
	if len(byWorker) != 3 {
		t.Errorf("deliveries by worker: %v, want all three working", byWorker)
	}
	t.Logf("%d items, each delivered once, by worker: %v", n, byWorker)
}
