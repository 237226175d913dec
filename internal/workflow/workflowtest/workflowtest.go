// Package workflowtest runs workflow nodes in tests through their spec: the config is
// checked and decoded strictly as in a saved flow, the node runs in a real (two-node)
// flow, and the test sees its output ports and values, the changed profile, session
// and event, and the effects it asked for. Node families use it for their
// table-driven tests; the registry walk in actions/all checks that every node type
// appears in such a table (by the Node field of a Case literal).
package workflowtest

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// Case is one node test.
type Case struct {
	Name   string
	Node   string // node type id
	Config string // the node's config, a JSON object ("" is {})

	// Inputs. Nil ones get defaults: profile "p1", session "s1", event "e1" of type
	// "test" with the given properties, and the payload is the event's properties.
	Payload    any
	Properties map[string]any
	Profile    *domain.Profile
	Session    *domain.Session
	Event      *domain.Event
	Memory     map[string]any

	// Expectations.
	ConfigErr string // the config is rejected with an error containing this
	Err       string // the node fails with an error containing this
	Port      string // the port the node emits on (default "payload" when it succeeds)
	Output    any    // when set: the value emitted on Port (compared as JSON)
	Check     func(t *testing.T, r *Result)
}

// Result is what a node did.
type Result struct {
	Node     workflow.NodeTrace
	Trace    *workflow.Trace
	Output   any // the value emitted on the expected port
	Profile  *domain.Profile
	Session  *domain.Session
	Event    *domain.Event
	Effects  *workflow.Recorder
	Provided workflow.Provision
}

// Env is what the nodes under test may use.
type Env struct {
	Registry  *workflow.Registry // default workflow.Default
	Provision workflow.Provision // Outbound defaults to a guard allowing private addresses
	Now       time.Time
}

// Run runs the cases as subtests.
func Run(t *testing.T, env Env, cases []Case) {
	t.Helper()
	if env.Registry == nil {
		env.Registry = workflow.Default
	}
	if env.Provision.Outbound == nil {
		env.Provision.Outbound = netguard.New(netguard.Config{AllowPrivate: true})
	}
	for _, tc := range cases {
		name := tc.Name
		if name == "" {
			name = tc.Node
		}
		t.Run(tc.Node+"/"+name, func(t *testing.T) { runCase(t, env, tc) })
	}
}

func runCase(t *testing.T, env Env, tc Case) {
	t.Helper()
	spec, ok := env.Registry.Lookup(tc.Node)
	if !ok {
		t.Fatalf("node type %q is not registered", tc.Node)
	}
	cfg := tc.Config
	if cfg == "" {
		cfg = "{}"
	}
	g := domain.FlowGraph{Nodes: []domain.FlowNode{{ID: "n", Type: tc.Node, Config: json.RawMessage(cfg)}}}
	if !spec.Start {
		g.Nodes = append([]domain.FlowNode{{ID: "start", Type: "start"}}, g.Nodes...)
		if ports := spec.InputPorts(); len(ports) > 0 {
			g.Edges = []domain.FlowEdge{{Source: "start", SourcePort: "payload", Target: "n", TargetPort: ports[0].Name}}
		}
	}
	ctx := context.Background()
	prog, err := workflow.Compile(ctx, env.Registry, g, workflow.CompileOptions{Provision: env.Provision})
	if tc.ConfigErr != "" {
		if err == nil {
			prog.Close()
			t.Fatalf("config %s was accepted; want an error containing %q", cfg, tc.ConfigErr)
		}
		if !strings.Contains(err.Error(), tc.ConfigErr) {
			t.Fatalf("config error %q does not contain %q", err, tc.ConfigErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("config rejected: %v", err)
	}
	defer prog.Close()

	r := &Result{Profile: tc.Profile, Session: tc.Session, Event: tc.Event, Effects: workflow.NewRecorder(), Provided: env.Provision}
	if r.Profile == nil {
		r.Profile = domain.NewProfile("p1", domain.Now())
	}
	if r.Session == nil {
		now := domain.Now()
		r.Session = &domain.Session{ID: "s1", Profile: domain.Ref{ID: r.Profile.ID}, Context: map[string]any{}, Properties: map[string]any{},
			Metadata: domain.SessionMetadata{Time: domain.SessionTime{Insert: now, Timestamp: now}, Status: domain.SessionStarted}}
	}
	if r.Event == nil {
		props := tc.Properties
		if props == nil {
			props = map[string]any{}
		}
		r.Event = workflow.NewEvent(nil, "test", props, time.Now())
		r.Event.ID = "e1"
		r.Event.Profile.ID, r.Event.Session.ID, r.Event.Source.ID = r.Profile.ID, r.Session.ID, "web"
	}
	in := workflow.RunInput{Profile: r.Profile, Session: r.Session, Event: r.Event, Payload: tc.Payload, Memory: tc.Memory,
		Effects: r.Effects, Debug: true, Now: env.Now}
	r.Trace = prog.Run(ctx, in)
	found := false
	for _, nt := range r.Trace.Nodes {
		if nt.NodeID == "n" {
			r.Node, found = nt, true
		}
	}
	if !found {
		t.Fatalf("node did not run; trace: %+v", r.Trace)
	}
	if tc.Err != "" {
		if r.Node.Status != workflow.NodeError || !strings.Contains(r.Node.Error, tc.Err) {
			t.Fatalf("node status %s error %q; want an error containing %q", r.Node.Status, r.Node.Error, tc.Err)
		}
	} else {
		if r.Node.Status != workflow.NodeOK {
			t.Fatalf("node failed: %s", r.Node.Error)
		}
		port := tc.Port
		if port == "" {
			port = workflow.DefaultPort
		}
		if len(spec.OutputPorts()) > 0 {
			if len(r.Node.Ports) != 1 || r.Node.Ports[0] != port {
				t.Fatalf("node emitted on %v, want [%s] (outputs %v)", r.Node.Ports, port, r.Node.Outputs)
			}
			r.Output = r.Node.Outputs[port]
		}
		if tc.Output != nil && !JSONEqual(r.Output, tc.Output) {
			t.Fatalf("output = %s\nwant     %s", MustJSON(r.Output), MustJSON(tc.Output))
		}
	}
	if tc.Check != nil {
		tc.Check(t, r)
	}
}

// JSONEqual compares two values by their JSON form.
func JSONEqual(a, b any) bool {
	var x, y any
	if json.Unmarshal([]byte(MustJSON(a)), &x) != nil || json.Unmarshal([]byte(MustJSON(b)), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// MustJSON encodes v.
func MustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}
