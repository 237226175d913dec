package workflow_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// asJSON is v as a JSON-like map, the way the whole object reads in JSON.
func asJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonNames lists the top-level JSON names of struct type t, omitted or not.
func jsonNames(t reflect.Type) []string {
	var out []string
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

func richObjects() (*domain.Profile, *domain.Session, *domain.Event) {
	now := domain.Now()
	p := domain.NewProfile("p1", now)
	p.Stats.Visits, p.Stats.Views, p.Stats.Counters["page-views"] = 3, 7, 7
	p.Traits = map[string]any{"plan": "gold", "last_page": "Shoes", "tags": []any{"a", 1.0}}
	p.Data = map[string]any{"contact": map[string]any{"email": map[string]any{"main": "a@example.com"}}}
	p.Segments = []string{"runners"}
	p.Interests["running"] = 2.5
	p.Consents["marketing-email"] = domain.Consent{Granted: true, Revoke: &now}
	p.Metadata.Merges = []domain.MergeRecord{{ProfileID: "p0", Key: "data.contact.email.main", Value: "a@example.com", Time: now, By: "identity"}}
	s := &domain.Session{ID: "s1", Profile: domain.Ref{ID: "p1"}, Context: map[string]any{"page": map[string]any{"url": "https://x/"}}, Properties: map[string]any{}}
	ev := workflow.NewEvent(nil, "page-view", map[string]any{"n": 1.0, "items": []any{map[string]any{"sku": "A"}}}, time.Now())
	ev.Source.ID, ev.Profile.ID, ev.Session.ID = "web", "p1", "s1"
	ev.Context = map[string]any{"page": map[string]any{"url": "https://shop.example.com/c/shoes", "title": "Shoes"}}
	ev.Hit = domain.Hit{Name: "Shoes", URL: "https://shop.example.com/c/shoes?x=1", Query: "x=1"}
	ev.Metadata.ProcessedBy.Rules = []string{"r1"}
	return p, s, ev
}

// Reading a document field by field gives what the whole object's JSON holds: the same
// values, and absent fields (omitempty, or no object at all) stay absent.
func TestDocumentFieldsReadAsTheWholeObject(t *testing.T) {
	rp, rs, rev := richObjects()
	emptyEvent := workflow.NewEvent(nil, "page-view", nil, time.Now())
	emptyEvent.Name = "" // omitempty: absent from the object
	for _, tc := range []struct {
		name string
		p    *domain.Profile
		s    *domain.Session
		ev   *domain.Event
	}{
		{"rich", rp, rs, rev},
		{"new and empty", domain.NewProfile("p2", domain.Now()), &domain.Session{ID: "s2"}, emptyEvent},
		{"no session", rp, nil, rev},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := workflow.NewTestExec(tc.p, tc.s, tc.ev)
			for _, o := range []struct {
				scope string
				obj   any
				typ   reflect.Type
			}{
				{"profile", tc.p, reflect.TypeFor[domain.Profile]()},
				{"session", tc.s, reflect.TypeFor[domain.Session]()},
				{"event", tc.ev, reflect.TypeFor[domain.Event]()},
			} {
				var whole map[string]any
				if !reflect.ValueOf(o.obj).IsNil() {
					whole = asJSON(t, o.obj)
				}
				for _, name := range append(jsonNames(o.typ), "nope") {
					want, wok := whole[name]
					got, ok := x.Get(workflow.Ref{Scope: o.scope, Path: name})
					if ok != wok || !reflect.DeepEqual(got, want) {
						t.Errorf("%s@%s = %#v, %v; the whole object has %#v, %v", o.scope, name, got, ok, want, wok)
					}
				}
			}
			// A nested path reads through the loaded field.
			if tc.ev == rev {
				if v, _ := x.Get(workflow.MustRef("event@properties.n")); v != 1.0 {
					t.Errorf("event@properties.n = %#v", v)
				}
				if v, _ := x.Get(workflow.MustRef("event@hit.url")); v != rev.Hit.URL {
					t.Errorf("event@hit.url = %#v", v)
				}
			}
		})
	}
}

// Writes to some fields, then the whole document: it holds the writes and every other
// field as it was; and the write-back changes only the written fields.
func TestDocumentPartialWritesThenWhole(t *testing.T) {
	p, s, ev := richObjects()
	before := asJSON(t, p)
	x := workflow.NewTestExec(p, s, ev)
	if err := x.Add(workflow.MustRef("profile@stats.counters.page-views"), 1); err != nil {
		t.Fatal(err)
	}
	if err := x.Set(workflow.MustRef("profile@traits.customer"), true); err != nil {
		t.Fatal(err)
	}
	if err := x.Delete(workflow.MustRef("profile@interests.running")); err != nil {
		t.Fatal(err)
	}
	whole, ok := x.Get(workflow.Ref{Scope: "profile"})
	if !ok {
		t.Fatal("no whole profile")
	}
	want := asJSON(t, p) // unchanged until the write-back
	domain.SetPath(want, "stats.counters.page-views", 8.0)
	domain.SetPath(want, "traits.customer", true)
	domain.DeletePath(want, "interests.running")
	if !reflect.DeepEqual(whole, want) {
		t.Fatalf("whole profile\n got %v\nwant %v", whole, want)
	}
	if err := x.WriteBack(); err != nil {
		t.Fatal(err)
	}
	after := asJSON(t, p)
	if !reflect.DeepEqual(after, want) {
		t.Fatalf("written back\n got %v\nwant %v", after, want)
	}
	for _, k := range []string{"id", "ids", "metadata", "data", "segments", "consents", "active", "aux"} {
		if !reflect.DeepEqual(after[k], before[k]) {
			t.Errorf("%s changed: %v → %v", k, before[k], after[k])
		}
	}
}
