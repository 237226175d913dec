// Package collector is the /track pipeline: it checks the source, loads or creates the
// session and profile under a lock, enriches the session, builds events, applies event
// types to the profile, runs the later stages (identity, rules, segments) and commits
// everything in one durable batch before it answers.
package collector

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Config configures a Collector.
type Config struct {
	Limits Limits
	// CacheSize is how many profiles and sessions are kept in memory between requests
	// (each); 0 disables the cache. Only a process that is the sole writer of its
	// store may cache (the embedded backend); replicas sharing a store must not.
	CacheSize int
	// SessionWork, when set, makes the work item that ends a session after its
	// timeout: queued with the request that starts a session (or reopens an ended
	// one, n counting the reopenings), docs/workers.md ("Sessions end").
	SessionWork func(s *domain.Session, n int64) *domain.WorkItem
	// TrackApplied records on each profile the events applied to it
	// (domain.ProfileMetadata.Applied), for a store whose commit can store an event and
	// lose its profile write (the production backend: separate documents of one _bulk);
	// a retry then applies such an event again. A transactional store does not need it.
	TrackApplied bool
}

// TrackResponse is the body /track answers.
type TrackResponse struct {
	Task     string         `json:"task" doc:"server-made id of this tracking request (Tracardi's task), never empty; processing is synchronous, so the task is complete when the answer arrives"`
	Profile  IDRef          `json:"profile" doc:"the profile the events were recorded on (after merges: keep this id)"`
	Session  IDRef          `json:"session" doc:"the session; send it back with the next request"`
	Events   []string       `json:"events" doc:"ids of the request's events, in order"`
	UX       []any          `json:"ux" doc:"UI instructions set by rules and flows for the page (Tracardi's ux)"`
	Response map[string]any `json:"response" doc:"data set by rules and flows for the client (Tracardi's response)"`
	Errors   []string       `json:"errors" doc:"always empty: a failed request is answered with an error status instead"`
	Warnings []string       `json:"warnings" doc:"what was ignored: unknown fields (by path, e.g. events[0].props), events already received"`
}

// Collector runs the pipeline.
type Collector struct {
	store    storage.Store
	locker   storage.Locker
	sources  *SourceCache
	stages   []pipeline.Stage
	types    map[string]*EventType
	lim      Limits
	profiles *lru.Cache[string, *domain.Profile]
	sessions *lru.Cache[string, *domain.Session]
	// sessionWork: Config.SessionWork.
	sessionWork func(s *domain.Session, n int64) *domain.WorkItem
	// trackApplied: Config.TrackApplied.
	trackApplied bool
}

// New returns a Collector over store.
func New(cfg Config, store storage.Store, locker storage.Locker, sources *SourceCache, stages ...pipeline.Stage) (*Collector, error) {
	c := &Collector{store: store, locker: locker, sources: sources, stages: stages, types: BuiltinEventTypes,
		lim: cfg.Limits.withDefaults(), sessionWork: cfg.SessionWork, trackApplied: cfg.TrackApplied}
	if cfg.CacheSize > 0 {
		var err error
		if c.profiles, err = lru.New[string, *domain.Profile](cfg.CacheSize); err != nil {
			return nil, fmt.Errorf("creating profile cache: %w", err)
		}
		if c.sessions, err = lru.New[string, *domain.Session](cfg.CacheSize); err != nil {
			return nil, fmt.Errorf("creating session cache: %w", err)
		}
	}
	return c, nil
}

// Limits returns the request limits in force.
func (c *Collector) Limits() Limits { return c.lim }

// Route names what a source may be used for.
type Route string

// Routes of the collector.
const (
	RouteTrack   Route = "track"
	RouteCollect Route = "collect"
)

