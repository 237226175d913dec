package workflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// Limits bound one run of a flow.
type Limits struct {
	// MaxSteps is how many nodes one run may execute; default 100.
	MaxSteps int
	// MaxDuration is the wall time one run may take; default 5s. Nodes in flight are
	// cancelled through their context.
	MaxDuration time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxSteps <= 0 {
		l.MaxSteps = 100
	}
	if l.MaxDuration <= 0 {
		l.MaxDuration = 5 * time.Second
	}
	return l
}

// Run statuses.
const (
	RunOK      = "ok"      // every node that ran succeeded
	RunFailed  = "failed"  // some node failed; its branch stopped
	RunStopped = "stopped" // a limit stopped the run
)

// Node statuses in a trace.
const (
	NodeOK      = "ok"
	NodeError   = "error"
	NodeSkipped = "skipped" // no value reached it
	NodeNotRun  = "not-run" // the run stopped before it
)

// Trace is the record of one run.
type Trace struct {
	RunID       string      `json:"run_id"`
	FlowID      string      `json:"flow_id"`
	FlowVersion int64       `json:"flow_version"` // 0: the draft
	RuleID      string      `json:"rule_id,omitempty"`
	EventID     string      `json:"event_id,omitempty"`
	EventType   string      `json:"event_type,omitempty"`
	ProfileID   string      `json:"profile_id,omitempty"`
	Started     domain.Time `json:"started"`
	DurationMS  float64     `json:"duration_ms"`
	Status      string      `json:"status"`
	Error       string      `json:"error,omitempty"`
	Steps       int         `json:"steps"`
	Nodes       []NodeTrace `json:"nodes"`
}

// NodeTrace is one node's part of a run. Input and Outputs are kept by debug runs only.
type NodeTrace struct {
	NodeID     string         `json:"node_id"`
	Type       string         `json:"type"`
	Status     string         `json:"status"`
	InputPorts []string       `json:"input_ports,omitempty"`
	Input      any            `json:"input,omitempty"`
	Ports      []string       `json:"ports"`
	Outputs    map[string]any `json:"outputs,omitempty"`
	DurationMS float64        `json:"duration_ms"`
	Error      string         `json:"error,omitempty"`
	Logs       []string       `json:"logs,omitempty"`
}

// RunInput is what one run starts from.
type RunInput struct {
	Profile *domain.Profile
	Session *domain.Session
	Event   *domain.Event
	// Payload is the initial payload; nil means a copy of the event's properties.
	Payload any
	// Memory is the run's initial memory (nil: empty).
	Memory  map[string]any
	Effects Effects
	// Debug keeps each node's input and outputs in the trace.
	Debug  bool
	RuleID string
	Logger *slog.Logger
	// Now is the run's clock (zero: time.Now()).
	Now time.Time

	docs *Docs // shared with other runs of the same request
	// resumeAt, when set, resumes a suspended run: instead of the start nodes, the
	// node resumeAt's port resumePort emits Payload (Engine.Resume).
	resumeAt, resumePort string
}

// Run executes the program once. Changes to the profile, session and event are
// written back into the typed objects before it returns. A run never fails as a
// whole: node errors and limits are in the trace.
func (p *Program) Run(ctx context.Context, in RunInput) *Trace {
	docs := in.docs
	if docs == nil {
		docs = NewDocs(in.Profile, in.Session, in.Event)
		in.docs = docs
	}
	t := p.run(ctx, in)
	if err := docs.WriteBack(); err != nil && t.Error == "" {
		t.Status, t.Error = RunFailed, "applying changes: "+err.Error()
	}
	return t
}

