// Package identity resolves profiles that turn out to be one person: when a profile
// holds a merge-key value (an e-mail, a phone, a customer id) that another live
// profile also holds, the two are merged, the oldest surviving. It runs as a stage of
// the collector pipeline, under the profile's lock, and takes further locks so that
// concurrent requests on overlapping profiles end with one survivor and exact sums.
package identity

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// errContended is the cause of the 503 after the last attempt met locked profiles.
var errContended = errors.New("other requests held the candidate profiles' locks on every attempt")

// DefaultKeys are the merge keys used when none are configured.
var DefaultKeys = []string{"data.contact.email.main", "data.contact.phone.main", "data.identifier.id"}

// Config configures the resolver.
type Config struct {
	// Keys are the profile paths whose equal values mean "the same person".
	Keys []string
	// MaxCandidates bounds how many profiles one merge folds together.
	MaxCandidates int
	// Attempts is how often a merge that meets locked profiles is retried before the
	// request answers 503.
	Attempts int
	// LockWait is how long to wait for another profile's lock before backing off.
	LockWait time.Duration
	// KeyLockWait bounds the wait for a merge key's lock (10s): past it the request
	// answers 503. Key locks are always taken first and in order, so a long wait is
	// contention, not a deadlock.
	KeyLockWait time.Duration
}

// Resolver is the identity stage.
type Resolver struct {
	cfg     Config
	store   storage.Store
	locker  storage.Locker
	settled *lru.Cache[string, struct{}]
}

// New returns a Resolver.
func New(cfg Config, store storage.Store, locker storage.Locker) (*Resolver, error) {
	if len(cfg.Keys) == 0 {
		cfg.Keys = DefaultKeys
	}
	for _, k := range cfg.Keys {
		if !domain.ValidKeyPath(k) {
			return nil, fmt.Errorf("merge key %q is not a dotted path of a-z, 0-9 and _", k)
		}
	}
	if cfg.MaxCandidates <= 0 {
		cfg.MaxCandidates = 20
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 8
	}
	if cfg.LockWait <= 0 {
		cfg.LockWait = 250 * time.Millisecond
	}
	if cfg.KeyLockWait <= 0 {
		cfg.KeyLockWait = 10 * time.Second
	}
	settled, err := lru.New[string, struct{}](50000)
	if err != nil {
		return nil, err
	}
	return &Resolver{cfg: cfg, store: store, locker: locker, settled: settled}, nil
}

type keyValue struct{ path, value string }

// Normalize returns the canonical form of a key value: trimmed, and lower-cased for
// e-mail addresses.
func Normalize(path, value string) string {
	value = strings.TrimSpace(value)
	if strings.Contains(path, "email") {
		value = strings.ToLower(value)
	}
	return value
}

