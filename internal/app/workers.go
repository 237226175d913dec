package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/delivery"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/worker"
)

// workBackend is the queue and delivery log of the store's backend, or false when it
// has none.
func workBackend(store storage.Store) (worker.Queue, storage.DeliveryLog, bool) {
	if s, ok := store.(*sqlite.Store); ok {
		// Deliveries are retried by age (DELIVERY_MAX_AGE), not by count; the count
		// only stops an item whose worker keeps dying while it holds it.
		return s.Queue(sqlite.QueueOptions{Lease: 2 * time.Minute, MaxDeliveries: 1000}), s.DeliveryLog(), true
	}
	return nil, nil, false
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

// startWorkers runs the workers until the returned stop is called; stop waits for the
// deliveries in flight.
func startWorkers(cfg config.Config, log *slog.Logger, reg prometheus.Registerer, store storage.Store, q worker.Queue,
	dlog storage.DeliveryLog, box *secrets.Box, guard *netguard.Guard) (stop func(), err error) {
	w, err := worker.New(workerConfig(cfg), worker.Deps{Queue: q, Log: dlog, Entities: store.Entities(), Secrets: box,
		Sender: delivery.NewSender(guard), Logger: log, Registry: reg})
	if err != nil {
		return nil, fmt.Errorf("starting the workers: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	log.Info("workers_started")
	return func() {
		cancel()
		<-done
		log.Info("workers_stopped")
	}, nil
}
