// Package pipeline is the contract between the /track pipeline and its stages: the
// Stage interface, the Work item one request reads and changes, the construction of
// internal events, and the classes of errors a stage may answer with. It is a leaf:
// the collector (which runs the stages and commits) and every stage (identity,
// mapping, workflow, segment) import it, and it imports only the domain.
package pipeline

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// Stage is a step of the pipeline that runs after events are built and the profile is
// updated, and before the commit: identity merging, rules and workflows, segmentation.
// A stage answers an *Error to refuse the request with a class the caller maps to its
// answer; any other error fails the request as unavailable (retry later).
type Stage interface {
	Process(ctx context.Context, w *Work) error
}

// Replanner is a stage whose work items can be derived again from events stored
// already, without running anything twice: the delivery planner's event
// destinations. When a client retries events that were stored, the runner calls
// Replan with those events as stored (and the profile and session of w as they are
// now), after the stages and outside of them; it adds to w.Outbox items with the ids
// the first attempt used and Replanned set. This closes the gap of a store whose
// events and work items are not one atomic write (docs/architecture.md, "Background
// work"): the retry queues what the first attempt may have lost, and the ids keep it
// from being queued twice.
type Replanner interface {
	Replan(ctx context.Context, w *Work, stored []*domain.Event) error
}

// Work is everything one /track request reads and changes. Stages may change the
// profile, session and events, add profiles to store (merge tombstones), and add to the
// tracker's response.
type Work struct {
	Source     *domain.Source
	Profile    *domain.Profile
	Session    *domain.Session // nil outside a /track request (Collector.Mutate)
	NewProfile bool
	NewSession bool
	Events     []*domain.Event // new events of this request, in request order
	// ExtraProfiles are stored with the batch (e.g. profiles merged away).
	ExtraProfiles []*domain.Profile
	// Outbox is queued with the batch, in the same atomic write (destination
	// deliveries), so that a stored event's work is never lost.
	Outbox []*domain.WorkItem
	// Retried are the ids of the request's events stored already (a client's retry of
	// events it sent before): they are not processed again, but the runner has the
	// stages that implement Replanner plan their work again.
	Retried []string
	// MergeKeys are extra profile paths (e.g. "data.contact.email.main") on which a
	// workflow asked the identity stage to merge this profile.
	MergeKeys []string
	UX        []any
	Response  map[string]any
	Warnings  []string
	Now       domain.Time
	save      map[*domain.Event]bool
	deferred  []func()
	state     map[any]any
}

// State returns the value a stage stored under key for this request (nil if none).
func (w *Work) State(key any) any { return w.state[key] }

// SetState keeps a stage's per-request value under key (use an unexported key type).
func (w *Work) SetState(key, v any) {
	if w.state == nil {
		w.state = map[any]any{}
	}
	w.state[key] = v
}

// Defer registers fn to run once the request's batch is committed (or failed): stages
// use it to hold locks until their changes are durable.
func (w *Work) Defer(fn func()) { w.deferred = append(w.deferred, fn) }

// Done runs the functions registered with Defer, the newest first. The runner of the
// pipeline calls it once, after the commit succeeded or failed.
func (w *Work) Done() {
	for i := len(w.deferred) - 1; i >= 0; i-- {
		w.deferred[i]()
	}
	w.deferred = nil
}

// AddEvent appends ev to the request's events; save says whether it is stored with
// the request's batch (as an event with options.save does). Later stages see it.
func (w *Work) AddEvent(ev *domain.Event, save bool) {
	w.Events = append(w.Events, ev)
	if save {
		if w.save == nil {
			w.save = map[*domain.Event]bool{}
		}
		w.save[ev] = true
	}
}

// Saved reports whether ev, one of w.Events, is to be stored (the request's and the
// event's save options): a stage that takes an event out of w.Events and stores it
// itself (an event that failed its type's schema) honours it.
func (w *Work) Saved(ev *domain.Event) bool { return w.save[ev] }

// InternalSource is the source id (and metadata.channel) of events that ThamesThrive
// makes itself, such as segment-entered and segment-left: rules can tell them from
// events sent by clients with event@source.id == "internal".
const InternalSource = "internal"

// NewID returns a new UUIDv7: time-ordered ids for profiles, sessions and events.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// NewInternalEvent builds an internal event of typ for w's profile (and session, when
// there is one), with the same fields as events built from a request, adds it to w
// (stored with the batch) and returns it.
func NewInternalEvent(w *Work, typ string, properties map[string]any) *domain.Event {
	if properties == nil {
		properties = map[string]any{}
	}
	ev := &domain.Event{
		ID: NewID(), Type: domain.NormalizeEventType(typ),
		Source:     domain.Ref{ID: InternalSource},
		Profile:    domain.Ref{ID: w.Profile.ID},
		Properties: properties, Traits: map[string]any{}, Context: map[string]any{},
		Tags: domain.Tags{Values: []string{}},
	}
	ev.Name = strings.ReplaceAll(ev.Type, "-", " ")
	if s := w.Session; s != nil {
		ev.Session = domain.EventSession{ID: s.ID, Start: s.Metadata.Time.Timestamp, Duration: s.Metadata.Time.Duration}
		ev.UTM, ev.Device, ev.OS, ev.App = s.UTM, s.Device, s.OS, s.App
	}
	now := w.Now
	if now.IsZero() {
		now = domain.Now()
	}
	ev.Metadata.Time.Insert, ev.Metadata.Time.Create = now, now
	ev.Metadata.Status = domain.EventCollected
	ev.Metadata.Channel = InternalSource
	ev.Metadata.ProcessedBy = domain.ProcessedBy{Rules: []string{}, Flows: []string{}}
	w.AddEvent(ev, true)
	return ev
}
