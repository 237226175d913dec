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

	_ "github.com/thamesthrive/thamesthrive/internal/actions/all"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

type fixture struct {
	t     testing.TB
	ctx   context.Context
	store storage.Store
	e     *workflow.Engine
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e, err := workflow.New(workflow.Config{CacheTTL: time.Hour}, workflow.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: context.Background(), store: store, e: e}
	f.put(domain.EntitySource, "web", domain.Source{Meta: domain.Meta{ID: "web", Name: "Web", Enabled: true}, Type: "rest", Trusted: true})
	return f
}

func (f *fixture) put(kind, id string, v any) {
	f.t.Helper()
	doc, err := json.Marshal(v)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.Entities().Put(f.ctx, &storage.Entity{Kind: kind, ID: id, Doc: doc}, -1); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) flow(id string, enabled bool, graph domain.FlowGraph) {
	f.t.Helper()
	if err := f.e.ValidateGraph(f.ctx, id, graph); err != nil {
		f.t.Fatal(err)
	}
	f.put(domain.EntityFlow, id, domain.Flow{Meta: domain.Meta{ID: id, Name: "Flow " + id, Enabled: enabled}, Draft: graph})
	f.e.FlowChanged(f.ctx, id)
}

func (f *fixture) rule(id, eventType, source, cond, flowID string, enabled bool) {
	f.t.Helper()
	r := domain.Rule{Meta: domain.Meta{ID: id, Name: id, Enabled: enabled}, EventType: eventType, SourceID: source, Condition: cond, FlowID: flowID}
	if err := f.e.ValidateRule(f.ctx, &r); err != nil {
		f.t.Fatal(err)
	}
	f.put(domain.EntityRule, id, r)
	f.e.InvalidateRules()
}

