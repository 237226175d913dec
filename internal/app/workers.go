package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/delivery"
	"github.com/thamesthrive/thamesthrive/internal/later"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/elastic"
	"github.com/thamesthrive/thamesthrive/internal/storage/redis"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/worker"
)

// workBackend is the work queue of a backend: the queue, the delivery log and, on the
// production store, the outbox the workers sweep into the queue.
type workBackend struct {
	queue  worker.Queue
	log    storage.DeliveryLog
	outbox storage.Outbox // nil on the embedded store: its queue is in the same file
}

// openWork returns the store's work queue, or nil when it has none: the production
// store without Redis (the queue is a Redis stream).
func openWork(cfg config.Config, store storage.Store, coord *coordination) *workBackend {
	// Deliveries are retried by age (DELIVERY_MAX_AGE), not by count; the count only
	// stops an item whose worker keeps dying while it holds it.
	switch s := store.(type) {
	case *sqlite.Store:
		return &workBackend{queue: s.Queue(sqlite.QueueOptions{Lease: cfg.DeliveryLease, MaxDeliveries: 1000}), log: s.DeliveryLog()}
	case *elastic.Store:
		if coord.client == nil {
			return nil
		}
		return &workBackend{queue: coord.client.Queue(redis.QueueOptions{Lease: cfg.DeliveryLease, MaxDeliveries: 1000}),
			log: coord.client.DeliveryLog(0), outbox: s.Outbox()}
	}
	return nil
}

// runWorkers says whether serve runs the workers in its own process (RUN_WORKERS).
func runWorkers(cfg config.Config) bool {
	switch strings.ToLower(cfg.RunWorkers) {
	case "yes":
		return true
	case "no":
		return false
	}
	return len(cfg.ElasticHosts) == 0
}

func workerConfig(cfg config.Config) worker.Config {
	pause := cfg.DestinationPauseAfter
	if pause == 0 {
		pause = -1 // never
	}
	return worker.Config{MaxAge: cfg.DeliveryMaxAge, Backoff: cfg.DeliveryBackoff, PauseAfter: pause}
}

// startWorkers runs the workers (and, on the production store, the outbox sweeper)
// until the returned stop is called; stop waits for the deliveries in flight.
func startWorkers(cfg config.Config, log *slog.Logger, reg prometheus.Registerer, store storage.Store, wb *workBackend,
	box *secrets.Box, guard *netguard.Guard, tp *trackPipeline) (stop func(), err error) {
	w, err := worker.New(workerConfig(cfg), worker.Deps{Queue: wb.queue, Log: wb.log, Entities: store.Entities(), Secrets: box,
		Sender: delivery.NewSender(guard), Logger: log, Registry: reg})
	if err != nil {
		return nil, fmt.Errorf("starting the workers: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.Run(ctx)
	}()
	// Time-based work (docs/workers.md, "Time in workflows"): jobs put at most once
	// per id, on Redis through the same script the sweeper uses.
	put := func(ctx context.Context, items []*storage.WorkItem) error {
		return store.Commit(ctx, &storage.Batch{Work: items})
	}
	if mover, ok := wb.queue.(worker.Mover); ok && wb.outbox != nil {
		put = func(ctx context.Context, items []*storage.WorkItem) error {
			_, err := mover.Put(ctx, items)
			return err
		}
	}
	lh := &later.Handlers{Pipeline: tp.col, Flows: tp.flows, Store: store, SessionTimeout: cfg.SessionTimeout, Logger: log}
	topics := lh.Topics()
	topics[later.TopicScheduleRun] = (&later.ScheduleRuns{Handlers: lh, Queue: put}).Run
	tasks := worker.NewTasks(wb.queue, topics, log, reg)
	sched := &later.Scheduler{Entities: store.Entities(), Queue: put, Logger: log}
	wg.Add(2)
	go func() {
		defer wg.Done()
		tasks.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		sched.Run(ctx)
	}()
	if wb.outbox != nil {
		mover, ok := wb.queue.(worker.Mover)
		if !ok {
			cancel()
			wg.Wait()
			return nil, fmt.Errorf("starting the workers: the queue cannot take swept work")
		}
		sw := worker.NewSweeper(wb.outbox, mover, log, reg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sw.Run(ctx)
		}()
	}
	log.Info("workers_started", "sweeper", wb.outbox != nil)
	return func() {
		cancel()
		wg.Wait()
		log.Info("workers_stopped")
	}, nil
}
