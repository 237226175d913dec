package collector

import (
	"context"
	"errors"
	"fmt"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Process runs background work for a stored profile through the pipeline, the way a
// /track request does: under the session's and the profile's locks, on their current
// state, fn changes w (adds internal events, resumes a flow); then every stage runs
// (rules for the events fn added, segmentation, the delivery planner) and the
// profile, the session (when sessionID names a stored one) and the new events are
// committed in one batch, with the work items the stages queued. The workers use it
// for resumed flows, scheduled events and ended sessions. An unknown or erased
// profile answers storage.ErrNotFound; fn answering an error stores nothing.
func (c *Collector) Process(ctx context.Context, profileID, sessionID string, fn func(w *pipeline.Work) error) error {
	w := &pipeline.Work{Now: domain.Now(), Response: map[string]any{}, UX: []any{}}
	defer w.Done()
	if sessionID != "" {
		unlock, err := c.locker.Lock(ctx, "session:"+sessionID)
		if err != nil {
			return err
		}
		defer unlock()
		if w.Session, err = c.loadSession(ctx, sessionID); err != nil {
			return err
		}
	}
	p, err := c.loadProfile(ctx, profileID)
	if err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("profile %q: %w", profileID, storage.ErrNotFound)
	}
	unlock, err := c.lockProfile(ctx, profileID, w, true)
	if err != nil {
		return err
	}
	defer unlock()
	if w.NewProfile {
		return fmt.Errorf("profile %q: %w", profileID, storage.ErrNotFound)
	}
	if w.Session != nil {
		w.Session.Profile.ID = w.Profile.ID // follows a merge
	}
	drop := func() {
		c.forgetProfiles(w)
		if w.Session != nil && c.sessions != nil {
			c.sessions.Remove(w.Session.ID)
		}
	}
	if err := fn(w); err != nil {
		drop()
		return err
	}
	for _, st := range c.stages {
		if err := st.Process(ctx, w); err != nil {
			drop()
			var pe *pipeline.Error
			if errors.As(err, &pe) {
				return pe
			}
			return err
		}
	}
	w.Profile.Metadata.Time.Update = w.Now
	batch := &storage.Batch{Profiles: append([]*domain.Profile{w.Profile}, w.ExtraProfiles...), Work: w.Outbox}
	if w.Session != nil {
		batch.Sessions = []*domain.Session{w.Session}
	}
	for _, ev := range w.Events {
		ev.Metadata.Status = domain.EventProcessed
		if w.Saved(ev) {
			batch.Events = append(batch.Events, ev)
		}
	}
	if err := c.store.Commit(ctx, batch); err != nil {
		drop()
		return err
	}
	if w.Session != nil {
		c.remember(w, true)
	} else if c.profiles != nil {
		c.profiles.Add(w.Profile.ID, w.Profile)
		for _, x := range w.ExtraProfiles {
			c.profiles.Add(x.ID, x)
		}
	}
	return nil
}
