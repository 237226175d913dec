package redis

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Bus tells every replica that a configuration entity changed, so that each drops it
// from its caches at once instead of waiting for the cache's TTL. It is Redis pub/sub:
// a message is lost if a replica is disconnected when it is sent, so caches keep a
// short TTL as the backstop, and after every (re)subscription the handlers are called
// with an empty kind, meaning "anything may have changed".
type Bus struct {
	c       *Client
	channel string
	log     *slog.Logger
	ps      *goredis.PubSub

	mu       sync.RWMutex
	handlers []func(kind, id string)
	done     chan struct{}
}

// Bus subscribes to the invalidation channel and starts delivering its messages to the
// handlers registered with OnChange. Close stops it.
func (c *Client) Bus(ctx context.Context, log *slog.Logger) (*Bus, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{c: c, channel: c.key("invalidate"), log: log, done: make(chan struct{})}
	b.ps = c.rdb.Subscribe(ctx, b.channel)
	// Wait for the subscription, so that a change published after Bus returns is seen.
	if _, err := b.ps.Receive(ctx); err != nil {
		b.ps.Close()
		return nil, err
	}
	go b.run()
	return b, nil
}

// OnChange registers fn to be called with the kind and id of every entity changed
// anywhere (kind "" after a reconnection: anything may have changed).
func (b *Bus) OnChange(fn func(kind, id string)) {
	b.mu.Lock()
	b.handlers = append(b.handlers, fn)
	b.mu.Unlock()
}

func (b *Bus) dispatch(kind, id string) {
	b.mu.RLock()
	hs := b.handlers
	b.mu.RUnlock()
	for _, h := range hs {
		h(kind, id)
	}
}

// Publish announces that an entity changed.
func (b *Bus) Publish(ctx context.Context, kind, id string) error {
	return b.c.rdb.Publish(ctx, b.channel, kind+"\x00"+id).Err()
}

func (b *Bus) run() {
	defer close(b.done)
	ctx := context.Background()
	for {
		msg, err := b.ps.Receive(ctx)
		if err != nil {
			if errors.Is(err, goredis.ErrClosed) {
				return
			}
			// The next Receive reconnects and subscribes again.
			time.Sleep(100 * time.Millisecond)
			continue
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			b.dispatch("", "")
		case *goredis.Message:
			kind, id, _ := strings.Cut(m.Payload, "\x00")
			b.dispatch(kind, id)
		}
	}
}

// Close unsubscribes.
func (b *Bus) Close() error {
	err := b.ps.Close()
	<-b.done
	return err
}

// Notifying returns store with its entities wrapped so that every successful Put and
// Delete is published on bus, and with a Ping that checks Redis too (for /readyz).
func Notifying(store storage.Store, bus *Bus) storage.Store {
	return &notifyingStore{Store: store, ents: &notifyingEntities{Entities: store.Entities(), bus: bus}}
}

type notifyingStore struct {
	storage.Store
	ents *notifyingEntities
}

func (s *notifyingStore) Entities() storage.Entities { return s.ents }

// Ping reports the store and Redis: without Redis the replicas no longer share locks,
// so the process is not ready.
func (s *notifyingStore) Ping(ctx context.Context) error {
	if err := s.Store.Ping(ctx); err != nil {
		return err
	}
	return s.ents.bus.c.Ping(ctx)
}

type notifyingEntities struct {
	storage.Entities
	bus *Bus
}

func (e *notifyingEntities) publish(ctx context.Context, kind, id string) {
	if err := e.bus.Publish(ctx, kind, id); err != nil {
		// The change is stored; other replicas see it when their cache entry expires.
		e.bus.log.Warn("invalidation_publish_failed", "kind", kind, "id", id, "error", err.Error())
	}
}

func (e *notifyingEntities) Put(ctx context.Context, ent *storage.Entity, ifVersion int64) (int64, error) {
	v, err := e.Entities.Put(ctx, ent, ifVersion)
	if err == nil {
		e.publish(ctx, ent.Kind, ent.ID)
	}
	return v, err
}

func (e *notifyingEntities) Delete(ctx context.Context, kind, id string) error {
	err := e.Entities.Delete(ctx, kind, id)
	if err == nil {
		e.publish(ctx, kind, id)
	}
	return err
}
