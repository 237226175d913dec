//go:build !unix

package sqlite

import "errors"

// LockFileName is the file in the data directory whose exclusive lock the process
// that owns the store holds (on Unix only; other systems are not release targets).
const LockFileName = "LOCK"

// ErrLocked is returned by Open and Restore when another process has the data
// directory open.
var ErrLocked = errors.New("data directory in use by another process")

type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) release() {}
