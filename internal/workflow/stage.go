package workflow

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
)

// Process is pipeline step 7: for every new event of the request, every enabled rule
// for its type (and source) whose condition holds runs the deployed version of its
// flow. Flow failures are recorded in the run log; they never fail the request. With
// no rule for the request's event types, Process costs a map look-up per event.
//
// The engine may appear in the pipeline more than once: each pass handles the events
// added since the previous one (such as segment-entered events added by
// segmentation), so rules can react to them too.
func (e *Engine) Process(ctx context.Context, w *pipeline.Work) error {
	idx, err := e.ruleIndex(ctx)
	if err != nil {
		return err
	}
	if len(idx.byType) == 0 {
		return nil
	}
	st := stageStateOf(w)
	var rs *requestRun
	for ; st.next < len(w.Events); st.next++ { // flows may append injected events
		ev := w.Events[st.next]
		rules := idx.byType[ev.Type]
		if len(rules) == 0 || st.depth[ev] > e.cfg.MaxInjectDepth {
			continue
		}
		if rs == nil {
			rs = &requestRun{e: e, w: w, depth: st.depth, docs: NewDocs(w.Profile, w.Session, nil)}
		}
		if err := rs.event(ctx, ev, rules); err != nil {
			return err
		}
	}
	if rs != nil {
		if err := rs.docs.WriteBack(); err != nil {
			e.log.Warn("flow_changes_not_applied", "profile_id", w.Profile.ID, "error", err)
		}
	}
	return nil
}

// stageKey keeps a stageState in the collector's per-request state.
type stageKey struct{}

// stageState is what passes of the stage over one request share: how far they got in
// w.Events, and how deep in a chain of injections each injected event is.
type stageState struct {
	next  int
	depth map[*domain.Event]int
}

// requestRun is the state shared by the runs of one request.
type requestRun struct {
	e     *Engine
	w     *pipeline.Work
	docs  *Docs
	depth map[*domain.Event]int
}

func (rs *requestRun) event(ctx context.Context, ev *domain.Event, rules []*compiledRule) error {
	docs := rs.docs.forEvent(ev)
	var cx *Exec // for conditions: the documents, the event's properties as payload
	for _, cr := range rules {
		r := &cr.rule
		if r.SourceID != "" && r.SourceID != ev.Source.ID {
			continue
		}
		if !cr.cond.IsZero() {
			if cx == nil {
				cx = &Exec{docs: docs, memory: map[string]any{}, flow: map[string]any{}, now: time.Now()}
				cx.payload, _ = cx.Get(Ref{Scope: ScopeEvent, Path: "properties"})
			}
			if !cx.Eval(cr.cond) {
				continue
			}
		}
		prog, err := rs.e.production(ctx, r.FlowID)
		if err != nil {
			return err
		}
		if prog == nil {
			continue
		}
		t := prog.run(ctx, RunInput{Profile: rs.w.Profile, Session: rs.w.Session, Event: ev, RuleID: r.ID,
			Effects: &workEffects{rs: rs, parent: ev}, Logger: rs.e.log, docs: docs})
		prog.release()
		rs.e.runs.Add(t)
		ev.Metadata.ProcessedBy.Rules = append(ev.Metadata.ProcessedBy.Rules, r.ID)
		if !slices.Contains(ev.Metadata.ProcessedBy.Flows, r.FlowID) {
			ev.Metadata.ProcessedBy.Flows = append(ev.Metadata.ProcessedBy.Flows, r.FlowID)
		}
	}
	if err := docs.event.writeBack(); err != nil {
		rs.e.log.Warn("flow_changes_not_applied", "event_id", ev.ID, "error", err)
	}
	return nil
}

// workEffects applies a run's effects to the collector's work.
type workEffects struct {
	rs     *requestRun
	parent *domain.Event
}

func (we *workEffects) Respond(key string, v any) { we.rs.w.Response[key] = v }

func (we *workEffects) AddUX(v any) { we.rs.w.UX = append(we.rs.w.UX, v) }

func (we *workEffects) MergeOn(keys ...string) {
	we.rs.w.MergeKeys = appendUnique(we.rs.w.MergeKeys, keys...)
}

// Inject adds the event to the request; it is stored with the batch, and later stages
// (and this one) see it.
func (we *workEffects) Inject(ev *domain.Event, process bool) {
	we.rs.w.AddEvent(ev, true)
	d := we.rs.depth[we.parent] + 1
	if !process {
		d = we.rs.e.cfg.MaxInjectDepth + 1
	}
	we.rs.depth[ev] = d
}

// NewEvent builds an event of type typ in the same request as parent: same source,
// session and profile. Flows use it to inject events.
func NewEvent(parent *domain.Event, typ string, props map[string]any, now time.Time) *domain.Event {
	t := domain.NewTime(now)
	ev := &domain.Event{
		ID: uuid.Must(uuid.NewV7()).String(), Type: domain.NormalizeEventType(typ),
		Properties: props, Traits: map[string]any{}, Context: map[string]any{}, Data: map[string]any{},
		Tags: domain.Tags{Values: []string{"injected"}, Count: 1},
	}
	if ev.Properties == nil {
		ev.Properties = map[string]any{}
	}
	ev.Name = ev.Type
	ev.Metadata.Time = domain.EventTime{Insert: t, Create: t}
	ev.Metadata.Status = domain.EventCollected
	ev.Metadata.ProcessedBy = domain.ProcessedBy{Rules: []string{}, Flows: []string{}}
	if parent != nil {
		ev.Source, ev.Session, ev.Profile = parent.Source, parent.Session, parent.Profile
		ev.Metadata.IP, ev.Metadata.Channel = parent.Metadata.IP, parent.Metadata.Channel
		ev.Device, ev.OS, ev.App, ev.UTM, ev.Hit = parent.Device, parent.OS, parent.App, parent.UTM, parent.Hit
	}
	return ev
}
