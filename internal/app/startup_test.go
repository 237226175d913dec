package app

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// Serve's start-up (openBackend, which `worker` shares) on a damaged embedded store
// fails with the store's error and says how to recover; on a fresh directory it opens
// the store and its queue.
func TestOpenBackend(t *testing.T) {
	log := NewLogger(io.Discard, 8)

	t.Run("damaged store", func(t *testing.T) {
		cfg := config.Defaults()
		cfg.DataDir = t.TempDir()
		if err := os.WriteFile(filepath.Join(cfg.DataDir, sqlite.FileName), []byte(strings.Repeat("not sqlite at all ", 500)), 0o600); err != nil {
			t.Fatal(err)
		}
		err := Serve(context.Background(), cfg, log, io.Discard)
		if !errors.Is(err, sqlite.ErrCorrupt) || !strings.Contains(err.Error(), "thamesthrive restore") {
			t.Fatalf("got %v; want ErrCorrupt with the restore advice", err)
		}
	})

	t.Run("fresh store", func(t *testing.T) {
		cfg := config.Defaults()
		cfg.DataDir = t.TempDir()
		b, err := openBackend(context.Background(), cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if b.work == nil || b.store == nil || b.reg == nil {
			t.Fatalf("embedded backend without store, queue or registry: %+v", b)
		}
		if err := b.store.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