func (f *fixture) deploy(id string) *workflow.Version {
	f.t.Helper()
	v, err := f.e.Deploy(f.ctx, id, "tester")
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// work is what the collector hands the stage for one request.
func work(events ...*domain.Event) *pipeline.Work {
	p := domain.NewProfile("p1", domain.Now())
	s := &domain.Session{ID: "s1", Profile: domain.Ref{ID: "p1"}, Context: map[string]any{}, Properties: map[string]any{}}
	for _, ev := range events {
		ev.Profile.ID, ev.Session.ID = "p1", "s1"
	}
	return &pipeline.Work{Source: &domain.Source{Meta: domain.Meta{ID: "web"}}, Profile: p, Session: s, Events: events,
		Response: map[string]any{}, UX: []any{}, Now: domain.Now()}
}

func event(typ, source string, props map[string]any) *domain.Event {
	ev := workflow.NewEvent(nil, typ, props, time.Now())
	ev.Source.ID = source
	return ev
}

var bigSpender = g([]string{"s:start", `c:if{"condition": "event@properties.price > 100"}`,
	`seg:add-segment{"segment": "big-spender"}`, `cnt:increment-counter{"counter": "purchases"}`,
	`resp:tracker-response{"response": {"vip": true}}`, `small:set-data{"set": {"profile@traits.small": true}}`},
	"s>c", "c.true>seg", "c.true>cnt", "c.true>resp", "c.false>small")

func TestStageRunsDeployedFlowsForMatchingRules(t *testing.T) {
	f := newFixture(t)
	f.flow("f1", true, bigSpender)
	f.rule("r1", "Purchase", "", "", "f1", true)

	// Never deployed: nothing runs.
	w := work(event("purchase", "web", map[string]any{"price": 150.0}))
	if err := f.e.Process(f.ctx, w); err != nil {
		t.Fatal(err)
	}
	if len(w.Profile.Segments) != 0 || len(w.Events[0].Metadata.ProcessedBy.Rules) != 0 {
		t.Fatalf("an undeployed flow ran: %v %+v", w.Profile.Segments, w.Events[0].Metadata.ProcessedBy)
	}

	f.deploy("f1")
	w = work(event("purchase", "web", map[string]any{"price": 150.0}), event("page-view", "web", nil),
		event("purchase", "web", map[string]any{"price": 20.0}))
	if err := f.e.Process(f.ctx, w); err != nil {
		t.Fatal(err)
	}
	p := w.Profile
	if !slices.Equal(p.Segments, []string{"big-spender"}) || p.Stats.Counters["purchases"] != 1 || p.Traits["small"] != true {
		t.Fatalf("profile: segments %v counters %v traits %v", p.Segments, p.Stats.Counters, p.Traits)
	}
	if w.Response["vip"] != true {
		t.Fatalf("response = %v", w.Response)
	}
	for i, want := range [][]string{{"r1"}, {}, {"r1"}} {
		pb := w.Events[i].Metadata.ProcessedBy
		if !slices.Equal(pb.Rules, want) || (len(want) > 0 && !slices.Equal(pb.Flows, []string{"f1"})) {
			t.Fatalf("event %d processed_by = %+v", i, pb)
		}
	}
	runs := f.e.Runs("f1", 10)
	if len(runs) != 2 || runs[0].Status != workflow.RunOK || runs[0].RuleID != "r1" || runs[0].FlowVersion != 1 {
		t.Fatalf("runs = %+v", runs)
	}
	for _, n := range runs[0].Nodes {
		if n.Input != nil || n.Outputs != nil {
			t.Fatal("the run log keeps inputs or outputs")
		}
	}
}

func TestStageRuleFilters(t *testing.T) {
	f := newFixture(t)
	f.put(domain.EntitySource, "app", domain.Source{Meta: domain.Meta{ID: "app", Name: "App", Enabled: true}, Trusted: true})
	f.flow("f1", true, g([]string{"s:start", `set:set-data{"set": {"profile@traits.hit": "{{flow@rule_id}}"}}`}, "s>set"))
	f.deploy("f1")
	f.rule("only-app", "purchase", "app", "", "f1", true)
	f.rule("vip", "purchase", "", `profile@stats.visits > 5 AND event@properties.price >= 10`, "f1", true)
	f.rule("off", "purchase", "", "", "f1", false)

	for _, tc := range []struct {
		name   string
		source string
		visits int64
		want   []string
	}{
		{"neither", "web", 1, nil},
		{"source matches", "app", 1, []string{"only-app"}},
		{"condition holds", "web", 9, []string{"vip"}},
		{"both", "app", 9, []string{"only-app", "vip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := work(event("purchase", tc.source, map[string]any{"price": 10.0}))
			w.Profile.Stats.Visits = tc.visits
			if err := f.e.Process(f.ctx, w); err != nil {
				t.Fatal(err)
			}
			if got := w.Events[0].Metadata.ProcessedBy.Rules; !slices.Equal(got, tc.want) && !(len(got) == 0 && tc.want == nil) {
				t.Fatalf("rules = %v, want %v", got, tc.want)
			}
			if len(tc.want) > 0 && w.Profile.Traits["hit"] != tc.want[len(tc.want)-1] {
				t.Fatalf("traits = %v", w.Profile.Traits)
			}
			if got := w.Events[0].Metadata.ProcessedBy.Flows; len(tc.want) > 0 && !slices.Equal(got, []string{"f1"}) {
				t.Fatalf("flows = %v", got)
			}
		})
	}

	// Disabling the flow stops it at once (the API invalidates the cache).
	f.flow("f1", false, g([]string{"s:start", `set:set-data{"set": {"profile@traits.hit": "{{flow@rule_id}}"}}`}, "s>set"))
	w := work(event("purchase", "app", nil))
	if err := f.e.Process(f.ctx, w); err != nil {
		t.Fatal(err)
	}
	if len(w.Events[0].Metadata.ProcessedBy.Rules) != 0 {
		t.Fatalf("a disabled flow ran")
	}
}

func TestStageFailuresDoNotFailTheRequest(t *testing.T) {
	f := newFixture(t)
	f.flow("f1", true, g([]string{"s:start", `boom:throw-error{"message": "no {{event@properties.x}}"}`, `ok:set-data{"set": {"profile@traits.ok": 1}}`}, "s>boom", "s>ok"))
	f.deploy("f1")
	f.rule("r1", "purchase", "", "", "f1", true)
	w := work(event("purchase", "web", map[string]any{"x": "luck"}))
	if err := f.e.Process(f.ctx, w); err != nil {
		t.Fatalf("a failing flow failed the request: %v", err)
	}
	if w.Profile.Traits["ok"] != 1.0 {
		t.Fatalf("the other branch did not run: %v", w.Profile.Traits)
	}
	runs := f.e.Runs("f1", 1)
	if len(runs) != 1 || runs[0].Status != workflow.RunFailed || !strings.Contains(runs[0].Error, "no luck") {
		t.Fatalf("runs = %+v", runs)
	}
}

func TestStageEffects(t *testing.T) {
	f := newFixture(t)
	f.flow("f1", true, g([]string{"s:start", `m:merge-profiles{"keys": ["data.contact.email.main"]}`,
		`inj:inject-event{"type": "vip", "properties": {"from": "{{event@type}}"}}`}, "s>m", "s>inj"))
	f.flow("f2", true, g([]string{"s:start", `c:increment-counter{"counter": "vip"}`, `inj:inject-event{"type": "vip"}`}, "s>c", "s>inj"))
	f.deploy("f1")
	f.deploy("f2")
	f.rule("r1", "purchase", "", "", "f1", true)
	f.rule("r2", "vip", "", "", "f2", true) // f2 injects vip events itself: a chain
	w := work(event("purchase", "web", nil))
	if err := f.e.Process(f.ctx, w); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w.MergeKeys, []string{"data.contact.email.main"}) {
		t.Fatalf("merge keys = %v", w.MergeKeys)
	}
	// purchase → vip → vip → vip → vip: the chain stops after MaxInjectDepth (3) levels.
	if len(w.Events) != 5 || w.Events[1].Type != "vip" || w.Events[1].Properties["from"] != "purchase" {
		t.Fatalf("events = %d, second %+v", len(w.Events), w.Events[1])
	}
	if w.Profile.Stats.Counters["vip"] != 3 || len(w.Events[4].Metadata.ProcessedBy.Rules) != 0 {
		t.Fatalf("vip counter = %v", w.Profile.Stats.Counters["vip"])
	}
	if w.Events[1].Session.ID != "s1" || w.Events[1].Profile.ID != "p1" || w.Events[1].Source.ID != "web" {
		t.Fatalf("injected event %+v", w.Events[1])
	}
}

