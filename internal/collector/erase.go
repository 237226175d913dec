package collector

import (
	"context"
	"fmt"
	"slices"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// maxErasedSessions bounds how many sessions of one person an erasure locks.
const maxErasedSessions = 10000

// Erase deletes a person for good (the right to be forgotten): the profile stored under
// profileID, followed to its survivor when it was merged away, every id in the
// survivor's ids (its merge tombstones), and all their sessions and events. It holds
// the locks /track takes, in the order it takes them (the sessions', then the
// profile's), so that a request in flight either finishes before the erasure or starts
// after it with nothing of the person left to write back; the in-process caches forget
// everything erased. It answers storage.ErrNotFound for an unknown id.
func (c *Collector) Erase(ctx context.Context, profileID string) (storage.Erased, error) {
	for attempt := 1; ; attempt++ {
		n, retry, err := c.eraseOnce(ctx, profileID, attempt == maxEraseAttempts)
		if !retry {
			return n, err
		}
	}
}

// maxEraseAttempts bounds how often Erase starts over because the person changed
// between listing and locking (a merge, a new session); the last attempt erases
// whatever it finds.
const maxEraseAttempts = 5

func (c *Collector) eraseOnce(ctx context.Context, profileID string, last bool) (n storage.Erased, retry bool, err error) {
	p, err := c.resolve(ctx, profileID)
	if err != nil {
		return n, false, err
	}
	er := c.store.Erasure()
	sids, err := c.sessionIDs(ctx, er, idsOf(p))
	if err != nil {
		return n, false, err
	}
	for _, sid := range sids { // sorted: two erasures never deadlock
		unlock, err := c.locker.Lock(ctx, "session:"+sid)
		if err != nil {
			return n, false, unavailable(err)
		}
		defer unlock()
	}
	unlock, err := c.locker.Lock(ctx, "profile:"+p.ID)
	if err != nil {
		return n, false, unavailable(err)
	}
	defer unlock()
	// Read again under the lock: a merge may have added ids, or merged this profile
	// away, and a request may have added a session whose lock it still holds.
	c.ForgetProfile(p.ID)
	if p, err = c.store.Profiles().Get(ctx, p.ID); err != nil {
		return n, false, err
	}
	if p.Merged() {
		if last {
			return n, false, fmt.Errorf("profile %q keeps being merged; try again: %w", profileID, storage.ErrConflict)
		}
		return n, true, nil
	}
	ids := idsOf(p)
	now, err := c.sessionIDs(ctx, er, ids)
	if err != nil {
		return n, false, err
	}
	if !last && !slices.Equal(now, sids) {
		return n, true, nil
	}
	for _, id := range ids {
		c.ForgetProfile(id)
	}
	if c.sessions != nil {
		c.sessions.Purge() // which cached sessions belong to the person is not indexed
	}
	n, err = er.Erase(ctx, ids)
	return n, false, err
}

// sessionIDs lists the ids of the sessions of profile ids, sorted.
func (c *Collector) sessionIDs(ctx context.Context, er storage.Erasure, ids []string) ([]string, error) {
	sessions, err := er.SessionsOf(ctx, ids, maxErasedSessions)
	if err != nil {
		return nil, err
	}
	sids := make([]string, 0, len(sessions))
	for _, x := range sessions {
		sids = append(sids, x.ID)
	}
	slices.Sort(sids)
	return sids, nil
}

// resolve returns the live profile id stands for, following merge tombstones.
func (c *Collector) resolve(ctx context.Context, id string) (*domain.Profile, error) {
	for hops := 0; ; hops++ {
		p, err := c.store.Profiles().Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if !p.Merged() {
			return p, nil
		}
		if hops >= 16 {
			return nil, fmt.Errorf("profile %q: merge chain too long: %w", id, storage.ErrConflict)
		}
		id = p.Metadata.MergedInto
	}
}

func idsOf(p *domain.Profile) []string {
	ids := slices.Clone(p.IDs)
	if !slices.Contains(ids, p.ID) {
		ids = append(ids, p.ID)
	}
	return ids
}

// DeleteSession deletes one session (its events stay) under the session's lock, so that
// a request in flight cannot write it back, and drops it from the cache.
func (c *Collector) DeleteSession(ctx context.Context, id string) error {
	unlock, err := c.locker.Lock(ctx, "session:"+id)
	if err != nil {
		return unavailable(err)
	}
	defer unlock()
	if c.sessions != nil {
		c.sessions.Remove(id)
	}
	return c.store.Erasure().DeleteSession(ctx, id)
}
