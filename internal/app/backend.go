package app

import "github.com/thamesthrive/thamesthrive/internal/config"

// backendName names the storage backend for the GUI's system page.
func backendName(cfg config.Config) string {
	if len(cfg.ElasticHosts) > 0 {
		return "elasticsearch/opensearch"
	}
	return "sqlite (embedded)"
}