func (p *Program) run(ctx context.Context, in RunInput) *Trace {
	start := time.Now()
	now := in.Now
	if now.IsZero() {
		now = start
	}
	t := &Trace{RunID: newRunID(), FlowID: p.FlowID, FlowVersion: p.Version, RuleID: in.RuleID,
		Started: domain.NewTime(start), Status: RunOK, Nodes: make([]NodeTrace, 0, len(p.nodes))}
	if in.Event != nil {
		t.EventID, t.EventType, t.ProfileID = in.Event.ID, in.Event.Type, in.Event.Profile.ID
	}
	if in.Profile != nil {
		t.ProfileID = in.Profile.ID
	}
	effects := in.Effects
	if effects == nil {
		effects = NewRecorder()
	}
	memory := in.Memory
	if memory == nil {
		memory = map[string]any{}
	}
	x := &Exec{docs: in.docs, memory: memory, now: now, effects: effects, debug: in.Debug, log: in.Logger,
		trigger: in.Event, prog: p, runID: t.RunID, ruleID: in.RuleID}
	initial := in.Payload
	if initial == nil {
		props, _ := x.Get(Ref{Scope: ScopeEvent, Path: "properties"})
		initial = props
		if initial == nil {
			initial = map[string]any{}
		}
	}
	initial = toJSON(initial) // a copy: toJSON builds new objects and arrays

	rctx := newRunCtx(ctx, p.limits.MaxDuration)
	defer rctx.stop()
	ctx = rctx
	// Each node's deliveries go in its own part of one array, sized for one value
	// per incoming edge (and the start value); more spill over into a new array.
	pending := make([][]Delivery, len(p.nodes))
	size := 0
	for _, n := range p.nodes {
		size += len(n.in)
		if n.spec.Start {
			size++
		}
	}
	buf := make([]Delivery, size)
	for _, n := range p.nodes {
		k := len(n.in)
		if n.spec.Start {
			k++
		}
		pending[n.index], buf = buf[:0:k], buf[k:]
		if n.spec.Start && in.resumeAt == "" {
			pending[n.index] = append(pending[n.index], Delivery{Value: cloneJSON(initial)})
		}
	}
	if in.resumeAt != "" {
		if n := p.node(in.resumeAt); n != nil {
			for i, e := range n.out[in.resumePort] {
				v := initial
				if i > 0 {
					v = cloneJSON(v)
				}
				pending[e.to.index] = append(pending[e.to.index], Delivery{From: n.id, Port: e.toPort, Value: v})
			}
		}
	}
	stopped := ""
	for _, n := range p.nodes {
		ds := pending[n.index]
		pending[n.index] = nil
		if stopped != "" {
			if len(ds) > 0 || in.Debug {
				t.Nodes = append(t.Nodes, NodeTrace{NodeID: n.id, Type: n.typ, Status: NodeNotRun, Ports: []string{}})
			}
			continue
		}
		if len(ds) == 0 {
			if in.Debug {
				t.Nodes = append(t.Nodes, NodeTrace{NodeID: n.id, Type: n.typ, Status: NodeSkipped, Ports: []string{}})
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			stopped = fmt.Sprintf("run stopped: wall time limit of %s reached", p.limits.MaxDuration)
			t.Nodes = append(t.Nodes, NodeTrace{NodeID: n.id, Type: n.typ, Status: NodeNotRun, Ports: []string{}})
			continue
		}
		if t.Steps >= p.limits.MaxSteps {
			stopped = fmt.Sprintf("run stopped: step limit of %d reached", p.limits.MaxSteps)
			t.Nodes = append(t.Nodes, NodeTrace{NodeID: n.id, Type: n.typ, Status: NodeNotRun, Ports: []string{}})
			continue
		}
		t.Steps++
		input := join(ds)
		// The node's trace is filled in place: t.Nodes has room for every node, and
		// x.cur points at it while the node runs.
		t.Nodes = append(t.Nodes, NodeTrace{NodeID: n.id, Type: n.typ, Status: NodeOK, Ports: []string{}})
		nt := &t.Nodes[len(t.Nodes)-1]
		for _, d := range ds {
			if d.Port != "" {
				if nt.InputPorts == nil {
					nt.InputPorts = n.portList(d.Port)
				} else {
					nt.InputPorts = appendUnique(nt.InputPorts, d.Port)
				}
			}
		}
		if in.Debug {
			nt.Input = cloneJSON(input.Payload)
		}
		x.payload, x.cur, x.nlogs = input.Payload, nt, 0
		nstart := time.Now()
		outs, err := safeRun(ctx, n, x, input)
		nt.DurationMS = ms(time.Since(nstart))
		if perr := checkPorts(n, outs); perr != nil {
			outs, err = nil, perr
		}
		if err != nil && len(outs) > 0 {
			// A handled failure: the node routes it (to an error port) and the trace
			// keeps the message.
			nt.Error, err = err.Error(), nil
		}
		if err != nil {
			nt.Status, nt.Error = NodeError, err.Error()
			if t.Status == RunOK {
				t.Status, t.Error = RunFailed, fmt.Sprintf("node %q (%s): %v", n.id, n.typ, err)
			}
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				stopped = fmt.Sprintf("run stopped: wall time limit of %s reached", p.limits.MaxDuration)
			}
			continue
		}
		for _, o := range outs {
			if len(nt.Ports) == 0 {
				nt.Ports = n.portList(o.Port)
			} else {
				nt.Ports = appendUnique(nt.Ports, o.Port)
			}
			if in.Debug {
				if nt.Outputs == nil {
					nt.Outputs = map[string]any{}
				}
				nt.Outputs[o.Port] = cloneJSON(toJSON(o.Value))
			}
			v := toJSON(o.Value)
			for i, e := range n.out[o.Port] {
				if i > 0 {
					v = cloneJSON(v) // branches must not see each other's changes
				}
				pending[e.to.index] = append(pending[e.to.index], Delivery{From: n.id, Port: e.toPort, Value: v})
			}
		}
	}
	x.cur = nil
	if stopped != "" {
		t.Status, t.Error = RunStopped, stopped
	}
	t.DurationMS = ms(time.Since(start))
	return t
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// join makes one Input of the values that reached a node.
func join(ds []Delivery) Input {
	in := Input{Payload: ds[0].Value, Port: ds[0].Port, All: ds}
	if len(ds) == 1 {
		return in
	}
	merged := map[string]any{}
	for _, d := range ds {
		m, ok := d.Value.(map[string]any)
		if !ok {
			in.Payload = ds[len(ds)-1].Value
			return in
		}
		for k, v := range m {
			merged[k] = v
		}
	}
	in.Payload = merged
	return in
}

func safeRun(ctx context.Context, n *cnode, x *Exec, in Input) (outs []Out, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("node panicked: %v", r)
			if x.log != nil {
				x.log.Error("flow_node_panic", "flow_id", x.FlowID(), "node_id", n.id, "type", n.typ, "panic", r, "stack", string(debug.Stack()))
			}
		}
	}()
	return n.action.Run(ctx, x, in)
}

func checkPorts(n *cnode, outs []Out) error {
	for _, o := range outs {
		if !hasPort(n.spec.OutputPorts(), o.Port) {
			return fmt.Errorf("node emitted on undeclared port %q", o.Port)
		}
	}
	return nil
}