// CheckSource returns the source if it exists, is enabled, may be used on route and
// accepts origin. Failures are *pipeline.Error of kind Unauthenticated or Forbidden
// (Unavailable when the store cannot be read).
func (c *Collector) CheckSource(ctx context.Context, id string, route Route, origin string) (*domain.Source, error) {
	src, err := c.sources.Get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !src.Enabled) {
		return nil, &pipeline.Error{Kind: pipeline.Unauthenticated, Field: "source.id", Message: fmt.Sprintf("%q is not an enabled event source", id)}
	}
	if err != nil {
		return nil, unavailable(err)
	}
	if route == RouteTrack && src.Type == domain.SourceWebhook {
		return nil, &pipeline.Error{Kind: pipeline.Unauthenticated, Field: "source.id", Message: fmt.Sprintf("%q is a webhook source; send to /collect", id)}
	}
	if origin != "" && !OriginAllowed(src.AllowedOrigins, origin) {
		return nil, &pipeline.Error{Kind: pipeline.Forbidden, Field: "Origin", Message: fmt.Sprintf("%q is not allowed for source %q", origin, id)}
	}
	return src, nil
}

// OriginAllowed reports whether origin matches one of allowed. An empty list allows
// every origin; entries may be "*" or use a leading wildcard label
// ("https://*.example.com").
func OriginAllowed(allowed []string, origin string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		a = strings.TrimSuffix(a, "/")
		switch {
		case a == "*" || strings.EqualFold(a, origin):
			return true
		case strings.Contains(a, "://*."):
			scheme, host, _ := strings.Cut(a, "://*.")
			if rest, ok := strings.CutPrefix(strings.ToLower(origin), strings.ToLower(scheme)+"://"); ok &&
				strings.HasSuffix(rest, "."+strings.ToLower(host)) {
				return true
			}
		}
	}
	return false
}

// Track runs the pipeline for a decoded request from an already checked source.
func (c *Collector) Track(ctx context.Context, src *domain.Source, req *TrackRequest, meta RequestMeta) (*TrackResponse, error) {
	track := c.track
	if req.ProfileLess {
		track = c.trackProfileLess
	}
	resp, err := track(ctx, src, req, meta)
	if resp != nil {
		resp.Task = pipeline.NewID()
	}
	return resp, err
}

