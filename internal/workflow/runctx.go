package workflow

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// runCtx is the context of one run: its parent with the run's wall-time limit. The
// timer that cancels it is only made when a node asks for Done (a node that waits on
// something); Err checks the clock until then. Most runs have no such node, and
// context.WithTimeout per run was a timer and two allocations on every /track.
type runCtx struct {
	context.Context // the parent
	deadline        time.Time

	mu     sync.Mutex
	inner  context.Context // the parent with the deadline, once Done was asked for
	cancel context.CancelFunc
}

func newRunCtx(parent context.Context, d time.Duration) *runCtx {
	return &runCtx{Context: parent, deadline: time.Now().Add(d)}
}

func (c *runCtx) get() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner == nil {
		c.inner, c.cancel = context.WithDeadline(c.Context, c.deadline)
	}
	return c.inner
}

func (c *runCtx) made() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inner
}

// Deadline implements context.Context: the earlier of the run's and the parent's.
func (c *runCtx) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done implements context.Context.
func (c *runCtx) Done() <-chan struct{} { return c.get().Done() }

// Err implements context.Context. Before Done was asked for, it is what the timer
// would have done by now: the parent's error, or DeadlineExceeded once the limit
// passed (Done, made after that, is closed at once).
func (c *runCtx) Err() error {
	if in := c.made(); in != nil {
		return in.Err()
	}
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value implements context.Context. Once the inner context exists it answers, so
// that contexts derived from this one (and context.Cause) find its cancellation.
func (c *runCtx) Value(key any) any {
	if in := c.made(); in != nil {
		return in.Value(key)
	}
	return c.Context.Value(key)
}

// stop releases the timer, if one was made.
func (c *runCtx) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}

// Run ids are UUIDs (version 4 layout) without a read of the system's random source
// per run: a random per-process base whose last 48 bits count runs. They are unique
// within a process (for 2^48 runs) and, through the 74 random bits of the base,
// across processes in practice.
var runIDs struct {
	base uuid.UUID
	low  uint64 // the base's last 48 bits
	n    atomic.Uint64
}

func init() {
	if _, err := rand.Read(runIDs.base[:]); err != nil {
		panic("workflow: reading random bytes: " + err.Error())
	}
	runIDs.base[6] = runIDs.base[6]&0x0f | 0x40 // version 4
	runIDs.base[8] = runIDs.base[8]&0x3f | 0x80 // RFC 4122 variant
	runIDs.low = binary.BigEndian.Uint64(runIDs.base[8:]) & (1<<48 - 1)
}

func newRunID() string {
	u := runIDs.base
	v := (runIDs.low + runIDs.n.Add(1)) & (1<<48 - 1)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	copy(u[10:], b[2:])
	return u.String()
}
