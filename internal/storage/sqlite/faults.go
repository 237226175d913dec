package sqlite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	msqlite "modernc.org/sqlite"
)

// ErrCorrupt is returned by Open when the database file is damaged: not an SQLite
// database, cut short, or reported corrupt by SQLite while opening it.
var ErrCorrupt = errors.New("database file is damaged")

// ErrDiskFull marks a write that failed because the data directory's filesystem is
// full (SQLITE_FULL). The write changed nothing; it is retried once space is freed.
var ErrDiskFull = errors.New("no space left in the data directory")

func (s *Store) path() string { return filepath.Join(s.cfg.Dir, FileName) }

// SQLite's primary result codes this file tells apart.
const (
	codeCorrupt = 11
	codeFull    = 13
	codeNotADB  = 26
)

func sqliteCode(err error) int {
	var se *msqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// classify marks an error met while opening path as ErrCorrupt when SQLite says the
// file is damaged.
func classify(path string, err error) error {
	switch sqliteCode(err) {
	case codeCorrupt, codeNotADB:
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	case codeFull:
		return fmt.Errorf("%w (%s): %v", ErrDiskFull, filepath.Dir(path), err)
	}
	return err
}

// writeError classifies an error of the writer's transaction.
func writeError(dir string, err error) error {
	if sqliteCode(err) == codeFull {
		return fmt.Errorf("%w (%s): %v", ErrDiskFull, dir, err)
	}
	return err
}

var sqliteMagic = []byte("SQLite format 3\x00")

// checkFile looks at an existing database file's header before SQLite opens it: a file
// that is not an SQLite database, or one shorter than the page count its header
// records, is refused with ErrCorrupt rather than served until a read reaches the
// missing pages. The length check is skipped while a WAL file is present: after a
// crash in the middle of a checkpoint the header may already count pages that are
// still only in the WAL (SQLite's own checks cover that case).
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if st.Size() == 0 {
		return nil // SQLite makes a new database in an empty file
	}
	hdr := make([]byte, 100)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return fmt.Errorf("%w: %s: %d bytes, shorter than an SQLite header", ErrCorrupt, path, st.Size())
	}
	if !bytes.Equal(hdr[:16], sqliteMagic) {
		return fmt.Errorf("%w: %s is not an SQLite database (its first bytes are %q)", ErrCorrupt, path, hdr[:16])
	}
	if wal, err := os.Stat(path + "-wal"); err == nil && wal.Size() > 0 {
		return nil
	}
	pageSize := int64(binary.BigEndian.Uint16(hdr[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(hdr[28:32]))
	// The header's page count is valid when its change counter matches the
	// version-valid-for number (every SQLite since 3.7.0 keeps it so).
	if binary.BigEndian.Uint32(hdr[24:28]) == binary.BigEndian.Uint32(hdr[92:96]) && st.Size() < pages*pageSize {
		return fmt.Errorf("%w: %s is %d bytes but its header records %d pages of %d bytes (%d bytes): the file was cut short",
			ErrCorrupt, path, st.Size(), pages, pageSize, pages*pageSize)
	}
	return nil
}
