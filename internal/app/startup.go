package app

import (
	"context"
	"log/slog"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// backend is what `serve` and `worker` both open first: the metrics registry, the
// coordination between replicas (Redis, or in-process locks), the store and the work
// queue of the deliveries.
type backend struct {
	reg   *prometheus.Registry
	coord *coordination
	// store tells the other replicas what it changes (coordination.wrap); raw is the
	// store as opened, for Close.
	store storage.Store
	raw   storage.Store
	work  *workBackend // nil where there is no queue (the production store without Redis)
}

// openBackend opens the backend of cfg. An error opening the store says what the
// operator can do about it (storeAdvice).
func openBackend(ctx context.Context, cfg config.Config, log *slog.Logger) (*backend, error) {
	uuid.EnableRandPool()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	coord, err := openCoordination(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	store, err := openStore(cfg, newStoreMetrics(reg), log, coord)
	if err != nil {
		coord.Close()
		return nil, storeAdvice(err)
	}
	return &backend{reg: reg, coord: coord, store: coord.wrap(store), raw: store, work: openWork(cfg, store, coord)}, nil
}

// Close closes the store, then the coordination.
func (b *backend) Close() {
	b.raw.Close()
	b.coord.Close()
}
