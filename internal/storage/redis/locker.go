package redis

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Locker is a storage.Locker shared by every process on one Redis. A lock is a key set
// with SET NX PX to a random token: it expires after TTL unless renewed, so the lock of
// a process that died frees itself; while held it is renewed every TTL/3, so a slow
// request keeps it. Release and renewal compare the token first (a Lua script), so a
// process whose lock expired can never release or extend the next holder's.
//
// Expiry alone cannot stop a holder that stalled past its TTL (a long GC pause, a
// network partition) from writing after someone else took the lock. That write is
// fenced by the store: the Elasticsearch backend writes a profile or session back only
// if its sequence number is still the one this process read (if_seq_no), so the stale
// write fails with a conflict instead of overwriting newer data.
type Locker struct {
	c   *Client
	ttl time.Duration
	log *slog.Logger

	mu      sync.Mutex
	held    map[*heldLock]struct{}
	renewer bool
}

type heldLock struct {
	key, token string
	since      time.Time
}

var (
	releaseScript = goredis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`)
	renewScript   = goredis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) end return 0`)
)

// Locker returns a Locker whose locks expire ttl after their holder stops renewing
// them (default 10s).
func (c *Client) Locker(ttl time.Duration, log *slog.Logger) *Locker {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Locker{c: c, ttl: ttl, log: log, held: map[*heldLock]struct{}{}}
}

// Lock implements storage.Locker. It polls while the key is held elsewhere, with a
// short randomised backoff, until the key is free or ctx ends.
func (l *Locker) Lock(ctx context.Context, key string) (func(), error) {
	h := &heldLock{key: l.c.key("lock", key), token: randomToken()}
	wait := time.Millisecond
	for {
		// SET NX PX, sent together with other requests' commands (autoPipe).
		cmd := goredis.NewBoolCmd(ctx, "set", h.key, h.token, "px", l.ttl.Milliseconds(), "nx")
		err := l.c.pipe.do(ctx, cmd)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("locking %s: %w: %w", key, storage.ErrUnavailable, err)
		}
		if cmd.Val() {
			if ctx.Err() != nil { // taken, but the caller has gone: give it back
				l.release(key, h)
				return nil, ctx.Err()
			}
			break
		}
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
	h.since = time.Now()
	l.mu.Lock()
	l.held[h] = struct{}{}
	if !l.renewer {
		l.renewer = true
		go l.renew()
	}
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.held, h)
			l.mu.Unlock()
			l.release(key, h)
		})
	}, nil
}

// release deletes h's key if it still holds h's token, in the next shared pipeline.
func (l *Locker) release(key string, h *heldLock) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := l.c.pipe.release(ctx, h.key, h.token) // with the pipeline's other releases
	if err != nil && err != goredis.Nil {
		// It expires by itself after the TTL.
		l.log.Warn("lock_release_failed", "key", key, "error", err.Error())
	}
}

// renew extends, every TTL/3, the locks held for longer than TTL/3. Most locks are
// released within milliseconds and never need it. It stops when nothing is held.
func (l *Locker) renew() {
	every := l.ttl / 3
	for {
		time.Sleep(every)
		l.mu.Lock()
		if len(l.held) == 0 {
			l.renewer = false
			l.mu.Unlock()
			return
		}
		var due []*heldLock
		for h := range l.held {
			if time.Since(h.since) >= every {
				due = append(due, h)
			}
		}
		l.mu.Unlock()
		if len(due) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		pipe := l.c.rdb.Pipeline()
		cmds := make([]*goredis.Cmd, len(due))
		for i, h := range due {
			cmds[i] = renewScript.Eval(ctx, pipe, []string{h.key}, h.token, l.ttl.Milliseconds())
		}
		pipe.Exec(ctx)
		cancel()
		for i, cmd := range cmds {
			if n, err := cmd.Int(); err != nil || n == 0 {
				l.mu.Lock()
				_, still := l.held[due[i]]
				l.mu.Unlock()
				if still {
					l.log.Warn("lock_renewal_failed", "key", due[i].key, "error", fmt.Sprint(err))
				}
			}
		}
	}
}

var _ storage.Locker = (*Locker)(nil)
