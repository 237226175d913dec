package data_test

import (
	"testing"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/data"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/workflow/workflowtest"
)

func profile(f func(p *domain.Profile)) *domain.Profile {
	p := domain.NewProfile("p1", domain.Now())
	f(p)
	return p
}

func TestNodes(t *testing.T) {
	workflowtest.Run(t, workflowtest.Env{}, []workflowtest.Case{
		{Name: "event to profile", Node: "copy-data", Config: `{"copy": {"profile@traits.last": "event@properties.product", "memory@x": "event@properties.product"}}`,
			Properties: map[string]any{"product": map[string]any{"sku": "A1", "price": 10.0}},
			Check: func(t *testing.T, r *workflowtest.Result) {
				if !workflowtest.JSONEqual(r.Profile.Traits["last"], map[string]any{"sku": "A1", "price": 10}) {
					t.Fatalf("traits = %v", r.Profile.Traits)
				}
			}},
		{Name: "missing source leaves the target", Node: "copy-data", Config: `{"copy": {"profile@traits.x": "event@properties.none"}}`,
			Profile: profile(func(p *domain.Profile) { p.Traits["x"] = "kept" }),
			Check: func(t *testing.T, r *workflowtest.Result) {
				if r.Profile.Traits["x"] != "kept" {
					t.Fatalf("traits = %v", r.Profile.Traits)
				}
			}},
		{Name: "into payload", Node: "copy-data", Config: `{"copy": {"payload@email": "profile@data.contact.email.main"}}`,
			Profile: profile(func(p *domain.Profile) { p.Data["contact"] = map[string]any{"email": map[string]any{"main": "a@b.c"}} }),
			Payload: map[string]any{"a": 1}, Output: map[string]any{"a": 1, "email": "a@b.c"}},
		{Name: "typed field checked", Node: "copy-data", Config: `{"copy": {"profile@stats.visits": "event@properties.name"}}`,
			Properties: map[string]any{"name": "x"}, Err: "profile@stats.visits: must be a number"},
		{Name: "identity is read-only", Node: "copy-data", Config: `{"copy": {"profile@id": "event@properties.name"}}`,
			Properties: map[string]any{"name": "x"}, Err: "profile@id: is read-only"},
		{Name: "flow is read-only", Node: "copy-data", Config: `{"copy": {"flow@id": "event@id"}}`, ConfigErr: "flow cannot be written"},
		{Name: "bad reference", Node: "copy-data", Config: `{"copy": {"profile@traits.x": "properties.y"}}`, ConfigErr: "is not a reference"},
		{Name: "copy required", Node: "copy-data", ConfigErr: "config.copy: is required"},

		{Name: "values and templates", Node: "set-data",
			Config:     `{"set": {"profile@traits.tier": "gold", "profile@traits.greeting": "Hi {{event@properties.name}}", "profile@traits.items": "{{event@properties.items}}", "profile@stats.counters.x": 3}}`,
			Properties: map[string]any{"name": "Ann", "items": []any{1.0, 2.0}},
			Check: func(t *testing.T, r *workflowtest.Result) {
				want := map[string]any{"tier": "gold", "greeting": "Hi Ann", "items": []any{1, 2}}
				if !workflowtest.JSONEqual(r.Profile.Traits, want) || r.Profile.Stats.Counters["x"] != 3 {
					t.Fatalf("traits = %v counters = %v", r.Profile.Traits, r.Profile.Stats.Counters)
				}
			}},
		{Name: "session and event", Node: "set-data", Config: `{"set": {"session@properties.seen": true, "event@properties.tagged": "yes"}}`,
			Check: func(t *testing.T, r *workflowtest.Result) {
				if r.Session.Properties["seen"] != true || r.Event.Properties["tagged"] != "yes" {
					t.Fatalf("session %v event %v", r.Session.Properties, r.Event.Properties)
				}
			}},
		{Name: "segments must be a list", Node: "set-data", Config: `{"set": {"profile@segments": "x"}}`, Err: "must be a list"},
		{Name: "unknown profile field", Node: "set-data", Config: `{"set": {"profile@nonsense": 1}}`, Err: "not a field of the profile"},

		{Name: "new list, then unique", Node: "append-data", Config: `{"append": {"profile@traits.viewed": "{{event@properties.p}}"}, "unique": true}`,
			Properties: map[string]any{"p": "A"},
			Profile:    profile(func(p *domain.Profile) { p.Traits["viewed"] = []any{"A", "B"} }),
			Check: func(t *testing.T, r *workflowtest.Result) {
				if !workflowtest.JSONEqual(r.Profile.Traits["viewed"], []any{"A", "B"}) {
					t.Fatalf("viewed = %v", r.Profile.Traits["viewed"])
				}
			}},
		{Name: "scalar becomes a list", Node: "append-data", Config: `{"append": {"memory@l": 1, "profile@traits.one": 2}}`,
			Profile: profile(func(p *domain.Profile) { p.Traits["one"] = 1.0 }),
			Check: func(t *testing.T, r *workflowtest.Result) {
				if !workflowtest.JSONEqual(r.Profile.Traits["one"], []any{1, 2}) {
					t.Fatalf("one = %v", r.Profile.Traits["one"])
				}
			}},

		{Name: "delete", Node: "delete-data", Config: `{"delete": ["profile@traits.cart", "payload@secret"]}`,
			Profile: profile(func(p *domain.Profile) { p.Traits["cart"] = []any{"x"}; p.Traits["keep"] = 1.0 }),
			Payload: map[string]any{"secret": 1, "ok": 2}, Output: map[string]any{"ok": 2},
			Check: func(t *testing.T, r *workflowtest.Result) {
				if _, ok := r.Profile.Traits["cart"]; ok || r.Profile.Traits["keep"] != 1.0 {
					t.Fatalf("traits = %v", r.Profile.Traits)
				}
			}},
		{Name: "delete needs one", Node: "delete-data", Config: `{"delete": []}`, ConfigErr: "between 1 and 100 items"},
		{Name: "cannot delete ids", Node: "delete-data", Config: `{"delete": ["profile@ids"]}`, Err: "read-only"},

		{Name: "from zero", Node: "increment-counter", Config: `{"counter": "purchases"}`,
			Check: func(t *testing.T, r *workflowtest.Result) {
				if r.Profile.Stats.Counters["purchases"] != 1 {
					t.Fatalf("counters = %v", r.Profile.Stats.Counters)
				}
			}},
		{Name: "by", Node: "increment-counter", Config: `{"counter": "purchases", "by": 2.5}`,
			Profile: profile(func(p *domain.Profile) { p.Stats.Counters["purchases"] = 1 }),
			Check: func(t *testing.T, r *workflowtest.Result) {
				if r.Profile.Stats.Counters["purchases"] != 3.5 {
					t.Fatalf("counters = %v", r.Profile.Stats.Counters)
				}
			}},
		{Name: "bad name", Node: "increment-counter", Config: `{"counter": "a.b"}`, ConfigErr: "config.counter: must match"},
		{Name: "decrement", Node: "decrement-counter", Config: `{"counter": "credits", "by": 2}`,
			Profile: profile(func(p *domain.Profile) { p.Stats.Counters["credits"] = 5 }),
			Check: func(t *testing.T, r *workflowtest.Result) {
				if r.Profile.Stats.Counters["credits"] != 3 {
					t.Fatalf("counters = %v", r.Profile.Stats.Counters)
				}
			}},
		{Name: "by must be a number", Node: "decrement-counter", Config: `{"counter": "x", "by": "2"}`, ConfigErr: "config.by: must be a number"},

		{Name: "render", Node: "template", Config: `{"template": "Hello {{profile@data.pii.firstname}}, {{event@properties.n}} items, {{event@properties.missing}}!", "to": "memory@t"}`,
			Profile:    profile(func(p *domain.Profile) { p.Data["pii"] = map[string]any{"firstname": "Ann"} }),
			Properties: map[string]any{"n": 3.0}, Output: "Hello Ann, 3 items, !"},
		{Name: "objects render as JSON", Node: "template", Config: `{"template": "{{payload@}}"}`, Payload: map[string]any{"a": []any{1.0}}, Output: `{"a":[1]}`},
	})
}
