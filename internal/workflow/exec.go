package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Provision is what nodes may use while they are provisioned (and keep for their
// runs): the configuration store, the outbound-call guard, a logger.
type Provision struct {
	Entities storage.Entities
	Outbound *netguard.Guard
	Logger   *slog.Logger
	Secrets  SecretOpener
	// FlowID is the flow being compiled ("" in tests).
	FlowID string
}

// Input is what reaches a node.
type Input struct {
	// Payload is the value that arrived. When several upstream branches delivered
	// values (a join), Payload is their objects merged in edge order (later keys win),
	// or the last value when not all of them are objects.
	Payload any
	// Port is the input port of the first delivery.
	Port string
	// All lists every delivery, in edge order.
	All []Delivery
}

// Delivery is one value that reached a node along an edge.
type Delivery struct {
	From  string `json:"from"` // node id
	Port  string `json:"port"` // input port
	Value any    `json:"value"`
}

// Out is a value a node emits on one of its output ports.
type Out struct {
	Port  string
	Value any
}

// Emit returns one output on port.
func Emit(port string, v any) []Out { return []Out{{Port: port, Value: v}} }

// Pass passes the node's payload on, unchanged, on the "payload" port.
func Pass(x *Exec) []Out { return Emit(DefaultPort, x.Payload()) }

// Effects are what a run asks of the request beyond changing documents. During /track
// they change the collector's work; in the debugger and tests they are recorded.
type Effects interface {
	// Respond sets a key of /track's "response".
	Respond(key string, v any)
	// AddUX appends an item to /track's "ux".
	AddUX(v any)
	// MergeOn asks identity resolution to merge the profile on these profile paths.
	MergeOn(keys ...string)
	// Inject adds an event to the request; with process it runs through rules too.
	Inject(ev *domain.Event, process bool)
}

// Recorder is Effects that only records (debugger, tests).
type Recorder struct {
	Response  map[string]any  `json:"response"`
	UX        []any           `json:"ux"`
	MergeKeys []string        `json:"merge_keys"`
	Injected  []*domain.Event `json:"injected_events"`
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{Response: map[string]any{}, UX: []any{}, MergeKeys: []string{}, Injected: []*domain.Event{}}
}

// Respond implements Effects.
func (r *Recorder) Respond(key string, v any) { r.Response[key] = v }

// AddUX implements Effects.
func (r *Recorder) AddUX(v any) { r.UX = append(r.UX, v) }

// MergeOn implements Effects.
func (r *Recorder) MergeOn(keys ...string) { r.MergeKeys = appendUnique(r.MergeKeys, keys...) }

// Inject implements Effects.
func (r *Recorder) Inject(ev *domain.Event, _ bool) { r.Injected = append(r.Injected, ev) }

func appendUnique(list []string, items ...string) []string {
outer:
	for _, it := range items {
		for _, x := range list {
			if x == it {
				continue outer
			}
		}
		list = append(list, it)
	}
	return list
}

// Exec is a node's view of the run it is part of: the documents, the payload, the
// run's memory, and the effects. It is not safe for concurrent use; a run executes
// one node at a time.
type Exec struct {
	docs    *Docs
	payload any
	memory  map[string]any
	flow    map[string]any // flow@: made on first use from prog, runID and ruleID
	prog    *Program
	runID   string
	ruleID  string
	now     time.Time
	effects Effects
	debug   bool
	log     *slog.Logger
	trigger *domain.Event
	source  string
	cur     *NodeTrace
	nlogs   int
}

// Payload returns the payload of the node being run.
func (x *Exec) Payload() any { return x.payload }

// Now returns the instant the run started.
func (x *Exec) Now() time.Time { return x.now }

// Debug reports whether this is a debugger run.
func (x *Exec) Debug() bool { return x.debug }

// Effects returns the run's effects.
func (x *Exec) Effects() Effects { return x.effects }

// Event returns the event that started the run, as it was when the run began.
func (x *Exec) Event() *domain.Event { return x.trigger }

// FlowID returns the id of the running flow.
func (x *Exec) FlowID() string {
	if x.prog != nil {
		return x.prog.FlowID
	}
	s, _ := x.flow["id"].(string)
	return s
}

// flowDoc returns the flow@ document, made on first use (few flows read it).
func (x *Exec) flowDoc() map[string]any {
	if x.flow == nil && x.prog != nil {
		p := x.prog
		x.flow = map[string]any{"id": p.FlowID, "name": p.FlowName, "version": float64(p.Version), "run_id": x.runID, "rule_id": x.ruleID}
	}
	return x.flow
}

// Lookup implements eval.Documents, so conditions can run against the run.
func (x *Exec) Lookup(scope string, path []string) (any, bool) {
	return x.Get(Ref{Scope: scope, Path: strings.Join(path, ".")})
}

// Get reads the value a reference names.
func (x *Exec) Get(r Ref) (any, bool) {
	switch r.Scope {
	case ScopePayload:
		return getIn(x.payload, r.Path)
	case ScopeMemory:
		return getIn(x.memory, r.Path)
	case ScopeFlow:
		return getIn(x.flowDoc(), r.Path)
	}
	if d := x.docs.doc(r.Scope); d != nil {
		return d.get(r.Path)
	}
	return nil, false
}

func getIn(v any, path string) (any, bool) {
	if path == "" {
		return v, v != nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	return domain.GetPath(m, path)
}

// Add adds delta to the number where a reference points (a missing value counts as 0);
// a value that is not a number is an error rather than silently replaced.
func (x *Exec) Add(r Ref, delta float64) error {
	cur, _ := x.Get(r)
	f, ok := ToNumber(cur)
	if !ok && cur != nil {
		return fmt.Errorf("%s holds %v, not a number", r, cur)
	}
	return x.Set(r, f+delta)
}

// Set writes v where a reference points. Writes to the profile, session and event are
// checked against their typed model; identity fields are read-only.
func (x *Exec) Set(r Ref, v any) error {
	switch r.Scope {
	case ScopePayload:
		if r.Path == "" {
			x.payload = toJSON(v)
			return nil
		}
		m, ok := x.payload.(map[string]any)
		if !ok {
			m = map[string]any{}
			x.payload = m
		}
		domain.SetPath(m, r.Path, toJSON(v))
		return nil
	case ScopeMemory:
		if r.Path == "" {
			m, ok := toJSON(v).(map[string]any)
			if !ok {
				return fmt.Errorf("memory@ must be an object")
			}
			x.memory = m
			return nil
		}
		domain.SetPath(x.memory, r.Path, toJSON(v))
		return nil
	case ScopeFlow:
		return fmt.Errorf("flow@%s: %w", r.Path, errReadOnly)
	}
	if d := x.docs.doc(r.Scope); d != nil {
		return d.set(r.Path, v)
	}
	return fmt.Errorf("unknown scope %q", r.Scope)
}

// Delete removes the value a reference points at.
func (x *Exec) Delete(r Ref) error {
	switch r.Scope {
	case ScopePayload:
		if r.Path == "" {
			x.payload = nil
		} else if m, ok := x.payload.(map[string]any); ok {
			domain.DeletePath(m, r.Path)
		}
		return nil
	case ScopeMemory:
		if r.Path == "" {
			x.memory = map[string]any{}
		} else {
			domain.DeletePath(x.memory, r.Path)
		}
		return nil
	case ScopeFlow:
		return fmt.Errorf("flow@%s: %w", r.Path, errReadOnly)
	}
	if d := x.docs.doc(r.Scope); d != nil {
		return d.del(r.Path)
	}
	return fmt.Errorf("unknown scope %q", r.Scope)
}

// Render renders a template to text.
func (x *Exec) Render(t Template) string {
	if len(t.parts) == 1 && t.parts[0].ref == nil {
		return t.parts[0].lit
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.ref == nil {
			b.WriteString(p.lit)
			continue
		}
		v, _ := x.Get(*p.ref)
		b.WriteString(Text(v))
	}
	return b.String()
}

// Resolve evaluates a Value: templates in its strings are rendered, and a string that
// is exactly one placeholder becomes the referenced value (a copy).
func (x *Exec) Resolve(v Value) any {
	if !v.tpls {
		return cloneJSON(v.raw)
	}
	return x.resolve(v.raw)
}

func (x *Exec) resolve(v any) any {
	switch t := v.(type) {
	case string:
		if !strings.Contains(t, "{{") {
			return t
		}
		tpl, err := ParseTemplate(t) // checked when the config was decoded
		if err != nil {
			return t
		}
		if r, ok := tpl.single(); ok {
			got, _ := x.Get(r)
			return cloneJSON(got)
		}
		return x.Render(tpl)
	case []any:
		out := make([]any, len(t))
		for i, it := range t {
			out[i] = x.resolve(it)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, it := range t {
			out[k] = x.resolve(it)
		}
		return out
	}
	return v
}

// Eval evaluates a condition against the run's documents.
func (x *Exec) Eval(c Condition) bool {
	if c.prog == nil {
		return false
	}
	return c.prog.Eval(x, x.now)
}

// maxLogs bounds the log lines one node keeps in its trace.
const maxLogs = 20

// Log logs msg at level, with the flow, node and event as attributes, and keeps it in
// the run's trace.
func (x *Exec) Log(ctx context.Context, level slog.Level, msg string) {
	attrs := []any{"flow_id", x.FlowID(), "node_id", "", "event_id", "", "profile_id", ""}
	if x.cur != nil {
		attrs[3] = x.cur.NodeID
		if x.nlogs < maxLogs {
			x.cur.Logs = append(x.cur.Logs, level.String()+": "+msg)
			x.nlogs++
		}
	}
	if x.trigger != nil {
		attrs[5], attrs[7] = x.trigger.ID, x.trigger.Profile.ID
	}
	if x.log != nil {
		x.log.Log(ctx, level, "flow_log", append(attrs, "message", msg)...)
	}
}