func (c *Collector) track(ctx context.Context, src *domain.Source, req *TrackRequest, meta RequestMeta) (*TrackResponse, error) {
	start := time.Now()
	now := domain.NewTime(start)
	sid := ""
	if req.Session != nil {
		sid = req.Session.ID
	}
	if resp, err := c.replayed(ctx, src, req); resp != nil || err != nil {
		return resp, err
	}
	// A session id generated here is new: no store lookup can find it.
	var sess *domain.Session
	generated := sid == ""
	if generated {
		sid = pipeline.NewID()
	}
	unlockSession, err := c.locker.Lock(ctx, "session:"+sid)
	if err != nil {
		return nil, unavailable(err)
	}
	defer unlockSession()

	if !generated {
		if sess, err = c.loadSession(ctx, sid); err != nil {
			return nil, unavailable(err)
		}
	}
	// A profile id the client chose is adopted for a new profile only from trusted
	// (server-side) sources and from routes that derived it themselves; a browser gets
	// a server-made id instead of an unknown one, so it can neither choose nor forge ids.
	pid, adopt := "", src.Trusted || req.ServerIDs
	switch {
	case sess != nil:
		pid, adopt = sess.Profile.ID, true
	case req.Profile != nil && req.Profile.ID != "":
		pid = req.Profile.ID
	default:
		// A visitor referred by a link Tracardi's tracker patched (trackExternalLinks):
		// the referred profile, when it exists.
		pid = referredProfile(req.Context)
	}
	w := &pipeline.Work{Source: src, Session: sess, Now: now, Response: map[string]any{}, UX: []any{}}
	defer w.Done()
	unlockProfile, err := c.lockProfile(ctx, pid, w, adopt)
	if err != nil {
		return nil, err
	}
	defer unlockProfile()

	if w.Session == nil {
		w.NewSession = true
		w.Session = &domain.Session{ID: sid, Profile: domain.Ref{ID: w.Profile.ID},
			Metadata: domain.SessionMetadata{Time: domain.SessionTime{Insert: now, Timestamp: now}, Status: domain.SessionStarted},
			Context:  map[string]any{}, Properties: map[string]any{}}
		enrichSession(w.Session, req.Context, meta, "")
		if c.sessionWork != nil {
			w.Outbox = append(w.Outbox, c.sessionWork(w.Session, 0))
		}
		p := w.Profile
		p.Stats.Visits++
		p.Metadata.Time.Visit.Last = p.Metadata.Time.Visit.Current
		p.Metadata.Time.Visit.Current = now
		p.Metadata.Time.Visit.Count++
	} else {
		w.Session.Profile.ID = w.Profile.ID // follows a merge
		if w.Session.Metadata.Status == domain.SessionEnded && c.sessionWork != nil {
			w.Outbox = append(w.Outbox, c.sessionWork(w.Session, now.UnixMilli()))
		}
		w.Session.Metadata.Status = domain.SessionActive
		w.Session.Metadata.Time.Duration = now.Sub(w.Session.Metadata.Time.Timestamp.Time).Seconds()
	}
	if len(req.Properties) > 0 {
		for k, v := range req.Properties {
			w.Session.Properties[k] = v
		}
	}

	resp := &TrackResponse{Events: make([]string, 0, len(req.Events)), Errors: []string{}}
	if err := c.buildEvents(ctx, req, meta, w, resp); err != nil {
		return nil, err
	}
	if req.Apply != nil && len(w.Events) > 0 {
		// Not for a retry whose events were all received: it was applied then, and the
		// profile may have changed since.
		req.Apply(w.Profile)
	}
	for _, st := range c.stages {
		if err := st.Process(ctx, w); err != nil {
			var pe *pipeline.Error
			if errors.As(err, &pe) {
				return nil, pe
			}
			return nil, unavailable(err)
		}
	}
	if err := c.replan(ctx, w); err != nil {
		return nil, unavailable(err)
	}

	w.Profile.Metadata.Time.Update = now
	if c.trackApplied {
		for _, ev := range w.Events {
			w.Profile.MarkApplied(ev.ID, now)
		}
	}
	batch := &storage.Batch{Profiles: append([]*domain.Profile{w.Profile}, w.ExtraProfiles...), Work: w.Outbox}
	if req.Options.SaveSession == nil || *req.Options.SaveSession {
		batch.Sessions = []*domain.Session{w.Session}
	}
	elapsed := time.Since(start).Seconds()
	for _, ev := range w.Events {
		ev.Metadata.Time.ProcessTime = elapsed
		ev.Metadata.Status = domain.EventProcessed
		if w.Saved(ev) {
			batch.Events = append(batch.Events, ev)
		}
	}
	if err := c.store.Commit(ctx, batch); err != nil {
		c.forget(w)
		return nil, commitError(err)
	}
	c.remember(w, batch.Sessions != nil)

	resp.Profile = IDRef{ID: w.Profile.ID}
	resp.Session = IDRef{ID: w.Session.ID}
	resp.UX = w.UX
	resp.Response = w.Response
	resp.Warnings = append(append([]string{}, req.Warnings...), w.Warnings...)
	return resp, nil
}

// lockProfile locks and loads the profile pid (creating it when missing or empty),
// following merge tombstones to the surviving profile.
func (c *Collector) lockProfile(ctx context.Context, pid string, w *pipeline.Work, adopt bool) (func(), error) {
	if pid == "" {
		// A freshly generated UUIDv7 cannot be stored yet: skip the lookup.
		pid = pipeline.NewID()
		unlock, err := c.locker.Lock(ctx, "profile:"+pid)
		if err != nil {
			return nil, unavailable(err)
		}
		w.Profile = domain.NewProfile(pid, w.Now)
		w.NewProfile = true
		return unlock, nil
	}
	for hops := 0; ; hops++ {
		unlock, err := c.locker.Lock(ctx, "profile:"+pid)
		if err != nil {
			return nil, unavailable(err)
		}
		p, err := c.loadProfile(ctx, pid)
		if err != nil {
			unlock()
			return nil, unavailable(err)
		}
		switch {
		case p == nil && !adopt && hops == 0:
			unlock()
			return c.lockProfile(ctx, "", w, false)
		case p == nil:
			w.Profile = domain.NewProfile(pid, w.Now)
			w.NewProfile = true
			return unlock, nil
		case !p.Merged():
			w.Profile = p
			return unlock, nil
		case hops >= 16:
			unlock()
			return nil, pipeline.Unavailablef(nil, "profile %q merge chain too long", pid)
		}
		unlock()
		pid = p.Metadata.MergedInto
	}
}

