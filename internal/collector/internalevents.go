package collector

import (
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// InternalSource is the source id (and metadata.channel) of events that ThamesThrive
// makes itself, such as segment-entered and segment-left: rules can tell them from
// events sent by clients with event@source.id == "internal".
const InternalSource = "internal"

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

// NewInternalEvent builds an internal event of typ for w's profile (and session, when
// there is one), with the same fields as events built from a request, adds it to w
// (stored with the batch) and returns it.
func NewInternalEvent(w *Work, typ string, properties map[string]any) *domain.Event {
	if properties == nil {
		properties = map[string]any{}
	}
	ev := &domain.Event{
		ID: newID(), Type: domain.NormalizeEventType(typ),
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
