// Package local holds the in-process implementations of the coordination pieces of
// storage (locks; later cache and queues) used by the embedded, single-process setup.
package local

import (
	"context"
	"sync"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Locker is a storage.Locker for one process: a mutex per key, created on demand and
// dropped when nobody holds or waits for it, so memory stays bounded by concurrency
// rather than by the number of keys ever seen.
type Locker struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while the key is locked
	refs int
}

// NewLocker returns an empty Locker.
func NewLocker() *Locker { return &Locker{locks: make(map[string]*keyLock)} }

// Lock implements storage.Locker.
func (l *Locker) Lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	k := l.locks[key]
	if k == nil {
		k = &keyLock{ch: make(chan struct{}, 1)}
		l.locks[key] = k
	}
	k.refs++
	l.mu.Unlock()

	select {
	case k.ch <- struct{}{}:
	case <-ctx.Done():
		l.release(key, k)
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-k.ch
			l.release(key, k)
		})
	}, nil
}

func (l *Locker) release(key string, k *keyLock) {
	l.mu.Lock()
	k.refs--
	if k.refs == 0 {
		delete(l.locks, key)
	}
	l.mu.Unlock()
}

var _ storage.Locker = (*Locker)(nil)
