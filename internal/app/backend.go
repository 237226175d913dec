package app

import (
	"log/slog"
	"runtime/debug"

	"github.com/thamesthrive/thamesthrive/internal/config"
)

// backendName names the storage backend for the GUI's system page.
func backendName(cfg config.Config) string {
	if len(cfg.ElasticHosts) > 0 {
		return "elasticsearch/opensearch"
	}
	return "sqlite (embedded)"
}

// productionGCPercent is serve's GC target on the production backend when GOGC is unset
// (docs/configuration.md, GOGC; the figures are in docs/performance.md, A.3).
const productionGCPercent = 200

// tuneGC sets serve's GC target on the production backend, unless GOGC was given (the Go
// runtime has applied it then). It returns the percentage set, 0 when it left Go's.
func tuneGC(cfg config.Config, log *slog.Logger) int {
	if cfg.GOGC != "" || len(cfg.ElasticHosts) == 0 {
		return 0
	}
	debug.SetGCPercent(productionGCPercent)
	log.Info("gc_target", "gogc", productionGCPercent, "memory_limit", debug.SetMemoryLimit(-1))
	return productionGCPercent
}