func (c *Collector) loadProfile(ctx context.Context, id string) (*domain.Profile, error) {
	if c.profiles != nil {
		if p, ok := c.profiles.Get(id); ok {
			return p, nil
		}
	}
	p, err := c.store.Profiles().Get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return p, err
}

func (c *Collector) loadSession(ctx context.Context, id string) (*domain.Session, error) {
	if c.sessions != nil {
		if s, ok := c.sessions.Get(id); ok {
			return s, nil
		}
	}
	s, err := c.store.Sessions().Get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return s, err
}

// remember caches what was just committed; forget drops what a failed commit may have
// left half-changed in the cache (objects are changed in place under the locks).
func (c *Collector) remember(w *pipeline.Work, sessionSaved bool) {
	if c.profiles == nil {
		return
	}
	c.profiles.Add(w.Profile.ID, w.Profile)
	for _, p := range w.ExtraProfiles {
		c.profiles.Add(p.ID, p)
	}
	if sessionSaved {
		c.sessions.Add(w.Session.ID, w.Session)
	} else {
		c.sessions.Remove(w.Session.ID)
	}
}

func (c *Collector) forget(w *pipeline.Work) {
	if c.profiles == nil {
		return
	}
	c.forgetProfiles(w)
	c.sessions.Remove(w.Session.ID)
}

// ForgetProfile drops a profile from the cache (after it was changed or deleted
// outside the pipeline).
func (c *Collector) ForgetProfile(id string) {
	if c.profiles != nil {
		c.profiles.Remove(id)
	}
}

func (c *Collector) buildEvents(ctx context.Context, req *TrackRequest, meta RequestMeta, w *pipeline.Work, resp *TrackResponse) error {
	var clientIDs []string
	seen := make(map[string]bool, len(req.Events))
	for _, te := range req.Events {
		if te.ID != "" && !seen[te.ID] {
			seen[te.ID] = true
			clientIDs = append(clientIDs, te.ID)
		}
	}
	stored := map[string]bool{}
	if len(clientIDs) > 0 {
		var err error
		if stored, err = c.store.Events().Existing(ctx, clientIDs); err != nil {
			return unavailable(err)
		}
	}
	saveAll := req.Options.SaveEvents == nil || *req.Options.SaveEvents
	clear(seen)
	for i := range req.Events {
		te := &req.Events[i]
		id := te.ID
		if id != "" && (seen[id] || stored[id] && c.applied(ctx, w, id)) {
			// A retry of an event already stored and applied: acknowledge it, do not
			// count it twice, and have its work planned again (replan).
			if stored[id] && !seen[id] {
				seen[id] = true
				w.Retried = append(w.Retried, id)
			}
			resp.Events = append(resp.Events, id)
			w.Warnings = append(w.Warnings, fmt.Sprintf("event %q was already received; it was not processed again", id))
			continue
		}
		if id == "" {
			id = pipeline.NewID()
		}
		seen[id] = true
		ev := c.newEvent(id, te, req, meta, w)
		if t := c.types[ev.Type]; t != nil {
			field := fmt.Sprintf("events[%d]", i)
			var consents map[string]domain.Consent
			if t.Consents {
				var err error
				if consents, err = c.readConsents(ctx, field, ev, w.Now); err != nil {
					return err
				}
			}
			if err := t.apply(field, ev, w.Profile); err != nil {
				return err
			}
			for id, cs := range consents {
				w.Profile.Consents[id] = cs
			}
		}
		w.AddEvent(ev, saveAll && (te.Options.Save == nil || *te.Options.Save))
		resp.Events = append(resp.Events, id)
	}
	return nil
}

