package redis

import (
	"context"
	"runtime"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// autoPipe sends the commands of concurrent callers together: each caller queues its
// commands and waits; a sender takes everything queued and sends it as one pipeline
// (one write and one read on one connection instead of one round trip per command).
// /track makes several small commands per request on the production path — a lock
// taken and released for its session and its profile, the cached documents read — and
// a replica at load has tens of requests in flight, so most of them share a round
// trip (docs/performance.md, production path). A caller waits no longer than for a
// round trip of its own when nothing else is queued.
type autoPipe struct {
	rdb   goredis.UniversalClient
	calls chan *pipeCall
	stop  chan struct{}
	start sync.Once
	wg    sync.WaitGroup
	// closing orders do's enqueue (read) before close (write): what was queued is sent.
	closing sync.RWMutex
	closed  bool
}

type pipeCall struct {
	cmds []goredis.Cmder
	done chan struct{}
}

const (
	pipeSenders  = 2                // pipelines in flight at once
	pipeMaxCalls = 256              // callers per pipeline
	pipeTimeout  = 5 * time.Second  // bounds one pipeline's round trip
	pipeQueue    = 4 * pipeMaxCalls // callers waiting for a sender
)

func newAutoPipe(rdb goredis.UniversalClient) *autoPipe {
	return &autoPipe{rdb: rdb, calls: make(chan *pipeCall, pipeQueue), stop: make(chan struct{})}
}

// do sends cmds (in this order, in one pipeline, possibly with other callers' commands)
// and returns when every one has its answer; each command's own Err says how it went.
// The commands are sent even when ctx ends first, and do still waits for them, so that
// a caller always knows what it did (a lock taken is never left unknown to its taker).
func (p *autoPipe) do(ctx context.Context, cmds ...goredis.Cmder) error {
	p.start.Do(func() {
		p.wg.Add(pipeSenders)
		for range pipeSenders {
			go p.sender()
		}
	})
	call := &pipeCall{cmds: cmds, done: make(chan struct{})}
	p.closing.RLock()
	if p.closed {
		p.closing.RUnlock()
		return goredis.ErrClosed
	}
	select {
	case p.calls <- call:
		p.closing.RUnlock()
	case <-ctx.Done():
		p.closing.RUnlock()
		return ctx.Err()
	}
	<-call.done
	for _, c := range cmds {
		if err := c.Err(); err != nil && err != goredis.Nil {
			return err
		}
	}
	return nil
}

func (p *autoPipe) sender() {
	defer p.wg.Done()
	batch := make([]*pipeCall, 0, pipeMaxCalls)
	for {
		var first *pipeCall
		select {
		case first = <-p.calls:
		case <-p.stop:
			// Answer whoever queued before the stop.
			for {
				select {
				case c := <-p.calls:
					p.send([]*pipeCall{c})
				default:
					return
				}
			}
		}
		// Let the goroutines that are ready run first: on a busy process (one CPU, tens
		// of requests in flight) they queue their commands now and share this round trip
		// instead of each waiting for one of its own.
		runtime.Gosched()
		batch = append(batch[:0], first)
	fill:
		for len(batch) < pipeMaxCalls {
			select {
			case c := <-p.calls:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		p.send(batch)
	}
}

func (p *autoPipe) send(batch []*pipeCall) {
	ctx, cancel := context.WithTimeout(context.Background(), pipeTimeout)
	pipe := p.rdb.Pipeline()
	for _, c := range batch {
		for _, cmd := range c.cmds {
			_ = pipe.Process(ctx, cmd) // queues it; Exec sends the lot and sets each command's answer
		}
	}
	_, _ = pipe.Exec(ctx) // the error of each command is on the command
	cancel()
	for _, c := range batch {
		close(c.done)
	}
}

func (p *autoPipe) close() {
	p.closing.Lock()
	if p.closed {
		p.closing.Unlock()
		return
	}
	p.closed = true
	close(p.stop)
	p.closing.Unlock()
	p.wg.Wait()
}
