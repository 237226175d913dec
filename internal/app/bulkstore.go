package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/elastic"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// OpenBulkStore opens the store cfg names — the SQLite file in DATA_DIR, or the cluster of
// ELASTIC_HOST — as serve would (same merge-key indexes, same schema), for a bulk loader
// such as `make bench-scale` that writes through Store.Commit while no serve runs. The
// embedded store takes DATA_DIR's lock.
func OpenBulkStore(ctx context.Context, cfg config.Config, log *slog.Logger) (storage.Store, error) {
	if len(cfg.ElasticHosts) > 0 {
		s, err := elastic.Open(ctx, elasticConfig(cfg, log))
		if err != nil {
			return nil, fmt.Errorf("ELASTIC_HOST: %w", err)
		}
		return s, nil
	}
	return sqlite.Open(sqlite.Config{Dir: cfg.DataDir, Sync: cfg.SQLiteSync, KeyPaths: mergeKeys(cfg), IndexedPaths: cfg.IndexedPaths, MaxBatch: 16})
}