// applied tells whether the event id, found stored already, had its change to the
// profile applied. On the production backend the event and the profile are separate
// documents of one bulk write, and a failed commit can store the event but lose the
// profile write: its retry must apply the event again (the event document itself is
// create-only, so it stays as it was). The profile lists the events applied to it
// (domain.Profile.AppliedState); when that cannot tell, the event counts as applied,
// so that nothing is ever counted twice.
func (c *Collector) applied(ctx context.Context, w *pipeline.Work, id string) bool {
	if !c.trackApplied {
		return true // a transactional store: the event was stored with its profile
	}
	if w.NewProfile {
		return false // nothing was applied to a profile that was never stored
	}
	if len(w.Profile.Metadata.Applied) == 0 {
		return true // a profile written before the list existed: unknown
	}
	if ok, _ := w.Profile.AppliedState(id, domain.Time{}); ok {
		return true
	}
	ev, err := c.store.Events().Get(ctx, id)
	if err != nil {
		return true // gone since, or unreadable: as before the list, counted as applied
	}
	applied, known := w.Profile.AppliedState(id, ev.Metadata.Time.Insert)
	return applied || !known
}

func (c *Collector) newEvent(id string, te *TrackEvent, req *TrackRequest, meta RequestMeta, w *pipeline.Work) *domain.Event {
	s := w.Session
	ev := &domain.Event{
		ID: id, Type: domain.NormalizeEventType(te.Type), Name: te.Name,
		Source:     domain.Ref{ID: w.Source.ID},
		Session:    domain.EventSession{ID: s.ID, Start: s.Metadata.Time.Timestamp, Duration: s.Metadata.Time.Duration},
		Profile:    domain.Ref{ID: w.Profile.ID},
		Properties: te.Properties, Traits: te.Traits, Context: te.Context,
		UTM: s.UTM, Device: s.Device, OS: s.OS, App: s.App,
		Tags: domain.Tags{Values: te.Tags, Count: len(te.Tags)},
	}
	if ev.Name == "" {
		ev.Name = strings.ReplaceAll(ev.Type, "-", " ")
	}
	if ev.Properties == nil {
		ev.Properties = map[string]any{}
	}
	if ev.Traits == nil {
		ev.Traits = map[string]any{}
	}
	if ev.Tags.Values == nil {
		ev.Tags.Values = []string{}
	}
	ctxDoc := te.Context
	if len(ctxDoc) == 0 {
		ctxDoc = req.Context
		ev.Context = req.Context
	}
	if ev.Context == nil {
		ev.Context = map[string]any{}
	}
	ev.Hit = hitFrom(ctxDoc)
	ev.Metadata.Time.Insert = w.Now
	ev.Metadata.Time.Create = w.Now
	if te.Time.Create != nil && !te.Time.Create.IsZero() {
		ev.Metadata.Time.Create = *te.Time.Create
	}
	ev.Metadata.IP = meta.IP
	ev.Metadata.Status = domain.EventCollected
	ev.Metadata.Channel = s.Metadata.Channel
	ev.Metadata.ProcessedBy = domain.ProcessedBy{Rules: []string{}, Flows: []string{}}
	return ev
}

