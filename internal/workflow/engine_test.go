package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// Test node types, in a registry of their own.

type tag struct {
	Name string `json:"name"`
}

func (n *tag) Run(_ context.Context, x *workflow.Exec, in workflow.Input) ([]workflow.Out, error) {
	order, _ := x.Get(workflow.MustRef("memory@order"))
	list, _ := order.([]any)
	if err := x.Set(workflow.MustRef("memory@order"), append(list, n.Name)); err != nil {
		return nil, err
	}
	if err := x.Set(workflow.Ref{Scope: "payload", Path: n.Name}, true); err != nil {
		return nil, err
	}
	if len(in.All) > 1 {
		x.Set(workflow.Ref{Scope: "payload", Path: "joined"}, float64(len(in.All)))
	}
	return workflow.Pass(x), nil
}

type branch struct {
	Port string `json:"port"`
}

func (n *branch) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	if n.Port == "both" {
		return []workflow.Out{{Port: "a", Value: x.Payload()}, {Port: "b", Value: x.Payload()}}, nil
	}
	return workflow.Emit(n.Port, x.Payload()), nil
}

type fail struct{}

func (*fail) Run(context.Context, *workflow.Exec, workflow.Input) ([]workflow.Out, error) {
	return nil, errors.New("boom")
}

type wait struct{}

func (*wait) Run(ctx context.Context, _ *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

type panicky struct{}

func (*panicky) Run(context.Context, *workflow.Exec, workflow.Input) ([]workflow.Out, error) {
	panic("oops")
}

type badPort struct{}

func (*badPort) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	return workflow.Emit("nope", nil), nil
}

// cleaned counts Cleanup calls.
type cleaned struct {
	Fail bool `json:"fail"`
}

var cleanups = map[string]int{}

func (c *cleaned) Validate() error {
	if c.Fail {
		return workflow.FieldErrorf("fail", "asked to fail")
	}
	return nil
}
func (c *cleaned) Cleanup() error { cleanups["n"]++; return nil }
func (c *cleaned) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	return workflow.Pass(x), nil
}