func TestNoRulesCostsNothing(t *testing.T) {
	f := newFixture(t)
	w := work(event("page-view", "web", nil))
	before, _ := json.Marshal(w.Profile)
	if err := f.e.Process(f.ctx, w); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(w.Profile)
	if string(before) != string(after) {
		t.Fatal("the profile changed without rules")
	}
}

func BenchmarkProcessWithoutMatchingRules(b *testing.B) {
	store, err := sqlite.Open(sqlite.Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	e, _ := workflow.New(workflow.Config{}, workflow.Deps{Store: store})
	doc, _ := json.Marshal(domain.Rule{Meta: domain.Meta{ID: "r", Enabled: true}, EventType: "purchase", FlowID: "f"})
	store.Entities().Put(context.Background(), &storage.Entity{Kind: domain.EntityRule, ID: "r", Doc: doc}, -1)
	w := work(event("page-view", "web", nil))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Process(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDeployVersionsRestore(t *testing.T) {
	f := newFixture(t)
	v1graph := g([]string{"s:start", `a:set-data{"set": {"profile@traits.v": 1}}`}, "s>a")
	v2graph := g([]string{"s:start", `a:set-data{"set": {"profile@traits.v": 2}}`}, "s>a")
	f.flow("f1", true, v1graph)
	f.rule("r1", "purchase", "", "", "f1", true)
	traitV := func() any {
		w := work(event("purchase", "web", nil))
		if err := f.e.Process(f.ctx, w); err != nil {
			t.Fatal(err)
		}
		return w.Profile.Traits["v"]
	}
	if v := f.deploy("f1"); v.Version != 1 || v.DeployedBy != "tester" {
		t.Fatalf("deploy = %+v", v)
	}
	if traitV() != 1.0 {
		t.Fatal("v1 did not run")
	}
	// Saving a draft does not change production.
	f.flow("f1", true, v2graph)
	if traitV() != 1.0 {
		t.Fatal("the draft ran")
	}
	f.deploy("f1")
	if traitV() != 2.0 {
		t.Fatal("v2 did not run")
	}
	vs, cur, err := f.e.Versions(f.ctx, "f1")
	if err != nil || cur != 2 || len(vs) != 2 || vs[0].Version != 2 || !vs[0].Current || vs[1].Current {
		t.Fatalf("versions = %+v current %d err %v", vs, cur, err)
	}
	restored, err := f.e.Restore(f.ctx, "f1", 1, "tester", false)
	if err != nil || restored.Version != 3 || restored.RestoredFrom != 1 {
		t.Fatalf("restore = %+v, %v", restored, err)
	}
	if traitV() != 1.0 {
		t.Fatal("the restored version did not run")
	}
	// Restoring into the draft leaves production alone.
	if _, err := f.e.Restore(f.ctx, "f1", 2, "tester", true); err != nil {
		t.Fatal(err)
	}
	fl, _ := f.e.LoadFlow(f.ctx, "f1")
	if string(fl.Draft.Nodes[1].Config) != `{"set":{"profile@traits.v":2}}` || traitV() != 1.0 {
		t.Fatalf("draft = %s", fl.Draft.Nodes[1].Config)
	}
	if _, err := f.e.Version(f.ctx, "f1", 9); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}

	// A draft without a start node cannot be deployed.
	f.flow("f1", true, g([]string{`a:set-data{"set": {"profile@traits.v": 3}}`}))
	var ge *workflow.GraphError
	if _, err := f.e.Deploy(f.ctx, "f1", "tester"); !errors.As(err, &ge) || ge.Field != "draft.nodes" {
		t.Fatalf("deploy without start: %v", err)
	}

	// Deleting the flow removes its deployment: the rule no longer runs anything.
	if err := f.store.Entities().Delete(f.ctx, domain.EntityFlow, "f1"); err != nil {
		t.Fatal(err)
	}
	f.e.FlowChanged(f.ctx, "f1")
	if v := traitV(); v != nil {
		t.Fatalf("a deleted flow ran: %v", v)
	}
	if _, err := f.store.Entities().Get(f.ctx, domain.EntityFlowDeployment, "f1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deployment left behind: %v", err)
	}
}

func TestVersionsAreBounded(t *testing.T) {
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	e, _ := workflow.New(workflow.Config{MaxVersions: 3}, workflow.Deps{Store: store})
	f := &fixture{t: t, ctx: context.Background(), store: store, e: e}
	f.flow("f1", true, g([]string{"s:start"}))
	for range 5 {
		f.deploy("f1")
	}
	vs, cur, _ := e.Versions(f.ctx, "f1")
	if cur != 5 || len(vs) != 3 || vs[2].Version != 3 {
		t.Fatalf("versions = %+v", vs)
	}
}

func TestDebug(t *testing.T) {
	f := newFixture(t)
	stored := domain.NewProfile("p-stored", domain.Now())
	stored.Traits["name"] = "Ann"
	stored.Stats.Visits = 7
	sess := &domain.Session{ID: "s-stored", Profile: domain.Ref{ID: "p-stored"}, Context: map[string]any{}, Properties: map[string]any{}}
	ev := event("purchase", "web", map[string]any{"price": 150.0})
	ev.Profile.ID, ev.Session.ID = "p-stored", "s-stored"
	if err := f.store.Commit(f.ctx, &storage.Batch{Profiles: []*domain.Profile{stored}, Sessions: []*domain.Session{sess}, Events: []*domain.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	f.flow("f1", true, g([]string{"s:start", `c:if{"condition": "event@properties.price > 100 AND profile@stats.visits > 5"}`,
		`seg:add-segment{"segment": "big-spender"}`, `set:set-data{"set": {"profile@traits.greeting": "Hi {{profile@traits.name}}", "session@properties.x": 1}}`,
		`resp:tracker-response{"response": {"vip": true}}`, `boom:throw-error{"message": "nope"}`},
		"s>c", "c.true>seg", "seg>set", "set>resp", "c.false>boom"))

	check := func(res *workflow.DebugResult) {
		t.Helper()
		tr := res.Trace
		if tr.Status != workflow.RunOK || tr.FlowVersion != 0 {
			t.Fatalf("trace %s %q", tr.Status, tr.Error)
		}
		c := nodeTrace(t, tr, "c")
		if !slices.Equal(c.Ports, []string{"true"}) || c.Input.(map[string]any)["price"] != 150.0 || c.DurationMS < 0 {
			t.Fatalf("if trace %+v", c)
		}
		if nodeTrace(t, tr, "boom").Status != workflow.NodeSkipped {
			t.Fatal("the false branch ran")
		}
		want := map[string]string{"segments": "change", "traits.greeting": "add"}
		for _, ch := range res.ProfileDiff {
			if op, ok := want[ch.Path]; ok && op == ch.Op {
				delete(want, ch.Path)
			}
		}
		if len(want) > 0 {
			t.Fatalf("profile diff %+v lacks %v", res.ProfileDiff, want)
		}
		if len(res.SessionDiff) != 1 || res.SessionDiff[0].Path != "properties.x" {
			t.Fatalf("session diff %+v", res.SessionDiff)
		}
		if res.Response["vip"] != true {
			t.Fatalf("response %v", res.Response)
		}
	}
	res, err := f.e.Debug(f.ctx, "f1", workflow.DebugRequest{Event: json.RawMessage(`{"type": "purchase", "properties": {"price": 150}}`), ProfileID: "p-stored"})
	if err != nil {
		t.Fatal(err)
	}
	check(res)
	res, err = f.e.Debug(f.ctx, "f1", workflow.DebugRequest{EventID: ev.ID})
	if err != nil {
		t.Fatal(err)
	}
	check(res)

	// Nothing was stored.
	p, _ := f.store.Profiles().Get(f.ctx, "p-stored")
	s, _ := f.store.Sessions().Get(f.ctx, "s-stored")
	if len(p.Segments) != 0 || p.Traits["greeting"] != nil || s.Properties["x"] != nil {
		t.Fatalf("the debugger stored changes: %+v %+v", p, s)
	}
	if len(f.e.Runs("f1", 10)) != 0 {
		t.Fatal("debug runs went into the run log")
	}

	// An unsaved draft can be debugged too; a new profile is made up when none is given.
	draft := g([]string{"s:start", `t:template{"template": "{{event@properties.price}}"}`}, "s>t")
	res, err = f.e.Debug(f.ctx, "f1", workflow.DebugRequest{Event: json.RawMessage(`{"type": "x", "properties": {"price": 3}}`), Draft: &draft})
	if err != nil || nodeTrace(t, res.Trace, "t").Outputs["payload"] != "3" || !strings.HasPrefix(res.ProfileID, "debug-") {
		t.Fatalf("draft debug: %+v %v", res, err)
	}

	for _, tc := range []struct {
		req   workflow.DebugRequest
		field string
	}{
		{workflow.DebugRequest{}, "event"},
		{workflow.DebugRequest{EventID: "nope"}, "event_id"},
		{workflow.DebugRequest{Event: json.RawMessage(`{"properties": {}}`)}, "event.type"},
		{workflow.DebugRequest{Event: json.RawMessage(`{"type": "x", "bogus": 1}`)}, "event"},
		{workflow.DebugRequest{Event: json.RawMessage(`{"type": "x"}`), ProfileID: "nobody"}, "profile_id"},
		{workflow.DebugRequest{Event: json.RawMessage(`{"type": "x"}`), Draft: &domain.FlowGraph{}}, "draft.nodes"},
	} {
		_, err := f.e.Debug(f.ctx, "f1", tc.req)
		var ge *workflow.GraphError
		if !errors.As(err, &ge) || ge.Field != tc.field {
			t.Errorf("debug %+v: %v, want field %s", tc.req, err, tc.field)
		}
	}
	if _, err := f.e.Debug(f.ctx, "nope", workflow.DebugRequest{Event: json.RawMessage(`{"type": "x"}`)}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown flow: %v", err)
	}
}

func TestRunLogIsBounded(t *testing.T) {
	l := workflow.NewRunLog(3, 2)
	for i := range 5 {
		l.Add(&workflow.Trace{FlowID: "a", RunID: fmt.Sprint(i)})
	}
	got := l.List("a", 10)
	if len(got) != 3 || got[0].RunID != "4" || got[2].RunID != "2" {
		t.Fatalf("runs of a = %v", ids(got))
	}
	if got := l.List("a", 2); len(got) != 2 || got[1].RunID != "3" {
		t.Fatalf("limit: %v", ids(got))
	}
	l.Add(&workflow.Trace{FlowID: "b", RunID: "b"})
	l.Add(&workflow.Trace{FlowID: "a", RunID: "5"}) // a is used more recently than b
	l.Add(&workflow.Trace{FlowID: "c", RunID: "c"})
	if len(l.List("b", 10)) != 0 || len(l.List("a", 10)) != 3 || len(l.List("c", 10)) != 1 {
		t.Fatal("the least recently run flow was not the one dropped")
	}
}

func ids(ts []*workflow.Trace) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.RunID)
	}
	return out
}

