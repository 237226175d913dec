//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFileName is the file in the data directory whose exclusive lock the process
// that owns the store holds for as long as the store is open.
const LockFileName = "LOCK"

// ErrLocked is returned by Open and Restore when another process has the data
// directory open.
var ErrLocked = errors.New("data directory in use by another process")

// dirLock is an exclusive flock(2) on DATA_DIR/LOCK. The kernel drops it when the
// process exits, however it exits (kill -9 too), so a stale lock file never blocks a
// restart. Each open file description locks on its own, so a second Open in the same
// process is refused as well.
type dirLock struct{ f *os.File }

func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := ""
			if pid := strings.TrimSpace(string(holder)); pid != "" {
				if _, perr := strconv.Atoi(pid); perr == nil {
					who = " (pid " + pid + ")"
				}
			}
			return nil, fmt.Errorf("%w%s: %s is locked; one process serves a data directory at a time (stop the other one, or give this one its own DATA_DIR)",
				ErrLocked, who, path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	// The pid is only a hint for the message above; the lock is what counts.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

func (l *dirLock) release() {
	if l != nil && l.f != nil {
		syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
		l.f.Close()
		l.f = nil
	}
}
