package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
)

// BackupInfo describes a database file written by Backup or checked by Restore.
type BackupInfo struct {
	Bytes         int64
	SchemaVersion int
	Profiles      int64
	Events        int64
}

// Backup writes a consistent copy of the store in dir to dst while a serving process
// may be writing it. It runs VACUUM INTO on a connection of its own: one read
// transaction, so the copy is the database as of one commit (every commit answered
// before Backup began is in it, none is half in it), and the writer goes on
// committing beside it (WAL mode: readers do not block the writer). SQLite's online
// backup API, which modernc.org/sqlite also offers, was not chosen: stepped a few
// pages at a time it starts over whenever another process commits, so under steady
// /track load it may never finish; in one step it holds the same snapshot as VACUUM
// INTO but copies free pages too. VACUUM INTO writes a compact file and costs more CPU
// (it rebuilds the indexes).
//
// The copy is written next to dst, checked (PRAGMA quick_check), synced and renamed
// into place, so dst is either absent or a complete backup. dst must not exist.
func Backup(ctx context.Context, dir, dst string) (BackupInfo, error) {
	src := filepath.Join(dir, FileName)
	if _, err := os.Stat(src); err != nil {
		return BackupInfo{}, fmt.Errorf("no embedded store to back up in %s: %w", dir, err)
	}
	if err := checkFile(src); err != nil {
		return BackupInfo{}, err
	}
	if _, err := os.Stat(dst); err == nil {
		return BackupInfo{}, fmt.Errorf("%s already exists: choose a new file name (a backup never overwrites a file)", dst)
	}
	tmp := dst + ".partial"
	os.Remove(tmp) // left by an interrupted backup
	db, err := sql.Open("sqlite", "file:"+src+"?"+url.Values{"_pragma": {"busy_timeout(10000)"}}.Encode())
	if err != nil {
		return BackupInfo{}, fmt.Errorf("opening %s: %w", src, err)
	}
	db.SetMaxOpenConns(1)
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, tmp)
	db.Close()
	if err != nil {
		os.Remove(tmp)
		return BackupInfo{}, classify(src, fmt.Errorf("copying %s: %w", src, err))
	}
	err = os.Chmod(tmp, 0o600) // a backup holds everything the store does
	var info BackupInfo
	if err == nil {
		info, err = inspect(ctx, tmp)
	}
	if err == nil {
		err = syncFile(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return BackupInfo{}, err
	}
	syncDir(filepath.Dir(dst))
	return info, nil
}

// Restore replaces the store in dir by the backup file src. It takes the data
// directory's lock, so it refuses while a process serves dir (ErrLocked). It checks
// the backup first (an SQLite database that passes quick_check, at a schema version
// this binary knows); the database it replaces, if any, is kept beside it as
// thamesthrive.db.before-restore (with its WAL), for the operator to delete. The
// restored file is then opened once, which brings its schema up to date.
func Restore(ctx context.Context, dir, src string) (info BackupInfo, replaced string, err error) {
	if err := checkFile(src); err != nil {
		return BackupInfo{}, "", err
	}
	if info, err = inspect(ctx, src); err != nil {
		return BackupInfo{}, "", err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return BackupInfo{}, "", fmt.Errorf("creating data directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return BackupInfo{}, "", err
	}
	defer lock.release()
	dst := filepath.Join(dir, FileName)
	tmp := dst + ".restoring"
	if err := copyFile(src, tmp); err != nil {
		os.Remove(tmp)
		return BackupInfo{}, "", err
	}
	if _, err := os.Stat(dst); err == nil {
		replaced = dst + ".before-restore"
		for _, suffix := range []string{"", "-wal"} {
			if err := os.Rename(dst+suffix, replaced+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				os.Remove(tmp)
				return BackupInfo{}, "", fmt.Errorf("moving the current database aside: %w", err)
			}
		}
	}
	os.Remove(dst + "-wal")
	os.Remove(dst + "-shm")
	if err := os.Rename(tmp, dst); err != nil {
		return BackupInfo{}, replaced, fmt.Errorf("putting the backup in place: %w", err)
	}
	syncDir(dir)
	s, err := open(Config{Dir: dir, MaxBatch: 1, QueueSize: 1}, "FULL")
	if err != nil {
		return BackupInfo{}, replaced, fmt.Errorf("opening the restored database: %w", err)
	}
	if err := s.Close(); err != nil { // s holds no lock of its own: ours is released by the defer
		return BackupInfo{}, replaced, err
	}
	return info, replaced, nil
}

// inspect checks that path is a sound ThamesThrive database and counts its rows. It
// opens the file read-only and immutable, so nothing is written next to it.
func inspect(ctx context.Context, path string) (BackupInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("opening %s: %w", path, err)
	}
	defer db.Close()
	info := BackupInfo{Bytes: st.Size()}
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return BackupInfo{}, classify(path, fmt.Errorf("checking %s: %w", path, err))
	}
	if check != "ok" {
		return BackupInfo{}, fmt.Errorf("%w: %s: quick_check: %s", ErrCorrupt, path, check)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&info.SchemaVersion); err != nil {
		return BackupInfo{}, fmt.Errorf("reading the schema version of %s: %w", path, err)
	}
	if info.SchemaVersion < 1 || info.SchemaVersion > len(migrations) {
		return BackupInfo{}, fmt.Errorf("%s is at schema version %d; this binary knows versions 1 to %d", path, info.SchemaVersion, len(migrations))
	}
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM profiles), (SELECT count(*) FROM events)`).Scan(&info.Profiles, &info.Events); err != nil {
		return BackupInfo{}, fmt.Errorf("%s is not a ThamesThrive database: %w", path, err)
	}
	return info, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("syncing %s: %w", dst, err)
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable (best effort: not every filesystem allows it).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