// keyValues normalises the profile's key values in place and returns them.
func (r *Resolver) keyValues(p *domain.Profile, extra []string) []keyValue {
	var out []keyValue
	for _, path := range append(slices.Clone(r.cfg.Keys), extra...) {
		rest, ok := strings.CutPrefix(path, "data.")
		if !ok || !domain.ValidKeyPath(path) {
			continue // only data.* keys are merge keys; others are ignored
		}
		v, ok := domain.GetPath(p.Data, rest)
		s, isString := v.(string)
		if !ok || !isString {
			continue
		}
		if n := Normalize(path, s); n != s {
			domain.SetPath(p.Data, rest, n)
			s = n
		}
		if s != "" && !slices.ContainsFunc(out, func(kv keyValue) bool { return kv == keyValue{path, s} }) {
			out = append(out, keyValue{path, s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+"\x00"+out[i].value < out[j].path+"\x00"+out[j].value })
	return out
}

func settledKey(pid string, kv keyValue) string { return pid + "\x00" + kv.path + "\x00" + kv.value }

// doneKey keys the set of key values this request has resolved already (and whose key
// locks it holds until the commit): the stage runs twice per request.
type doneKey struct{}

// Process implements pipeline.Stage.
func (r *Resolver) Process(ctx context.Context, w *pipeline.Work) error {
	kvs := r.keyValues(w.Profile, w.MergeKeys)
	w.MergeKeys = nil
	done, _ := w.State(doneKey{}).(map[keyValue]bool)
	pending := kvs[:0:0]
	for _, kv := range kvs {
		if _, ok := r.settled.Get(settledKey(w.Profile.ID, kv)); !ok && !done[kv] {
			pending = append(pending, kv)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	for attempt := 0; attempt < r.cfg.Attempts; attempt++ {
		ok, err := r.try(ctx, w, pending)
		if err != nil {
			return err
		}
		if ok {
			if done == nil {
				done = map[keyValue]bool{}
				w.SetState(doneKey{}, done)
			}
			for _, kv := range pending {
				done[kv] = true
			}
			return nil
		}
		// Another request holds a profile we need; let it finish, then look again.
		time.Sleep(time.Duration(5+rand.IntN(20*(attempt+1))) * time.Millisecond)
	}
	return pipeline.Unavailablef(errContended, "profile merge contended; retry")
}

// try makes one attempt. Key locks (one per key value) serialise every request that sets
// the same value, so a second request always sees the first one's committed profile;
// they are held until the batch is committed. Other profiles' locks are taken with a
// bounded wait: whoever holds one may be waiting for a key lock we hold, so on timeout
// everything is released and the attempt retried (no deadlock).
func (r *Resolver) try(ctx context.Context, w *pipeline.Work, kvs []keyValue) (bool, error) {
	var unlocks []func()
	release := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	for _, kv := range kvs {
		lctx, cancel := context.WithTimeout(ctx, r.cfg.KeyLockWait)
		u, err := r.locker.Lock(lctx, "key:"+kv.path+"\x00"+kv.value)
		cancel()
		if err != nil {
			release()
			return false, pipeline.Unavailablef(fmt.Errorf("locking merge key %s: %w", kv.path, err), "profile merge contended; retry")
		}
		unlocks = append(unlocks, u)
	}
	// Candidates: live profiles holding any of the values, other than this one.
	found := map[string]keyValue{}
	var ids []string
	for _, kv := range kvs {
		ps, err := r.store.Profiles().FindByKey(ctx, kv.path, kv.value, r.cfg.MaxCandidates)
		if err != nil {
			release()
			return false, err
		}
		for _, p := range ps {
			if p.ID == w.Profile.ID || slices.Contains(w.Profile.IDs, p.ID) {
				continue
			}
			if _, seen := found[p.ID]; !seen && len(found) < r.cfg.MaxCandidates {
				found[p.ID] = kv
				ids = append(ids, p.ID)
			}
		}
	}
	if len(ids) == 0 {
		w.Defer(func() {
			release()
		})
		w.Defer(func() { r.markSettled(w, kvs) })
		return true, nil
	}
	sort.Strings(ids)
	var others []*domain.Profile
	for _, id := range ids {
		lctx, cancel := context.WithTimeout(ctx, r.cfg.LockWait)
		u, err := r.locker.Lock(lctx, "profile:"+id)
		cancel()
		if err != nil {
			release()
			return false, nil
		}
		unlocks = append(unlocks, u)
		// Re-read under the lock: it may have changed or been merged meanwhile.
		p, err := r.store.Profiles().Get(ctx, id)
		if err != nil {
			release()
			return false, err
		}
		if !p.Merged() {
			others = append(others, p)
		}
	}
	w.Defer(release)
	if len(others) == 0 {
		return true, nil
	}
	r.merge(w, others, found)
	w.Defer(func() { r.markSettled(w, kvs) })
	return true, nil
}

func (r *Resolver) markSettled(w *pipeline.Work, kvs []keyValue) {
	for _, kv := range kvs {
		r.settled.Add(settledKey(w.Profile.ID, kv), struct{}{})
	}
}

// merge folds w.Profile and others together; the oldest survives and becomes
// w.Profile, the rest are stored as tombstones with the batch.
func (r *Resolver) merge(w *pipeline.Work, others []*domain.Profile, found map[string]keyValue) {
	current := w.Profile
	current.Metadata.Time.Update = w.Now // this request's values are the newest
	all := append([]*domain.Profile{current}, others...)
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i].Metadata.Time.Create, all[j].Metadata.Time.Create
		if !a.Equal(b.Time) {
			return a.Before(b.Time)
		}
		return all[i].ID < all[j].ID
	})
	survivor, losers := all[0], all[1:]
	kv := found[others[0].ID]
	Merge(survivor, losers, domain.MergeRecord{Key: kv.path, Value: kv.value, By: "identity"}, w.Now)
	w.Profile = survivor
	for _, l := range losers {
		w.ExtraProfiles = append(w.ExtraProfiles, l)
	}
	w.Session.Profile.ID = survivor.ID
	for _, ev := range w.Events {
		ev.Profile.ID = survivor.ID
	}
}

var _ pipeline.Stage = (*Resolver)(nil)