// Mutate changes one stored profile outside a /track request (batch segmentation, API
// edits) with the same locking, caching and durability as the pipeline: fn runs under
// the profile's lock on its current state (w.Session is nil, w.Events empty); whatever
// fn leaves in w.Profile, w.ExtraProfiles and w.Events is committed together. A merged
// id is followed to its survivor. It answers storage.ErrNotFound for an unknown id and
// stores nothing when fn returns an error.
func (c *Collector) Mutate(ctx context.Context, profileID string, fn func(w *pipeline.Work) error) error {
	w := &pipeline.Work{Now: domain.Now(), Response: map[string]any{}}
	defer w.Done()
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
	if w.NewProfile { // deleted between the check and the lock
		return fmt.Errorf("profile %q: %w", profileID, storage.ErrNotFound)
	}
	if err := fn(w); err != nil {
		c.forgetProfiles(w)
		return err
	}
	w.Profile.Metadata.Time.Update = w.Now
	batch := &storage.Batch{Profiles: append([]*domain.Profile{w.Profile}, w.ExtraProfiles...), Events: w.Events, Work: w.Outbox}
	if err := c.store.Commit(ctx, batch); err != nil {
		c.forgetProfiles(w)
		return err
	}
	if c.profiles != nil {
		c.profiles.Add(w.Profile.ID, w.Profile)
		for _, x := range w.ExtraProfiles {
			c.profiles.Add(x.ID, x)
		}
	}
	return nil
}

func (c *Collector) forgetProfiles(w *pipeline.Work) {
	if c.profiles == nil {
		return
	}
	c.profiles.Remove(w.Profile.ID)
	for _, p := range w.ExtraProfiles {
		c.profiles.Remove(p.ID)
	}
}

// referredProfile is the profile id a Tracardi-patched link carried: context.tracardi.pass
// (its tracker's body) or __tr_pid in the page URL.
func referredProfile(ctx map[string]any) string {
	if v, ok := domain.GetPath(ctx, "tracardi.pass.profile"); ok {
		switch x := v.(type) {
		case string:
			return x
		case map[string]any:
			if id, ok := x["id"].(string); ok {
				return id
			}
		}
	}
	if raw, ok := domain.GetPath(ctx, "page.url"); ok {
		if s, ok := raw.(string); ok && strings.Contains(s, "__tr_pid=") {
			if u, err := url.Parse(s); err == nil {
				return u.Query().Get("__tr_pid")
			}
		}
	}
	return ""
}

// replan plans again the work of the request's events that were stored already
// (w.Retried, a client's retry), with the ids the first attempt used (Replanned set):
// the first attempt may have stored its events and lost its work items, on a store
// where the two are not one atomic write (docs/architecture.md, "Background work").
// The stages that implement pipeline.Replanner (the delivery planner's event
// destinations) plan from the events as stored; and when the request that stored an
// event started its session (the session and the event were inserted at the same
// instant), the check that ends the session is queued again under its first id. Work
// that only running the flows again could derive (a sleeping run, a scheduled event)
// is not: running them again would repeat their effects.
func (c *Collector) replan(ctx context.Context, w *pipeline.Work) error {
	if len(w.Retried) == 0 {
		return nil
	}
	var rps []pipeline.Replanner
	for _, st := range c.stages {
		if rp, ok := st.(pipeline.Replanner); ok {
			rps = append(rps, rp)
		}
	}
	if len(rps) == 0 && c.sessionWork == nil {
		return nil
	}
	events := make([]*domain.Event, 0, len(w.Retried))
	for _, id := range w.Retried {
		ev, err := c.store.Events().Get(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue // deleted since (erased, or past retention): nothing to plan
		}
		if err != nil {
			return err
		}
		events = append(events, ev)
	}
	for _, rp := range rps {
		if err := rp.Replan(ctx, w, events); err != nil {
			return err
		}
	}
	if s := w.Session; c.sessionWork != nil && s != nil && !w.NewSession {
		for _, ev := range events {
			if ev.Session.ID == s.ID && ev.Metadata.Time.Insert.UnixMilli() == s.Metadata.Time.Insert.UnixMilli() {
				it := c.sessionWork(s, 0)
				it.Replanned = true
				w.Outbox = append(w.Outbox, it)
				break
			}
		}
	}
	return nil
}

