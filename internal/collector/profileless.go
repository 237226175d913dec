package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// trackProfileLess records the events of a request sent with profile_less (Tracardi's
// ?profile_less=true): no profile and no session is read, created or written. The
// events are stored with empty profile and session ids, enriched from the request's
// context (device, page, UTM) as usual; the stages that act on a profile (identity,
// rules, segments, destinations) do not run, and an event type's effect on the
// profile (identify's traits, consent-update) is dropped with a warning. The answer's
// profile and session ids are empty.
func (c *Collector) trackProfileLess(ctx context.Context, src *domain.Source, req *TrackRequest, meta RequestMeta) (*TrackResponse, error) {
	start := time.Now()
	now := domain.NewTime(start)
	// A transient session and profile: they give the events their context and absorb
	// event types' profile effects, and are never stored.
	sess := &domain.Session{Metadata: domain.SessionMetadata{Time: domain.SessionTime{Insert: now, Timestamp: now}},
		Context: map[string]any{}, Properties: map[string]any{}}
	enrichSession(sess, req.Context, meta, "")
	w := &pipeline.Work{Source: src, Session: sess, Profile: domain.NewProfile("", now), Now: now,
		Response: map[string]any{}, UX: []any{}}
	defer w.Done()
	resp := &TrackResponse{Events: make([]string, 0, len(req.Events)), Errors: []string{}}
	if err := c.buildEvents(ctx, req, meta, w, resp); err != nil {
		return nil, err
	}
	batch := &storage.Batch{}
	elapsed := time.Since(start).Seconds()
	for i, ev := range w.Events {
		ev.Profile = domain.Ref{}
		ev.Metadata.Time.ProcessTime = elapsed
		ev.Metadata.Status = domain.EventProcessed
		if w.Saved(ev) {
			batch.Events = append(batch.Events, ev)
		}
		if c.types[ev.Type] != nil && c.types[ev.Type].changesProfile() {
			w.Warnings = append(w.Warnings, fmt.Sprintf("event %q (%s) changes a profile; sent with profile_less, no profile was changed", resp.Events[i], ev.Type))
		}
	}
	if len(batch.Events) > 0 {
		if err := c.store.Commit(ctx, batch); err != nil {
			return nil, commitError(err)
		}
	}
	resp.UX = w.UX
	resp.Response = w.Response
	resp.Warnings = append(append([]string{}, req.Warnings...), w.Warnings...)
	return resp, nil
}
