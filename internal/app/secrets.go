package app

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
)

// secretsKeyFile is where the embedded backend keeps a generated key when SECRETS_KEY
// is unset.
const secretsKeyFile = "secrets.key"

// openSecrets returns the box that seals resources' secrets, with the key of
// SECRETS_KEY. Without it, the embedded backend generates a key once and keeps it in
// DATA_DIR (readable by the owner only): secrets are then safe in a copy of the
// database but not from someone who can read the whole data directory, which the
// start-up log says. Replicas of the production backend must share one key, so there
// SECRETS_KEY is required.
func openSecrets(cfg config.Config, log *slog.Logger) (*secrets.Box, error) {
	key := cfg.SecretsKey
	if key == nil {
		if len(cfg.ElasticHosts) > 0 {
			return nil, errors.New("SECRETS_KEY: must be set with ELASTIC_HOST, the same on every replica (64 hex digits, e.g. from `openssl rand -hex 32`)")
		}
		path := filepath.Join(cfg.DataDir, secretsKeyFile)
		k, created, err := secrets.LoadOrCreateKeyFile(path)
		if err != nil {
			return nil, fmt.Errorf("SECRETS_KEY: unset, and the key kept in DATA_DIR is unusable: %w", err)
		}
		if created {
			log.Warn("secrets_key_generated", "path", path,
				"note", "set SECRETS_KEY to keep the key away from the data it protects")
		}
		key = k
	}
	box, err := secrets.New(key)
	if err != nil {
		return nil, fmt.Errorf("SECRETS_KEY: %w", err)
	}
	return box, nil
}
