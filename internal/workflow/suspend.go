package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Queue topics of the time-based work flows create (docs/workers.md, "Time in
// workflows"): suspended runs to resume, and events scheduled for later.
const (
	TopicResume   = "flow-resume"
	TopicEventDue = "event-due"
)

// MaxDelay is the longest a run may sleep or an event may be scheduled ahead: 90 days.
// Flows asking for more are refused when they are saved.
const MaxDelay = 90 * 24 * time.Hour

// continuationVersion is the version of the encoding of a Continuation.
const continuationVersion = 1

// Continuation is the durable state of a run suspended at a node (sleep): what a
// worker needs to run the rest of the flow later. The run resumes with the node's
// output port fed Payload; the nodes before it do not run again.
type Continuation struct {
	V int `json:"v"`
	// Key identifies the suspension (run id and node id); it is the queue item's id.
	Key       string         `json:"key"`
	FlowID    string         `json:"flow_id"`
	Version   int64          `json:"flow_version"` // the deployed version that ran
	RuleID    string         `json:"rule_id,omitempty"`
	Node      string         `json:"node"` // resume at this node's output
	Port      string         `json:"port"`
	Payload   any            `json:"payload"`
	Memory    map[string]any `json:"memory"`
	Event     *domain.Event  `json:"event,omitempty"` // the event that started the run
	ProfileID string         `json:"profile_id"`
	SessionID string         `json:"session_id,omitempty"`
	Suspended domain.Time    `json:"suspended"`
	Due       domain.Time    `json:"due"`
}

// EncodeContinuation encodes c for the queue.
func EncodeContinuation(c *Continuation) ([]byte, error) {
	c.V = continuationVersion
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding the suspended run %s: %w", c.Key, err)
	}
	return b, nil
}

// DecodeContinuation decodes a queued continuation and checks that it can be resumed.
func DecodeContinuation(b []byte) (*Continuation, error) {
	var c Continuation
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decoding a suspended run: %w", err)
	}
	switch {
	case c.V != continuationVersion:
		return nil, fmt.Errorf("suspended run %q: unknown encoding version %d", c.Key, c.V)
	case c.Key == "" || c.FlowID == "" || c.Node == "" || c.ProfileID == "":
		return nil, fmt.Errorf("suspended run %q: key, flow_id, node and profile_id are required", c.Key)
	case c.Version <= 0:
		return nil, fmt.Errorf("suspended run %q: only deployed versions resume (flow_version %d)", c.Key, c.Version)
	}
	if c.Port == "" {
		c.Port = DefaultPort
	}
	if c.Memory == nil {
		c.Memory = map[string]any{}
	}
	return &c, nil
}

// Later is implemented by run Effects that can queue work for later: the /track
// pipeline's (the queue item is committed with the request). Debugger runs have none.
type Later interface {
	// Suspend queues c to be resumed after delay.
	Suspend(c *Continuation, delay time.Duration) error
	// Schedule queues ev to be processed as if tracked after delay; key makes the
	// queue item unique.
	Schedule(key string, ev *domain.Event, delay time.Duration) error
}

// ErrNoQueue is the error of a node that needs the work queue in a run that has none.
var ErrNoQueue = errors.New("this run cannot queue work for later (no work queue: the production store needs REDIS_HOST)")

// Suspend ends the current branch of the run here and queues the rest of it (what
// follows the current node's port) to run after delay with payload. Other branches of
// the run go on.
func (x *Exec) Suspend(delay time.Duration, port string, payload any) (time.Time, error) {
	l, ok := x.effects.(Later)
	if !ok {
		return time.Time{}, ErrNoQueue
	}
	if x.prog == nil || x.prog.Version <= 0 {
		return time.Time{}, errors.New("only a deployed flow can sleep")
	}
	node := ""
	if x.cur != nil {
		node = x.cur.NodeID
	}
	now := time.Now()
	due := now.Add(delay)
	c := &Continuation{Key: x.runID + ":" + node, FlowID: x.prog.FlowID, Version: x.prog.Version, RuleID: x.ruleID,
		Node: node, Port: port, Payload: cloneJSON(toJSON(payload)), Memory: cloneJSON(x.memory).(map[string]any),
		Event: x.trigger, Suspended: domain.NewTime(now), Due: domain.NewTime(due)}
	if p := x.docs.profile; p != nil {
		if id, ok := p.get("id"); ok {
			c.ProfileID, _ = id.(string)
		}
	}
	if s := x.docs.session; s != nil {
		if id, ok := s.get("id"); ok {
			c.SessionID, _ = id.(string)
		}
	}
	if c.ProfileID == "" && x.trigger != nil {
		c.ProfileID = x.trigger.Profile.ID
	}
	if c.ProfileID == "" {
		return time.Time{}, errors.New("a run without a profile cannot sleep")
	}
	return due, l.Suspend(c, delay)
}

// ScheduleEvent queues ev to be processed after delay, as if it was tracked then.
func (x *Exec) ScheduleEvent(ev *domain.Event, delay time.Duration) error {
	l, ok := x.effects.(Later)
	if !ok {
		return ErrNoQueue
	}
	node := ""
	if x.cur != nil {
		node = x.cur.NodeID
	}
	return l.Schedule(x.runID+":"+node+":"+ev.ID, ev, delay)
}

