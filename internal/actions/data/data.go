// Package data holds the node types that read and change values through scope@path
// references: copy, set, append and delete data, counters and templates.
package data

import (
	"context"
	"reflect"
	"sort"

	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

const category = "Data"

func init() {
	workflow.Register(workflow.Spec{
		ID: "copy-data", Name: "Copy data", Category: category,
		Description: "Copies values from one place to another: each target reference gets the value of its source reference.",
		Doc: "Targets are written in key order. A source that does not exist leaves its target alone. " +
			"Writes to the profile are checked against its model: `profile@stats.visits` must stay a number.",
		Fields: []workflow.Field{
			workflow.MapField("copy", workflow.TypeRef, workflow.TypeRef, "Target reference → source reference.").Req().Write().
				Ex(map[string]any{"profile@traits.last_product": "event@properties.product"}),
		},
		Examples: []workflow.Example{
			{Title: "Keep the last product", Config: `{"copy": {"profile@traits.last_product": "event@properties.product"}}`},
			{Title: "Remember the e-mail for later nodes", Config: `{"copy": {"memory@email": "profile@data.contact.email.main"}}`},
		},
		New: func() workflow.Action { return new(CopyData) },
	})
	workflow.Register(workflow.Spec{
		ID: "set-data", Name: "Set data", Category: category,
		Description: "Sets values: each target reference gets a value, whose strings may be templates.",
		Doc: "A string that is exactly one placeholder, such as `\"{{event@properties.items}}\"`, sets the referenced " +
			"value with its type (a number stays a number, an object an object); other strings are rendered as text.",
		Fields: []workflow.Field{
			workflow.MapField("set", workflow.TypeRef, workflow.TypeValue, "Target reference → value.").Req().Write().
				Ex(map[string]any{"profile@traits.tier": "gold"}),
		},
		Examples: []workflow.Example{
			{Title: "Mark a VIP", Config: `{"set": {"profile@traits.tier": "gold", "profile@traits.tier_since": "{{event@metadata.time.insert}}"}}`},
			{Title: "Greeting", Config: `{"set": {"payload@greeting": "Hello {{profile@data.pii.firstname}}"}}`},
		},
		New: func() workflow.Action { return new(SetData) },
	})
	workflow.Register(workflow.Spec{
		ID: "append-data", Name: "Append data", Category: category,
		Description: "Appends values to lists: a missing target becomes a one-item list, a single value a two-item list.",
		Fields: []workflow.Field{
			workflow.MapField("append", workflow.TypeRef, workflow.TypeValue, "Target reference → value to append.").Req().Write().
				Ex(map[string]any{"profile@traits.viewed": "{{event@properties.product}}"}),
			workflow.BoolField("unique", "Skip a value the list holds already.").Def(false),
		},
		Examples: []workflow.Example{
			{Title: "Products viewed", Config: `{"append": {"profile@traits.viewed": "{{event@properties.product}}"}, "unique": true}`},
		},
		New: func() workflow.Action { return new(AppendData) },
	})
	workflow.Register(workflow.Spec{
		ID: "delete-data", Name: "Delete data", Category: category,
		Description: "Deletes the values at the given references.",
		Fields: []workflow.Field{
			workflow.ListField("delete", workflow.TypeRef, "References to delete.").Req().Write().Range(1, 100).
				Ex([]any{"profile@traits.cart"}),
		},
		Examples: []workflow.Example{{Title: "Empty the cart", Config: `{"delete": ["profile@traits.cart", "memory@cart"]}`}},
		New:      func() workflow.Action { return new(DeleteData) },
	})
	for _, dir := range []struct {
		id, name, what string
		sign           float64
	}{
		{"increment-counter", "Increment counter", "Adds a number to", 1},
		{"decrement-counter", "Decrement counter", "Subtracts a number from", -1},
	} {
		sign := dir.sign
		workflow.Register(workflow.Spec{
			ID: dir.id, Name: dir.name, Category: category,
			Description: dir.what + " a counter of the profile (profile.stats.counters), starting from 0.",
			Fields: []workflow.Field{
				workflow.StringField("counter", "The counter's name.").Req().Match(`[A-Za-z0-9_-]{1,100}`).Ex("purchases"),
				workflow.NumberField("by", "How much to add or subtract.").Def(1.0).Ex(2.0),
			},
			Examples: []workflow.Example{{Title: "Count purchases", Config: `{"counter": "purchases", "by": 1}`}},
			New:      func() workflow.Action { return &Counter{sign: sign} },
		})
	}
	workflow.Register(workflow.Spec{
		ID: "template", Name: "Template", Category: category,
		Description: "Renders a text template and emits the text (and stores it when `to` is set).",
		Fields: []workflow.Field{
			workflow.TemplateField("template", "The template.").Req().Ex("Hello {{profile@data.pii.firstname}}!"),
			workflow.RefField("to", "Where to store the text as well.").Write().Ex("memory@greeting"),
		},
		Examples: []workflow.Example{{Title: "Greeting", Config: `{"template": "Hello {{profile@data.pii.firstname}}!", "to": "memory@greeting"}`}},
		New:      func() workflow.Action { return new(Template) },
	})
}

// pair is one target and its source or value, from a map config, in key order.
type pair[T any] struct {
	to workflow.Ref
	v  T
}

func pairs[T any](m map[string]T) []pair[T] {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]pair[T], len(keys))
	for i, k := range keys {
		out[i] = pair[T]{to: workflow.MustRef(k), v: m[k]} // keys were checked by the spec
	}
	return out
}

