package mapping

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/query/eval"
)

// Apply applies t's mappings for ev to w.Profile. Mappings run in order, and each
// sees the changes of the ones before it. A mapping whose source is missing or null
// does nothing (use delete to remove a value); one that cannot apply (increment of a
// value that is not a number) adds a warning to the request and does nothing.
func (t *Type) Apply(w *pipeline.Work, ev *domain.Event) {
	d := &docs{w: w, ev: ev}
	for i, r := range t.Rules {
		if r.filter != nil && !r.filter.Eval(d, w.Now.Time) {
			continue
		}
		var v any
		if r.from != nil {
			var ok bool
			if v, ok = d.get(*r.from); !ok || v == nil {
				continue
			}
		}
		var err error
		if r.kind == targetNumbers {
			err = r.applyNumber(w.Profile, v)
		} else {
			err = r.applyObject(w.Profile, v)
		}
		if err != nil {
			w.Warnings = append(w.Warnings, fmt.Sprintf("event type %s, profile_mapping[%d] (%s): %v", t.ID, i, r.m.To, err))
			continue
		}
		d.profile = nil // the profile changed: conditions read it again
	}
}

func (r *Rule) applyObject(p *domain.Profile, v any) error {
	var root map[string]any
	switch r.root {
	case "traits":
		if p.Traits == nil {
			p.Traits = map[string]any{}
		}
		root = p.Traits
	case "data":
		if p.Data == nil {
			p.Data = map[string]any{}
		}
		root = p.Data
	default:
		if p.Aux == nil {
			p.Aux = map[string]any{}
		}
		root = p.Aux
	}
	path := strings.Join(r.path, ".")
	cur, exists := domain.GetPath(root, path)
	switch r.m.Op {
	case domain.MapEquals:
		domain.SetPath(root, path, clone(v))
	case domain.MapEqualsIfNotExists:
		if !exists || domain.IsEmpty(cur) {
			domain.SetPath(root, path, clone(v))
		}
	case domain.MapAppend:
		list, ok := cur.([]any)
		switch {
		case !exists || cur == nil:
			list = []any{}
		case !ok:
			list = []any{cur}
		}
		add := []any{v}
		if vs, ok := v.([]any); ok {
			add = vs
		}
		for _, x := range add {
			if !slices.ContainsFunc(list, func(y any) bool { return reflect.DeepEqual(x, y) }) {
				list = append(list, clone(x))
			}
		}
		domain.SetPath(root, path, list)
	case domain.MapIncrement:
		delta, err := deltaOf(r, v)
		if err != nil {
			return err
		}
		n := 0.0
		if exists && cur != nil {
			var ok bool
			if n, ok = number(cur); !ok {
				return fmt.Errorf("the profile holds %s there, not a number", kindOf(cur))
			}
		}
		domain.SetPath(root, path, n+delta)
	case domain.MapDelete:
		domain.DeletePath(root, path)
	}
	return nil
}

func (r *Rule) applyNumber(p *domain.Profile, v any) error {
	var m map[string]float64
	if r.root == "interests" {
		if p.Interests == nil {
			p.Interests = map[string]float64{}
		}
		m = p.Interests
	} else {
		if p.Stats.Counters == nil {
			p.Stats.Counters = map[string]float64{}
		}
		m = p.Stats.Counters
	}
	key := r.path[0]
	switch r.m.Op {
	case domain.MapEquals, domain.MapEqualsIfNotExists:
		n, ok := number(v)
		if !ok {
			return fmt.Errorf("the value is %s, not a number", kindOf(v))
		}
		if _, exists := m[key]; !exists || r.m.Op == domain.MapEquals {
			m[key] = n
		}
	case domain.MapIncrement:
		delta, err := deltaOf(r, v)
		if err != nil {
			return err
		}
		m[key] += delta
	case domain.MapDelete:
		delete(m, key)
	}
	return nil
}

// deltaOf is what increment adds: the source value, or 1 without a source.
func deltaOf(r *Rule, v any) (float64, error) {
	if r.from == nil {
		return 1, nil
	}
	n, ok := number(v)
	if !ok {
		return 0, fmt.Errorf("the value is %s, not a number", kindOf(v))
	}
	return n, nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("a %T", v)
}

// clone copies JSON-like values deeply, so that the profile never shares a map or a
// slice with the event it was copied from.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clone(e)
		}
		return s
	}
	return v
}

// docs gives mappings and their conditions the request's documents. The free-form
// parts of events, sessions and profiles are read in place; anything else (and
// conditions) use a JSON form of the document, made when first needed.
type docs struct {
	w                       *pipeline.Work
	ev                      *domain.Event
	event, session, profile map[string]any
}

func (d *docs) get(r Ref) (any, bool) {
	var m map[string]any
	switch r.Scope + "@" + r.Path[0] {
	case "event@properties":
		m = d.ev.Properties
	case "event@traits":
		m = d.ev.Traits
	case "event@context":
		m = d.ev.Context
	case "event@data":
		m = d.ev.Data
	case "profile@traits":
		m = d.w.Profile.Traits
	case "profile@data":
		m = d.w.Profile.Data
	case "profile@aux":
		m = d.w.Profile.Aux
	default:
		return d.Lookup(r.Scope, r.Path)
	}
	return walk(m, r.Path[1:])
}

// Lookup implements eval.Documents.
func (d *docs) Lookup(scope string, path []string) (any, bool) {
	var doc *map[string]any
	var src any
	switch scope {
	case "event":
		doc, src = &d.event, d.ev
	case "session":
		if d.w.Session == nil {
			return nil, false
		}
		doc, src = &d.session, d.w.Session
	case "profile":
		doc, src = &d.profile, d.w.Profile
	default:
		return nil, false
	}
	if *doc == nil {
		b, err := json.Marshal(src)
		if err != nil || json.Unmarshal(b, doc) != nil {
			return nil, false
		}
	}
	return walk(*doc, path)
}

// walk follows path through objects.
func walk(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, k := range path {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = o[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

var _ eval.Documents = (*docs)(nil)
