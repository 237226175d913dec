package segmentio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Service runs decoded Segment messages through the collector.
type Service struct {
	col   *collector.Collector
	store storage.Store
	keys  keyIndex
}

// New returns a Service over the collector and the store it writes to.
func New(col *collector.Collector, store storage.Store) *Service {
	return &Service{col: col, store: store, keys: keyIndex{ents: store.Entities()}}
}

// Unauthorized is the answer to a missing or unknown write key.
func unauthorized(msg string) error {
	return &pipeline.Error{Kind: pipeline.Unauthenticated, Field: "writeKey", Message: msg}
}

// Source returns the enabled source whose write key is key and which accepts origin.
func (s *Service) Source(ctx context.Context, key, origin string) (*domain.Source, error) {
	if key == "" {
		return nil, unauthorized("is required: send it as the Basic-auth username or as writeKey in the body")
	}
	id, ok, err := s.keys.lookup(ctx, key)
	if err != nil {
		return nil, &pipeline.Error{Kind: pipeline.Unavailable, Message: "storage cannot accept the request now; retry later", RetryAfter: time.Second}
	}
	if !ok {
		return nil, unauthorized("is not the write key of an event source")
	}
	src, err := s.col.CheckSource(ctx, id, collector.RouteTrack, origin)
	var ce *pipeline.Error
	if errors.As(err, &ce) && ce.Kind == pipeline.Unauthenticated {
		return nil, unauthorized("names a source that is disabled or not a REST source")
	}
	return src, err
}

// Invalidate makes the next look-up read the write keys again (a source changed).
func (s *Service) Invalidate(string) { s.keys.invalidate() }

// Handle runs every message of b for src. Every message is translated and validated
// before any runs, so a bad message fails the request without storing part of it.
func (s *Service) Handle(ctx context.Context, src *domain.Source, b *Batch, meta collector.RequestMeta) error {
	received := time.Now()
	type job struct {
		req  *collector.TrackRequest
		meta collector.RequestMeta
		msg  *Message
	}
	jobs := make([]job, 0, len(b.Messages))
	lim := s.col.Limits()
	for i := range b.Messages {
		m := &b.Messages[i]
		req, ip := m.Request(src, received)
		if err := collector.ValidateRequest(req, lim); err != nil {
			var ce *pipeline.Error
			if errors.As(err, &ce) && len(b.Messages) > 1 {
				ce.Field = fmt.Sprintf("batch[%d]", i)
			}
			return err
		}
		mm := meta
		if ip != "" && src.Trusted {
			mm.IP = ip
		}
		jobs = append(jobs, job{req, mm, m})
	}
	for _, j := range jobs {
		if j.msg.Type == Alias {
			if err := s.alias(ctx, src, j.msg, j.req, j.meta, received); err != nil {
				return err
			}
			continue
		}
		if _, err := s.col.Track(ctx, src, j.req, j.meta); err != nil {
			return err
		}
	}
	return nil
}

// alias merges previousId into userId: the profile of the previous id (an anonymousId
// or an earlier userId, whichever exists) gets the userId as its merge key, so the
// identity stage merges it with the profile that already holds it.
func (s *Service) alias(ctx context.Context, src *domain.Source, m *Message, req *collector.TrackRequest, meta collector.RequestMeta, received time.Time) error {
	prev, _ := idString(m.PreviousID, "")
	ran := false
	for _, pid := range []string{DeriveID("anonymous", prev), UserProfile(prev)} {
		_, err := s.store.Profiles().Get(ctx, pid)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return &pipeline.Error{Kind: pipeline.Unavailable, Message: "storage cannot accept the request now; retry later", RetryAfter: time.Second}
		}
		r := *req
		r.Profile = &collector.IDRef{ID: pid}
		r.Session = &collector.IDRef{ID: m.sessionFor(pid, received)}
		if ran { // one alias event, whatever number of profiles it merges
			ev := r.Events[0]
			ev.ID = ""
			ev.Options.Save = new(bool)
			r.Events = []collector.TrackEvent{ev}
		}
		if _, err := s.col.Track(ctx, src, &r, meta); err != nil {
			return err
		}
		ran = true
	}
	if ran {
		return nil
	}
	// Neither exists yet (the SDK delivered the alias first): the previous userId's
	// profile is made now, holding the new userId, so that it is merged at once and
	// the previous id's later messages follow it.
	r := *req
	r.Profile = &collector.IDRef{ID: UserProfile(prev)}
	r.Session = &collector.IDRef{ID: m.sessionFor(r.Profile.ID, received)}
	_, err := s.col.Track(ctx, src, &r, meta)
	return err
}

// keyIndex maps write keys to source ids. It is read again when older than keyTTL (a
// key changed through another replica applies within it) and on a miss at most once a
// second (unknown keys from the internet must not cost a store read each).
type keyIndex struct {
	ents   storage.Entities
	mu     sync.Mutex
	keys   map[string]string
	loaded time.Time
}

const keyTTL = 5 * time.Second

func (k *keyIndex) lookup(ctx context.Context, key string) (string, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	age := time.Since(k.loaded)
	if k.keys != nil && age < keyTTL {
		if id, ok := k.keys[key]; ok || age < time.Second {
			return id, ok, nil
		}
	}
	all, _, err := k.ents.List(ctx, domain.EntitySource, storage.ListOptions{})
	if err != nil {
		return "", false, err
	}
	keys := make(map[string]string, len(all))
	for _, e := range all {
		var src domain.Source
		if json.Unmarshal(e.Doc, &src) == nil && src.WriteKey != "" {
			keys[src.WriteKey] = e.ID
		}
	}
	k.keys, k.loaded = keys, time.Now()
	id, ok := keys[key]
	return id, ok, nil
}

func (k *keyIndex) invalidate() {
	k.mu.Lock()
	k.keys = nil
	k.mu.Unlock()
}