// CopyData copies values.
type CopyData struct {
	Copy  map[string]workflow.Ref `json:"copy"`
	pairs []pair[workflow.Ref]
}

// Validate implements workflow.Validator.
func (n *CopyData) Validate() error { n.pairs = pairs(n.Copy); return nil }

// Run implements workflow.Action.
func (n *CopyData) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	for _, p := range n.pairs {
		v, ok := x.Get(p.v)
		if !ok {
			continue
		}
		if err := x.Set(p.to, workflow.CloneJSON(v)); err != nil {
			return nil, err
		}
	}
	return workflow.Pass(x), nil
}

// SetData sets values.
type SetData struct {
	Set   map[string]workflow.Value `json:"set"`
	pairs []pair[workflow.Value]
}

// Validate implements workflow.Validator.
func (n *SetData) Validate() error { n.pairs = pairs(n.Set); return nil }

// Run implements workflow.Action.
func (n *SetData) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	for _, p := range n.pairs {
		if err := x.Set(p.to, x.Resolve(p.v)); err != nil {
			return nil, err
		}
	}
	return workflow.Pass(x), nil
}

// AppendData appends to lists.
type AppendData struct {
	Append map[string]workflow.Value `json:"append"`
	Unique bool                      `json:"unique"`
	pairs  []pair[workflow.Value]
}

// Validate implements workflow.Validator.
func (n *AppendData) Validate() error { n.pairs = pairs(n.Append); return nil }

// Run implements workflow.Action.
func (n *AppendData) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	for _, p := range n.pairs {
		v := x.Resolve(p.v)
		var list []any
		switch cur, _ := x.Get(p.to); c := cur.(type) {
		case nil:
		case []any:
			list = append(list, c...)
		default:
			list = []any{c}
		}
		if n.Unique && containsValue(list, v) {
			continue
		}
		if err := x.Set(p.to, append(list, v)); err != nil {
			return nil, err
		}
	}
	return workflow.Pass(x), nil
}

func containsValue(list []any, v any) bool {
	for _, it := range list {
		if reflect.DeepEqual(it, v) {
			return true
		}
	}
	return false
}

// DeleteData deletes values.
type DeleteData struct {
	Delete []workflow.Ref `json:"delete"`
}

// Run implements workflow.Action.
func (n *DeleteData) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	for _, r := range n.Delete {
		if err := x.Delete(r); err != nil {
			return nil, err
		}
	}
	return workflow.Pass(x), nil
}

// Counter adds to or subtracts from a profile counter.
type Counter struct {
	Counter string  `json:"counter"`
	By      float64 `json:"by"`
	sign    float64
}

// Run implements workflow.Action.
func (n *Counter) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	if err := x.Add(workflow.Ref{Scope: workflow.ScopeProfile, Path: "stats.counters." + n.Counter}, n.sign*n.By); err != nil {
		return nil, err
	}
	return workflow.Pass(x), nil
}

// Template renders text.
type Template struct {
	Template workflow.Template `json:"template"`
	To       workflow.Ref      `json:"to"`
}

// Run implements workflow.Action.
func (n *Template) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	text := x.Render(n.Template)
	if !n.To.IsZero() {
		if err := x.Set(n.To, text); err != nil {
			return nil, err
		}
	}
	return workflow.Emit(workflow.DefaultPort, text), nil
}

var (
	_ workflow.Action    = (*CopyData)(nil)
	_ workflow.Validator = (*CopyData)(nil)
	_ workflow.Action    = (*SetData)(nil)
	_ workflow.Action    = (*AppendData)(nil)
	_ workflow.Action    = (*DeleteData)(nil)
	_ workflow.Action    = (*Counter)(nil)
	_ workflow.Action    = (*Template)(nil)
)
