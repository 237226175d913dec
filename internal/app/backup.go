package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// errSnapshots answers backup and restore on the production backend, whose data lives
// in the cluster and in Redis, not in DATA_DIR.
var errSnapshots = errors.New("ELASTIC_HOST is set: the production backend is backed up with Elasticsearch/OpenSearch snapshots, not with this command (docs/production.md, Backups)")

// Backup writes a consistent copy of the embedded store to file (`thamesthrive backup
// <file>`), also while `serve` runs on the same DATA_DIR.
func Backup(ctx context.Context, cfg config.Config, file string, out io.Writer) error {
	if len(cfg.ElasticHosts) > 0 {
		return errSnapshots
	}
	info, err := sqlite.Backup(ctx, cfg.DataDir, file)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "backed up %s to %s: %d bytes, schema version %d, %d profiles, %d events\n",
		filepath.Join(cfg.DataDir, sqlite.FileName), file, info.Bytes, info.SchemaVersion, info.Profiles, info.Events)
	if cfg.SecretsKey == nil {
		fmt.Fprintf(out, "note: the key of stored secrets is not in the backup; keep %s (or set SECRETS_KEY) to read them after a restore\n",
			filepath.Join(cfg.DataDir, secretsKeyFile))
	}
	return nil
}

// Restore replaces the embedded store in DATA_DIR with a backup file (`thamesthrive
// restore <file>`); it refuses while a process serves DATA_DIR.
func Restore(ctx context.Context, cfg config.Config, file string, out io.Writer) error {
	if len(cfg.ElasticHosts) > 0 {
		return errSnapshots
	}
	info, replaced, err := sqlite.Restore(ctx, cfg.DataDir, file)
	if errors.Is(err, sqlite.ErrLocked) {
		return fmt.Errorf("%w; stop `thamesthrive serve` on this DATA_DIR before restoring", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "restored %s into %s: schema version %d, %d profiles, %d events\n",
		file, cfg.DataDir, info.SchemaVersion, info.Profiles, info.Events)
	if replaced != "" {
		fmt.Fprintf(out, "the database it replaced is kept as %s; delete it once the restored store is checked\n", replaced)
	}
	return nil
}

// storeAdvice adds what to do to the errors of opening the embedded store that an
// operator must act on.
func storeAdvice(err error) error {
	if errors.Is(err, sqlite.ErrCorrupt) {
		return fmt.Errorf("%w; the store cannot start on it: restore the last backup with `thamesthrive restore <backup-file>`, "+
			"or move the file (with its -wal and -shm files) out of DATA_DIR to start with an empty store (docs/production.md, Backups)", err)
	}
	return err
}