// Suspend implements Later: the continuation is queued with the request's batch.
func (we *workEffects) Suspend(c *Continuation, delay time.Duration) error {
	b, err := EncodeContinuation(c)
	if err != nil {
		return err
	}
	we.rs.w.Outbox = append(we.rs.w.Outbox, &storage.WorkItem{ID: "resume:" + c.Key, Topic: TopicResume, Payload: b, Delay: delay})
	return nil
}

// ScheduledEvent is the queue item of an event scheduled for later.
type ScheduledEvent struct {
	Key   string        `json:"key"`
	Event *domain.Event `json:"event"`
}

// Schedule implements Later.
func (we *workEffects) Schedule(key string, ev *domain.Event, delay time.Duration) error {
	b, err := json.Marshal(ScheduledEvent{Key: key, Event: ev})
	if err != nil {
		return fmt.Errorf("encoding the scheduled event: %w", err)
	}
	we.rs.w.Outbox = append(we.rs.w.Outbox, &storage.WorkItem{ID: "event:" + key, Topic: TopicEventDue, Payload: b, Delay: delay})
	return nil
}

// ErrFlowOff is Resume's answer for a flow that was deleted or disabled while the run
// slept: the rest of the run is dropped.
var ErrFlowOff = errors.New("the flow was deleted or disabled since the run was suspended")

// Resume runs the rest of a suspended run against w (the profile and session as they
// are now, locked by the caller, who commits w). It answers an error when the run
// cannot be resumed at all (its flow or version is gone); node failures are in the
// trace, as for any run.
func (e *Engine) Resume(ctx context.Context, w *pipeline.Work, c *Continuation) (*Trace, error) {
	prog, err := e.production(ctx, c.FlowID)
	if err != nil {
		return nil, err
	}
	if prog == nil || prog.Version != c.Version {
		if prog != nil {
			prog.release()
		}
		f, err := e.LoadFlow(ctx, c.FlowID)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && !f.Enabled) {
			return nil, ErrFlowOff
		}
		if err != nil {
			return nil, err
		}
		v, err := e.Version(ctx, c.FlowID, c.Version)
		if err != nil {
			return nil, fmt.Errorf("resuming flow %q version %d: %w", c.FlowID, c.Version, err)
		}
		if prog, err = e.Compile(ctx, c.FlowID, v.Graph, "graph", true); err != nil {
			return nil, fmt.Errorf("resuming flow %q version %d: %w", c.FlowID, c.Version, err)
		}
		prog.FlowID, prog.Version = c.FlowID, c.Version
		defer prog.Close()
	} else {
		defer prog.release()
	}
	if prog.node(c.Node) == nil {
		return nil, fmt.Errorf("resuming flow %q version %d: no node %q", c.FlowID, c.Version, c.Node)
	}
	st := stageStateOf(w)
	rs := &requestRun{e: e, w: w, depth: st.depth, docs: NewDocs(w.Profile, w.Session, nil)}
	ev := c.Event
	if ev == nil {
		ev = &domain.Event{Profile: domain.Ref{ID: c.ProfileID}}
	}
	docs := rs.docs.forEvent(ev)
	t := prog.run(ctx, RunInput{Profile: w.Profile, Session: w.Session, Event: ev, RuleID: c.RuleID, Payload: c.Payload,
		Memory: c.Memory, Effects: &workEffects{rs: rs, parent: ev}, Logger: e.log, docs: docs,
		resumeAt: c.Node, resumePort: c.Port})
	if err := errors.Join(docs.profile.writeBack(), docs.session.writeBack()); err != nil && t.Error == "" {
		t.Status, t.Error = RunFailed, "applying changes: "+err.Error()
	}
	e.runs.Add(t)
	return t, nil
}

func stageStateOf(w *pipeline.Work) *stageState {
	st, _ := w.State(stageKey{}).(*stageState)
	if st == nil {
		st = &stageState{depth: map[*domain.Event]int{}}
		w.SetState(stageKey{}, st)
	}
	return st
}

// node returns the compiled node id, or nil.
func (p *Program) node(id string) *cnode {
	for _, n := range p.nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// RunFlow runs the deployed version of flow id once, from its start nodes, for ev
// (which is not stored) against w's profile and session, or without a profile when w
// is nil (a scheduled run with target "once": nothing is stored and nothing can be
// queued for later). It answers nil, nil when the flow does not run (disabled, never
// deployed). Scheduled runs use it.
func (e *Engine) RunFlow(ctx context.Context, w *pipeline.Work, id string, ev *domain.Event) (*Trace, error) {
	prog, err := e.production(ctx, id)
	if err != nil || prog == nil {
		return nil, err
	}
	defer prog.release()
	in := RunInput{Event: ev, Logger: e.log}
	if w != nil {
		st := stageStateOf(w)
		rs := &requestRun{e: e, w: w, depth: st.depth, docs: NewDocs(w.Profile, w.Session, nil)}
		in.Profile, in.Session, in.Effects, in.docs = w.Profile, w.Session, &workEffects{rs: rs, parent: ev}, rs.docs.forEvent(ev)
	} else {
		in.docs = NewDocs(nil, nil, ev)
	}
	t := prog.run(ctx, in)
	if err := errors.Join(in.docs.profile.writeBack(), in.docs.session.writeBack()); err != nil && t.Error == "" {
		t.Status, t.Error = RunFailed, "applying changes: "+err.Error()
	}
	e.runs.Add(t)
	return t, nil
}