// replayed answers a retry that names no profile or session and whose events (all with
// client ids) were all received already: it creates nothing and answers the ids those
// events were stored with (following merges). It commits only the events' work planned
// again (replan), from the profile and session as stored: written create-only under
// the first attempt's ids, they need neither lock. nil, nil: not such a retry.
func (c *Collector) replayed(ctx context.Context, src *domain.Source, req *TrackRequest) (*TrackResponse, error) {
	if (req.Session != nil && req.Session.ID != "") || (req.Profile != nil && req.Profile.ID != "") {
		return nil, nil
	}
	ids := make([]string, 0, len(req.Events))
	for i := range req.Events {
		if req.Events[i].ID == "" {
			return nil, nil
		}
		ids = append(ids, req.Events[i].ID)
	}
	stored, err := c.store.Events().Existing(ctx, ids)
	if err != nil {
		return nil, unavailable(err)
	}
	for _, id := range ids {
		if !stored[id] {
			return nil, nil
		}
	}
	ev, err := c.store.Events().Get(ctx, ids[0])
	if err != nil {
		return nil, nil // deleted meanwhile: process it as new
	}
	pid := ev.Profile.ID
	for hops := 0; hops < 16; hops++ {
		p, err := c.loadProfile(ctx, pid)
		if err != nil {
			return nil, unavailable(err)
		}
		if p == nil || !p.Merged() {
			break
		}
		pid = p.Metadata.MergedInto
	}
	if lost, err := c.profileWriteLost(ctx, pid, ids); err != nil {
		return nil, unavailable(err)
	} else if lost {
		// The first attempt stored the events but lost its profile write (production
		// backend): process the retry as one naming the ids that attempt made, so that
		// the profile is written and the events are applied to it once.
		req.Profile, req.Session, req.ServerIDs = &IDRef{ID: ev.Profile.ID}, &IDRef{ID: ev.Session.ID}, true
		return nil, nil
	}
	if err := c.replayWork(ctx, src, pid, ev.Session.ID, ids); err != nil {
		return nil, err
	}
	resp := &TrackResponse{Profile: IDRef{ID: pid}, Session: IDRef{ID: ev.Session.ID}, Events: ids,
		UX: []any{}, Response: map[string]any{}, Errors: []string{}, Warnings: append([]string{}, req.Warnings...)}
	for _, id := range ids {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("event %q was already received; it was not processed again", id))
	}
	return resp, nil
}

// profileWriteLost tells whether a replayed request's first attempt stored its events
// but not its profile: the profile (pid, merges followed) is missing or does not list
// an event as applied (applied). Only on a store whose commit is not one atomic write
// (Config.TrackApplied); the profile is read from the store, not the cache.
func (c *Collector) profileWriteLost(ctx context.Context, pid string, ids []string) (bool, error) {
	if !c.trackApplied {
		return false, nil
	}
	p, err := c.store.Profiles().Get(ctx, pid)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	w := &pipeline.Work{Profile: p}
	for _, id := range ids {
		if !c.applied(ctx, w, id) {
			return true, nil
		}
	}
	return false, nil
}

// replayWork plans and commits the work of a replayed request's events (replan). The
// profile and session are read from the store, not the cache: the cached objects
// belong to whoever holds their locks.
func (c *Collector) replayWork(ctx context.Context, src *domain.Source, pid, sid string, ids []string) error {
	w := &pipeline.Work{Source: src, Now: domain.Now(), Response: map[string]any{}, UX: []any{}}
	defer w.Done()
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			w.Retried = append(w.Retried, id)
		}
	}
	var err error
	if w.Profile, err = c.store.Profiles().Get(ctx, pid); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return unavailable(err)
	}
	if sid != "" {
		if w.Session, err = c.store.Sessions().Get(ctx, sid); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return unavailable(err)
		}
	}
	if err := c.replan(ctx, w); err != nil {
		return unavailable(err)
	}
	if len(w.Outbox) == 0 {
		return nil
	}
	if err := c.store.Commit(ctx, &storage.Batch{Work: w.Outbox}); err != nil {
		return commitError(err)
	}
	return nil
}