// TestStageConcurrentWithDeploys runs requests while the flow is redeployed and rules
// change: under -race this checks the caches and the programs' reference counting.
func TestStageConcurrentWithDeploys(t *testing.T) {
	f := newFixture(t)
	f.flow("f1", true, g([]string{"s:start", `c:increment-counter{"counter": "n"}`}, "s>c"))
	f.deploy("f1")
	f.rule("r1", "purchase", "", "", "f1", true)
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				w := work(event("purchase", "web", nil))
				if err := f.e.Process(f.ctx, w); err != nil {
					errs <- err
					return
				}
				if w.Profile.Stats.Counters["n"] != 1 {
					errs <- fmt.Errorf("counter = %v", w.Profile.Stats.Counters["n"])
					return
				}
			}
		}()
	}
	for range 10 {
		f.deploy("f1")
		f.e.InvalidateRules()
		f.e.InvalidateFlows()
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestStageSecondPass is the engine appearing twice in the pipeline: the second pass
// handles only the events added in between (segment-entered, say).
func TestStageSecondPass(t *testing.T) {
	f := newFixture(t)
	f.flow("f1", true, g([]string{"s:start", `c:increment-counter{"counter": "runs"}`}, "s>c"))
	f.deploy("f1")
	f.rule("r1", "purchase", "", "", "f1", true)
	f.rule("r2", "segment-entered", "", "", "f1", true)
	w := work(event("purchase", "web", nil))
	for range 2 {
		if err := f.e.Process(f.ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.Profile.Stats.Counters["runs"]; n != 1 {
		t.Fatalf("the second pass ran the first event again: runs = %v", n)
	}
	w.AddEvent(event("segment-entered", "internal", nil), true)
	if err := f.e.Process(f.ctx, w); err != nil {
		t.Fatal(err)
	}
	if n := w.Profile.Stats.Counters["runs"]; n != 2 || !slices.Equal(w.Events[1].Metadata.ProcessedBy.Rules, []string{"r2"}) {
		t.Fatalf("runs = %v, processed_by %+v", n, w.Events[1].Metadata.ProcessedBy)
	}
}
