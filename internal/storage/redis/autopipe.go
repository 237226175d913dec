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
	// combine: the lock releases of one pipeline go in one script call (not on a Cluster,
	// where the keys of one script must share a slot).
	combine bool
}

type pipeCall struct {
	cmds []goredis.Cmder
	rel  *pipeRelease // or a lock release
	done chan struct{}
}

// pipeRelease is a lock release: delete key if it still holds token.
type pipeRelease struct {
	key, token string
	err        error
}

// releaseManyScript releases several locks in one call: the releases of the requests
// that share a pipeline (each /track request releases two) cost Redis one script run
// instead of one each; every key is still compared with its own token before it goes.
var releaseManyScript = goredis.NewScript(`local n = 0
for i, k in ipairs(KEYS) do
  if redis.call("get", k) == ARGV[i] then n = n + redis.call("del", k) end
end
return n`)

const (
	pipeSenders  = 2                // pipelines in flight at once
	pipeMaxCalls = 256              // callers per pipeline
	pipeTimeout  = 5 * time.Second  // bounds one pipeline's round trip
	pipeQueue    = 4 * pipeMaxCalls // callers waiting for a sender
)

func newAutoPipe(rdb goredis.UniversalClient) *autoPipe {
	_, cluster := rdb.(*goredis.ClusterClient)
	return &autoPipe{rdb: rdb, calls: make(chan *pipeCall, pipeQueue), stop: make(chan struct{}), combine: !cluster}
}

// do sends cmds (in this order, in one pipeline, possibly with other callers' commands)
// and returns when every one has its answer; each command's own Err says how it went.
// The commands are sent even when ctx ends first, and do still waits for them, so that
// a caller always knows what it did (a lock taken is never left unknown to its taker).
func (p *autoPipe) do(ctx context.Context, cmds ...goredis.Cmder) error {
	return p.queue(ctx, &pipeCall{cmds: cmds, done: make(chan struct{})})
}

// release deletes key if it holds token (the lock's compare-and-delete), in the next
// pipeline, in one script run with the pipeline's other releases.
func (p *autoPipe) release(ctx context.Context, key, token string) error {
	call := &pipeCall{rel: &pipeRelease{key: key, token: token}, done: make(chan struct{})}
	if err := p.queue(ctx, call); err != nil {
		return err
	}
	return call.rel.err
}

func (p *autoPipe) queue(ctx context.Context, call *pipeCall) error {
	p.start.Do(func() {
		p.wg.Add(pipeSenders)
		for range pipeSenders {
			go p.sender()
		}
	})
	cmds := call.cmds
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
	defer cancel()
	pipe := p.rdb.Pipeline()
	var rels []*pipeRelease
	for _, c := range batch {
		for _, cmd := range c.cmds {
			_ = pipe.Process(ctx, cmd) // queues it; Exec sends the lot and sets each command's answer
		}
		if c.rel != nil {
			rels = append(rels, c.rel)
		}
	}
	// The releases: one script run for all of them, or one each on a Cluster.
	var relCmds []*goredis.Cmd
	switch {
	case len(rels) == 0:
	case p.combine && len(rels) > 1:
		args := make([]any, 0, 3+2*len(rels))
		args = append(args, "evalsha", releaseManyScript.Hash(), len(rels))
		for _, r := range rels {
			args = append(args, r.key)
		}
		for _, r := range rels {
			args = append(args, r.token)
		}
		cmd := goredis.NewCmd(ctx, args...)
		relCmds = append(relCmds, cmd)
		_ = pipe.Process(ctx, cmd)
	default:
		for _, r := range rels {
			cmd := goredis.NewCmd(ctx, "evalsha", releaseScript.Hash(), 1, r.key, r.token)
			relCmds = append(relCmds, cmd)
			_ = pipe.Process(ctx, cmd)
		}
	}
	_, _ = pipe.Exec(ctx) // the error of each command is on the command
	if len(relCmds) == 1 && len(rels) > 1 {
		err := relCmds[0].Err()
		if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
			keys, tokens := make([]string, len(rels)), make([]any, len(rels))
			for i, r := range rels {
				keys[i], tokens[i] = r.key, r.token
			}
			err = releaseManyScript.Run(ctx, p.rdb, keys, tokens...).Err() // loads it
		}
		for _, r := range rels {
			r.err = err
		}
	} else {
		for i, r := range rels {
			err := relCmds[i].Err()
			if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
				err = releaseScript.Run(ctx, p.rdb, []string{r.key}, r.token).Err() // loads it
			}
			r.err = err
		}
	}
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
