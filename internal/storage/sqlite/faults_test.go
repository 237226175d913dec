package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

// TestSecondOpenRefused: a data directory is served by one store at a time; the lock
// goes with Close.
func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := sqlite.Open(sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(sqlite.Config{Dir: dir})
	if !errors.Is(err, sqlite.ErrLocked) || !strings.Contains(err.Error(), filepath.Join(dir, sqlite.LockFileName)) {
		t.Fatalf("second open: %v, want ErrLocked naming the lock file", err)
	}
	// An admin command's short-lived store opens beside it.
	shared, err := sqlite.Open(sqlite.Config{Dir: dir, Shared: true})
	if err != nil {
		t.Fatalf("shared open beside a serving store: %v", err)
	}
	shared.Close()
	if _, err := sqlite.Open(sqlite.Config{Dir: dir}); !errors.Is(err, sqlite.ErrLocked) {
		t.Fatalf("closing the shared store released the lock: %v", err)
	}
	if _, _, err := sqlite.Restore(context.Background(), dir, "/nonexistent"); err == nil {
		t.Fatal("restore of a missing file succeeded")
	}
	s.Close()
	s, err = sqlite.Open(sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	s.Close()
}

// TestOpenDamagedFile: a database file that is not one, or that was cut short, stops
// Open with ErrCorrupt naming the file; nothing panics.
func TestOpenDamagedFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string)
		want   string
	}{
		{"not a database", func(t *testing.T, path string) { write(t, path, strings.Repeat("not sqlite at all ", 500)) }, "is not an SQLite database"},
		{"shorter than a header", func(t *testing.T, path string) { write(t, path, "SQLite format 3\x00abc") }, "shorter than an SQLite header"},
		{"cut in half", func(t *testing.T, path string) {
			populated(t, filepath.Dir(path), 300)
			st, _ := os.Stat(path)
			if err := os.Truncate(path, st.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, "cut short"},
		{"pages overwritten", func(t *testing.T, path string) {
			populated(t, filepath.Dir(path), 300)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			// Page 2 onwards (the schema's tables' roots) filled with garbage.
			if _, err := f.WriteAt([]byte(strings.Repeat("\xa5", 4*4096)), 4096); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}, "damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, sqlite.FileName)
			tc.damage(t, path)
			s, err := sqlite.Open(sqlite.Config{Dir: dir, KeyPaths: []string{"data.contact.email.main"}})
			if err == nil {
				s.Close()
				t.Fatal("a damaged database opened")
			}
			if !errors.Is(err, sqlite.ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v; want ErrCorrupt naming %s and saying %q", err, path, tc.want)
			}
			// The lock went with the failed open.
			if _, _, err := sqlite.Restore(context.Background(), dir, path); errors.Is(err, sqlite.ErrLocked) {
				t.Fatalf("failed open kept the lock: %v", err)
			}
		})
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// populated makes a closed store in dir with n profiles of one event each.
func populated(t *testing.T, dir string, n int) {
	t.Helper()
	s, err := sqlite.Open(sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := s.Commit(context.Background(), storagetest.SampleBatch(fmt.Sprint("p", i), fmt.Sprint("s", i), fmt.Sprint("e", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBackupUnderWritesAndRestore takes a backup while commits go on, restores it into
// another directory and finds every event committed before the backup began; restore
// refuses a directory that a store has open, and keeps the database it replaces.
func TestBackupUnderWritesAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(sqlite.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var acked sync.Map // event id -> committed before the backup began
	var n atomic.Int64
	var started atomic.Bool
	var before atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := n.Add(1)
				id := fmt.Sprint("e", i)
				if err := s.Commit(ctx, storagetest.SampleBatch(fmt.Sprint("p", i%50), fmt.Sprint("s", i%50), id)); err != nil {
					t.Error(err)
					return
				}
				if !started.Load() {
					acked.Store(id, true)
					before.Add(1)
				}
			}
		}()
	}
	for before.Load() < 500 {
		runtime.Gosched()
	}
	started.Store(true) // commits answered from here on may or may not be in the backup
	dst := filepath.Join(t.TempDir(), "backup.db")
	info, err := sqlite.Backup(ctx, dir, dst)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Backup(ctx, dir, dst); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if _, _, err := sqlite.Restore(ctx, dir, dst); !errors.Is(err, sqlite.ErrLocked) {
		t.Fatalf("restore over an open store: %v, want ErrLocked", err)
	}

	restored := t.TempDir()
	populated(t, restored, 3) // a database to be replaced
	got, replaced, err := sqlite.Restore(ctx, restored, dst)
	if err != nil {
		t.Fatal(err)
	}
	if got.Events != info.Events || replaced == "" {
		t.Fatalf("restore: %+v, replaced %q; backup had %+v", got, replaced, info)
	}
	if _, err := os.Stat(replaced); err != nil {
		t.Fatalf("the replaced database was not kept: %v", err)
	}
	r, err := sqlite.Open(sqlite.Config{Dir: restored})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	count := 0
	acked.Range(func(k, _ any) bool {
		count++
		if _, err := r.Events().Get(ctx, k.(string)); err != nil {
			t.Errorf("event %s committed before the backup is missing: %v", k, err)
		}
		return true
	})
	if count < 500 || int64(count) > info.Events {
		t.Fatalf("%d events committed before the backup, %d in it", count, info.Events)
	}
	if _, err := r.Events().Get(ctx, "e1"); errors.Is(err, storage.ErrNotFound) {
		t.Fatal("e1 missing")
	}
	t.Logf("backup of %d bytes: %d profiles, %d events (%d committed before it began, %d commits in all)", info.Bytes, info.Profiles, info.Events, count, n.Load())
}