func testRegistry(t *testing.T) *workflow.Registry {
	t.Helper()
	r := workflow.NewRegistry()
	ex := []workflow.Example{{Title: "x", Config: `{}`}}
	for _, s := range []workflow.Spec{
		{ID: "tag", Name: "Tag", Category: "Data", Description: "tags the payload", Examples: ex,
			Fields: []workflow.Field{workflow.StringField("name", "the tag").Req()}, New: func() workflow.Action { return new(tag) }},
		{ID: "branch", Name: "Branch", Category: "Flow", Description: "routes", Examples: ex,
			Fields:  []workflow.Field{workflow.StringField("port", "where").OneOf("a", "b", "both").Def("a")},
			Outputs: []workflow.Port{{Name: "a"}, {Name: "b"}}, New: func() workflow.Action { return new(branch) }},
		{ID: "fail", Name: "Fail", Category: "Debugging", Description: "fails", Examples: ex, New: func() workflow.Action { return new(fail) }},
		{ID: "wait", Name: "Wait", Category: "Debugging", Description: "waits", Examples: ex, New: func() workflow.Action { return new(wait) }},
		{ID: "panic", Name: "Panic", Category: "Debugging", Description: "panics", Examples: ex, New: func() workflow.Action { return new(panicky) }},
		{ID: "bad-port", Name: "Bad port", Category: "Debugging", Description: "bad port", Examples: ex, New: func() workflow.Action { return new(badPort) }},
		{ID: "cleaned", Name: "Cleaned", Category: "Debugging", Description: "cleans up", Examples: ex,
			Fields: []workflow.Field{workflow.BoolField("fail", "fail validation").Def(false)}, New: func() workflow.Action { return new(cleaned) }},
	} {
		if err := r.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// g builds a graph from "id:type{config}" nodes and "a.port>b" edges.
func g(nodes []string, edges ...string) domain.FlowGraph {
	var out domain.FlowGraph
	for _, n := range nodes {
		id, rest, _ := strings.Cut(n, ":")
		typ, cfg, _ := strings.Cut(rest, "{")
		node := domain.FlowNode{ID: id, Type: typ}
		if cfg != "" {
			node.Config = json.RawMessage("{" + cfg)
		}
		out.Nodes = append(out.Nodes, node)
	}
	for _, e := range edges {
		from, to, _ := strings.Cut(e, ">")
		src, port, _ := strings.Cut(from, ".")
		if port == "" {
			port = "payload"
		}
		out.Edges = append(out.Edges, domain.FlowEdge{Source: src, SourcePort: port, Target: to, TargetPort: "payload"})
	}
	return out
}

func compile(t *testing.T, reg *workflow.Registry, graph domain.FlowGraph, lim workflow.Limits) *workflow.Program {
	t.Helper()
	p, err := workflow.Compile(context.Background(), reg, graph, workflow.CompileOptions{RequireStart: true, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func run(p *workflow.Program, payload any) (*workflow.Trace, map[string]any) {
	mem := map[string]any{}
	t := p.Run(context.Background(), workflow.RunInput{Profile: domain.NewProfile("p", domain.Now()), Payload: payload, Memory: mem, Debug: true})
	return t, mem
}

func nodeTrace(t *testing.T, tr *workflow.Trace, id string) workflow.NodeTrace {
	t.Helper()
	for _, n := range tr.Nodes {
		if n.NodeID == id {
			return n
		}
	}
	t.Fatalf("no trace of node %s in %+v", id, tr.Nodes)
	return workflow.NodeTrace{}
}

func TestBranching(t *testing.T) {
	reg := testRegistry(t)
	for _, tc := range []struct {
		port    string
		ran     []string
		skipped string
	}{
		{"a", []string{"a1", "a2"}, "b1"},
		{"b", []string{"b1"}, "a1"},
		{"both", []string{"a1", "a2", "b1"}, ""},
	} {
		t.Run(tc.port, func(t *testing.T) {
			p := compile(t, reg, g([]string{"s:start", `br:branch{"port":"` + tc.port + `"}`, `a1:tag{"name":"a1"}`, `a2:tag{"name":"a2"}`, `b1:tag{"name":"b1"}`},
				"s>br", "br.a>a1", "a1>a2", "br.b>b1"), workflow.Limits{})
			tr, mem := run(p, map[string]any{})
			if !slices.Equal(toStrings(mem["order"]), tc.ran) {
				t.Fatalf("ran %v, want %v", mem["order"], tc.ran)
			}
			if tc.skipped != "" && nodeTrace(t, tr, tc.skipped).Status != workflow.NodeSkipped {
				t.Fatalf("%s was not skipped", tc.skipped)
			}
			if tr.Status != workflow.RunOK {
				t.Fatalf("status %s %s", tr.Status, tr.Error)
			}
		})
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, x.(string))
	}
	return out
}

func TestFanOutBranchesDoNotShareThePayload(t *testing.T) {
	p := compile(t, testRegistry(t), g([]string{"s:start", `x:tag{"name":"x"}`, `y:tag{"name":"y"}`}, "s>x", "s>y"), workflow.Limits{})
	tr, _ := run(p, map[string]any{"v": 1.0})
	if out := nodeTrace(t, tr, "y").Outputs["payload"].(map[string]any); out["x"] != nil {
		t.Fatalf("branch y saw branch x's change: %v", out)
	}
}

func TestJoinWaitsForAllBranches(t *testing.T) {
	reg := testRegistry(t)
	graph := g([]string{"s:start", `br:branch{"port":"both"}`, `a:tag{"name":"a"}`, `b1:tag{"name":"b1"}`, `b2:tag{"name":"b2"}`, `j:tag{"name":"j"}`},
		"s>br", "br.a>a", "br.b>b1", "b1>b2", "a>j", "b2>j")
	p := compile(t, reg, graph, workflow.Limits{})
	tr, mem := run(p, map[string]any{})
	order := toStrings(mem["order"])
	if order[len(order)-1] != "j" || slices.Index(order, "j") != len(order)-1 || strings.Count(strings.Join(order, ","), "j") != 1 {
		t.Fatalf("join ran %v", order)
	}
	j := nodeTrace(t, tr, "j")
	out := j.Outputs["payload"].(map[string]any)
	if out["a"] != true || out["b1"] != true || out["b2"] != true || out["joined"] != 2.0 {
		t.Fatalf("join payload = %v (merged payloads of both branches expected)", out)
	}

	// When one branch is not taken, the join runs with the other alone.
	graph.Nodes[1].Config = json.RawMessage(`{"port":"a"}`)
	p = compile(t, reg, graph, workflow.Limits{})
	tr, mem = run(p, map[string]any{})
	if got := toStrings(mem["order"]); !slices.Equal(got, []string{"a", "j"}) {
		t.Fatalf("ran %v", got)
	}
	if out := nodeTrace(t, tr, "j").Outputs["payload"].(map[string]any); out["joined"] != nil {
		t.Fatalf("join saw %v", out)
	}
}

func TestFailureStopsOnlyItsBranch(t *testing.T) {
	reg := testRegistry(t)
	for _, typ := range []string{"fail", "panic", "bad-port"} {
		t.Run(typ, func(t *testing.T) {
			p := compile(t, reg, g([]string{"s:start", "f:" + typ, `after:tag{"name":"after"}`, `other:tag{"name":"other"}`}, "s>f", "f>after", "s>other"), workflow.Limits{})
			tr, mem := run(p, map[string]any{})
			if got := toStrings(mem["order"]); !slices.Equal(got, []string{"other"}) {
				t.Fatalf("ran %v", got)
			}
			if tr.Status != workflow.RunFailed || !strings.Contains(tr.Error, `node "f"`) {
				t.Fatalf("run %s %q", tr.Status, tr.Error)
			}
			if n := nodeTrace(t, tr, "f"); n.Status != workflow.NodeError || n.Error == "" {
				t.Fatalf("node trace %+v", n)
			}
			if nodeTrace(t, tr, "after").Status != workflow.NodeSkipped {
				t.Fatal("the node after the failure ran")
			}
		})
	}
}

func TestLimits(t *testing.T) {
	reg := testRegistry(t)
	nodes := []string{"s:start"}
	var edges []string
	prev := "s"
	for i := range 10 {
		id := fmt.Sprintf("n%d", i)
		nodes = append(nodes, fmt.Sprintf(`%s:tag{"name":"%s"}`, id, id))
		edges = append(edges, prev+">"+id)
		prev = id
	}
	p := compile(t, reg, g(nodes, edges...), workflow.Limits{MaxSteps: 5})
	tr, mem := run(p, map[string]any{})
	if tr.Status != workflow.RunStopped || !strings.Contains(tr.Error, "step limit of 5") || tr.Steps != 5 {
		t.Fatalf("run %s %q after %d steps", tr.Status, tr.Error, tr.Steps)
	}
	if len(toStrings(mem["order"])) != 4 || nodeTrace(t, tr, "n9").Status != workflow.NodeNotRun {
		t.Fatalf("ran %v", mem["order"])
	}

	p = compile(t, reg, g([]string{"s:start", "w:wait", `after:tag{"name":"after"}`}, "s>w", "w>after"), workflow.Limits{MaxDuration: 50 * time.Millisecond})
	start := time.Now()
	tr, _ = run(p, map[string]any{})
	if time.Since(start) > 5*time.Second {
		t.Fatal("the wall time limit did not stop the run")
	}
	if tr.Status != workflow.RunStopped || !strings.Contains(tr.Error, "wall time limit") {
		t.Fatalf("run %s %q", tr.Status, tr.Error)
	}
	if n := nodeTrace(t, tr, "w"); n.Status != workflow.NodeError || !strings.Contains(n.Error, "deadline") {
		t.Fatalf("waiting node %+v", n)
	}
}

func TestGraphValidation(t *testing.T) {
	reg := testRegistry(t)
	for _, tc := range []struct {
		name  string
		graph domain.FlowGraph
		field string
		msg   string
	}{
		{"unknown type", g([]string{"s:start", "n2:nope"}), "draft.nodes[n2].type", `unknown node type "nope"`},
		{"bad config", g([]string{"s:start", `n2:branch{"port":"c"}`}), "draft.nodes[n2].config.port", "must be one of a, b, both"},
		{"unknown config field", g([]string{"s:start", `n2:tag{"name":"x","colour":1}`}), "draft.nodes[n2].config.colour", "unknown field"},
		{"missing required", g([]string{"s:start", `n2:tag{}`}), "draft.nodes[n2].config.name", "is required"},
		{"validate", g([]string{"s:start", `n2:cleaned{"fail":true}`}), "draft.nodes[n2].config.fail", "asked to fail"},
		{"config not an object", domain.FlowGraph{Nodes: []domain.FlowNode{{ID: "s", Type: "start"}, {ID: "n2", Type: "tag", Config: json.RawMessage(`[1]`)}}},
			"draft.nodes[n2].config", "JSON object"},
		{"duplicate id", g([]string{"s:start", "s:end"}), "draft.nodes[s].id", "used twice"},
		{"bad id", g([]string{"s:start", " x:end"}), "draft.nodes[1].id", "must be"},
		{"edge to missing node", g([]string{"s:start"}, "s>zz"), "draft.edges[0].target", `no node "zz"`},
		{"edge from missing node", g([]string{"s:start"}, "zz>s"), "draft.edges[0].source", `no node "zz"`},
		{"missing output port", g([]string{"s:start", "b:branch", "e:end"}, "s>b", "b.c>e"), "draft.edges[1].source_port", `node "b" (branch) has no output port "c"; its output ports: a, b`},
		{"missing input port", domain.FlowGraph{Nodes: []domain.FlowNode{{ID: "s", Type: "start"}, {ID: "e", Type: "end"}},
			Edges: []domain.FlowEdge{{Source: "s", SourcePort: "payload", Target: "e", TargetPort: "in"}}}, "draft.edges[0].target_port", `no input port "in"`},
		{"into a start node", g([]string{"s:start", "t:start"}, "s>t"), "draft.edges[0].target_port", "its input ports: none"},
		{"out of an end node", g([]string{"s:start", "e:end", "f:end"}, "s>e", "e>f"), "draft.edges[1].source_port", "its output ports: none"},
		{"cycle", g([]string{"s:start", `a:tag{"name":"a"}`, `b:tag{"name":"b"}`, `c:tag{"name":"c"}`}, "s>a", "a>b", "b>c", "c>a"),
			"draft.edges[3]", `edge from node "c" to node "a" closes a cycle: a → b → c → a`},
		{"self loop", g([]string{"s:start", `a:tag{"name":"a"}`}, "s>a", "a>a"), "draft.edges[1]", "closes a cycle"},
		{"duplicate edge", g([]string{"s:start", "e:end"}, "s>e", "s>e"), "draft.edges[1]", "repeats"},
		{"no start", g([]string{`a:tag{"name":"a"}`}), "draft.nodes", "needs a start node"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := workflow.Compile(context.Background(), reg, tc.graph, workflow.CompileOptions{Prefix: "draft", RequireStart: true})
			var ge *workflow.GraphError
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is not a GraphError", err)
			}
			if ge.Field != tc.field || !strings.Contains(ge.Msg, tc.msg) {
				t.Fatalf("got %s: %s\nwant %s: …%s…", ge.Field, ge.Msg, tc.field, tc.msg)
			}
			if !errors.Is(err, storage.ErrInvalid) {
				t.Fatal("a graph error is not storage.ErrInvalid")
			}
		})
	}
}

func TestCleanupRuns(t *testing.T) {
	reg := testRegistry(t)
	cleanups["n"] = 0
	p, err := workflow.Compile(context.Background(), reg, g([]string{"s:start", "c:cleaned", "d:cleaned"}, "s>c"), workflow.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if cleanups["n"] != 2 {
		t.Fatalf("cleanups after close = %d", cleanups["n"])
	}
	cleanups["n"] = 0
	// A failing graph cleans up what it provisioned, the failing node included.
	_, err = workflow.Compile(context.Background(), reg, g([]string{"s:start", "c:cleaned", `d:cleaned{"fail":true}`}), workflow.CompileOptions{})
	if err == nil || cleanups["n"] != 2 {
		t.Fatalf("err %v, cleanups %d", err, cleanups["n"])
	}
}

func TestDocumentWrites(t *testing.T) {
	prof := domain.NewProfile("p", domain.Now())
	prof.Stats.Visits = 3
	x := workflow.NewTestExec(prof, nil, nil)
	for _, tc := range []struct {
		ref string
		v   any
		err string
	}{
		{"profile@stats.visits", 4.0, ""},
		{"profile@stats.visits", "many", "must be a number"},
		{"profile@stats", "x", "must be an object"},
		{"profile@traits", "x", "must be an object"},
		{"profile@traits.a.b", 1.0, ""},
		{"profile@id", "other", "read-only"},
		{"profile@ids", []any{"x"}, "read-only"},
		{"profile@metadata.time.insert", "x", "read-only"},
		{"profile@", map[string]any{}, "cannot be replaced"},
		{"profile@nope", 1.0, "not a field"},
		{"profile@consents.c", map[string]any{"granted": "yes"}, "profile@consents.c: granted must be true or false"},
		{"profile@segments", []any{"a"}, ""},
		{"session@id", "x", "there is no session"},
		{"flow@id", "x", "read-only"},
	} {
		err := x.Set(workflow.MustRef(tc.ref), tc.v)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Set(%s, %v) = %v, want %q", tc.ref, tc.v, err, tc.err)
		}
	}
	if err := x.WriteBack(); err != nil {
		t.Fatal(err)
	}
	if prof.Stats.Visits != 4 || !slices.Equal(prof.Segments, []string{"a"}) || prof.ID != "p" {
		t.Fatalf("profile = %+v", prof)
	}
	if v, _ := domain.GetPath(prof.Traits, "a.b"); v != 1.0 {
		t.Fatalf("traits = %v", prof.Traits)
	}
}
