package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/domain/domaintest"
)

func randObjects(seed uint64) (*domain.Profile, *domain.Session, *domain.Event) {
	// Extreme: times the fixed layout cannot write and values JSON cannot hold (NaN, ±Inf).
	g := domaintest.Gen{R: rand.New(rand.NewPCG(seed, 7)), Extreme: true}
	return g.Profile(), g.Session(), g.Event()
}

type docCase struct {
	kind *docKind
	obj  reflect.Value // pointer to the struct
}

func docCases(p *domain.Profile, s *domain.Session, ev *domain.Event) []docCase {
	return []docCase{{profileKind(), reflect.ValueOf(p)}, {sessionKind(), reflect.ValueOf(s)}, {eventKind(), reflect.ValueOf(ev)}}
}

func (c docCase) names() []string {
	var out []string
	for name := range c.kind.fields {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// jsonFieldView is a top-level field as the JSON round trip shows it: how documents
// loaded every field before the direct conversions.
func jsonFieldView(k *docKind, obj reflect.Value, top string) (any, bool) {
	f := k.fields[top]
	fv, err := obj.Elem().FieldByIndexErr(f.index)
	if err != nil || (f.omitEmpty && isEmptyValue(fv)) || (f.omitZero && fv.IsZero()) {
		return nil, false
	}
	b, err := json.Marshal(fv.Addr().Interface())
	if err != nil {
		return nil, false
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, false
	}
	return v, true
}

// jsonWriteBack stores the view v of field top into obj through the JSON round trip:
// the write-back before the direct conversions.
func jsonWriteBack(k *docKind, obj reflect.Value, top string, v any, present bool) error {
	f := k.fields[top]
	nv := reflect.New(f.typ)
	var err error
	if present && v != nil {
		var b []byte
		if b, err = json.Marshal(v); err == nil {
			err = json.Unmarshal(b, nv.Interface())
		}
	}
	if err != nil {
		err = fmt.Errorf("%s@%s: %w", k.scope, top, err)
	} else {
		obj.Elem().FieldByIndex(f.index).Set(nv.Elem())
	}
	if p, ok := obj.Interface().(*domain.Profile); ok {
		p.Normalize()
	}
	return err
}

// sameView is reflect.DeepEqual for JSON views that also tells -0 from 0 and NaN
// equals itself.
func sameView(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !sameView(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameView(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.TypeOf(a) == reflect.TypeOf(b) && reflect.DeepEqual(a, b)
}

// sameTyped compares typed values as reflect.DeepEqual does, except that floats are
// compared bit for bit (-0 is not 0, NaN is NaN).
func sameTyped(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Type() == reflect.TypeFor[*time.Location]() {
			return a.Pointer() == b.Pointer()
		}
		return sameTyped(a.Elem(), b.Elem())
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameTyped(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameTyped(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameTyped(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() || !sameTyped(a.MapIndex(k), bv) {
				return false
			}
		}
		return true
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	}
	panic("sameTyped: " + a.Kind().String())
}

// edgeObjects are hand-made awkward objects, next to the random ones.
func edgeObjects() [][3]any {
	now := domain.NewTime(time.Date(2026, 11, 27, 2, 41, 25, 830611000, time.UTC))
	empty := &domain.Profile{}
	nilMaps := domain.NewProfile("p", now)
	nilMaps.Traits, nilMaps.Stats.Counters, nilMaps.Consents, nilMaps.IDs = nil, nil, nil, nil
	odd := domain.NewProfile("p", now)
	odd.Traits = map[string]any{"int": 3, "i64": int64(1) << 60, "ss": []string{"a"}, "num": json.Number("12.5"), "typednil": map[string]any(nil),
		"nilslice": []any(nil), "t": now, "negzero": math.Copysign(0, -1), "nan": math.NaN(), "bad\xffkey": 1.0}
	odd.Data = map[string]any{"deep": map[string]any{"a": []any{map[string]any{"b": math.Copysign(0, -1)}}, "s": "bad \xff"}}
	odd.Interests = map[string]float64{"inf": math.Inf(1)}
	odd.Stats.Visits, odd.Stats.Views = 1<<62+1, math.MinInt64
	odd.Consents = map[string]domain.Consent{"c": {Revoke: &domain.Time{}}, "d": {Granted: true, Revoke: &now}}
	ev := &domain.Event{Name: "", Tags: domain.Tags{Values: []string{"bad \xff"}}, Device: domain.Device{Geo: &domain.Geo{}}, Hit: domain.Hit{Extra: map[string]any{"x": 1}}}
	ev.Properties = map[string]any{"big": 1e300, "tiny": math.SmallestNonzeroFloat64}
	s := &domain.Session{Metadata: domain.SessionMetadata{Time: domain.SessionTime{Duration: math.Copysign(0, -1)}}}
	return [][3]any{{empty, &domain.Session{}, &domain.Event{}}, {nilMaps, s, ev}, {odd, s, ev}}
}

func allObjects(n int) [][3]any {
	out := edgeObjects()
	for seed := range uint64(n) {
		p, s, ev := randObjects(seed)
		out = append(out, [3]any{p, s, ev})
	}
	return out
}

func casesOf(o [3]any) []docCase {
	return docCases(o[0].(*domain.Profile), o[1].(*domain.Session), o[2].(*domain.Event))
}

// Every top-level field of a document reads as its JSON round trip gives it (the same
// values and types, the sign of zero, absent when omitted or not encodable), and the
// document's values are copies: changing them does not change the typed object.
func TestFieldViewMatchesJSON(t *testing.T) {
	for i, o := range allObjects(300) {
		for _, c := range casesOf(o) {
			before, _ := json.Marshal(c.obj.Interface())
			d := newDocument(c.kind, c.obj.Interface())
			for _, name := range c.names() {
				want, wok := jsonFieldView(c.kind, c.obj, name)
				got, ok := d.field(name)[name]
				if ok != wok || !sameView(got, want) {
					t.Fatalf("object %d: %s@%s = %#v, %v; the JSON round trip gives %#v, %v", i, c.kind.scope, name, got, ok, want, wok)
				}
			}
			scribble(d.m)
			if after, _ := json.Marshal(c.obj.Interface()); string(after) != string(before) {
				t.Fatalf("object %d: changing the %s document changed the typed object", i, c.kind.scope)
			}
		}
	}
}

// Fields of ordinary objects convert directly, not through the JSON fallback.
func TestFieldViewIsDirectForOrdinaryObjects(t *testing.T) {
	p := domain.NewProfile("p1", domain.Now())
	p.Traits = map[string]any{"plan": "gold", "n": 2.0, "tags": []any{"a"}}
	p.Consents["email"] = domain.Consent{Granted: true, Revoke: new(domain.Now())}
	p.Metadata.Merges = []domain.MergeRecord{{ProfileID: "p0", Time: domain.Now()}}
	s := &domain.Session{ID: "s1", Device: domain.Device{Geo: &domain.Geo{Country: "FR"}}}
	ev := &domain.Event{ID: "e1", Properties: map[string]any{"x": map[string]any{"y": []any{1.0, nil, true}}}, Tags: domain.Tags{Values: []string{"a"}}}
	for _, c := range docCases(p, s, ev) {
		d := newDocument(c.kind, c.obj.Interface())
		d.load()
		if d.slow != 0 {
			t.Errorf("%s: fields %v took the JSON path", c.kind.scope, d.slow)
		}
	}
}

// scribble changes every object and array in v.
func scribble(v any) {
	switch x := v.(type) {
	case map[string]any:
		for _, it := range x {
			scribble(it)
		}
		if x != nil {
			x["scribbled"] = 1.0
		}
	case []any:
		for i, it := range x {
			scribble(it)
			x[i] = "scribbled"
		}
	}
}

// pool holds values a flow may write: well-formed, of the wrong type, awkward numbers
// and times, objects with unknown or differently cased keys.
func pool() []any {
	return []any{nil, true, false, "s", "", "2024-02-03T04:05:06.123456Z", "2024-02-03", "2024-02-03T04:05:06+02:00",
		"bad \xff", "not a time", 0.0, math.Copysign(0, -1), 1.5, 3.0, -7.0, 1e19, -9.3e18, 9.3e18, 1e21, -9.223372036854775808e18, 9.223372036854775808e18,
		math.NaN(), 4294967296.0, 1 << 53, 1<<53 + 2, -(1 << 53), 0.1,
		map[string]any{}, map[string]any{"granted": true, "revoke": "2024-01-01T00:00:00Z"}, map[string]any{"Granted": true},
		map[string]any{"granted": "yes"}, map[string]any{"id": "x"}, map[string]any{"unknown": 1.0}, map[string]any{"revoke": nil},
		[]any{}, []any{"a", "b"}, []any{1.0}, []any{nil}, []any{"a", "bad \xff"},
		map[string]any{"counters": map[string]any{"a": 1.0}}, map[string]any{"counters": map[string]any{"a": "x"}},
		map[string]any{"latitude": 1.5, "country": "fr"}, map[string]any{"geo": map[string]any{"city": 1.0}},
		map[string]any{"values": []any{"x"}, "count": 2.0}, map[string]any{"time": map[string]any{"insert": "2024-01-01"}},
		map[string]any{"x": map[string]any{"y": []any{1.0, map[string]any{}}}},
	}
}

var keys = []string{"visits", "Visits", "views", "counters", "geo", "granted", "revoke", "values", "count", "name",
	"latitude", "country", "time", "insert", "zz", "", "bad\xff", "rules", "id"}

func randPoolValue(r *rand.Rand) any { p := pool(); return p[r.IntN(len(p))] }

// randPath returns a path under top, through keys the view has and others.
func randPath(r *rand.Rand, top string, view any) string {
	path := top
	for range r.IntN(4) {
		var key string
		if m, ok := view.(map[string]any); ok && len(m) > 0 && r.IntN(3) > 0 {
			ks := make([]string, 0, len(m))
			for k := range m {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			key = ks[r.IntN(len(ks))]
			view = m[key]
		} else {
			key, view = keys[r.IntN(len(keys))], nil
		}
		if strings.Contains(key, ".") {
			break
		}
		path += "." + key
	}
	return path
}

// Writing a changed field back gives what the JSON round trip gave: the same typed
// object, the same error.
func TestWriteBackMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	objs, twins := allObjects(300), allObjects(300)
	for i := range objs {
		a, b := casesOf(objs[i]), casesOf(twins[i])
		for j := range a {
			for _, top := range a[j].names() {
				view, present := jsonFieldView(a[j].kind, a[j].obj, top)
				for range r.IntN(3) {
					if r.IntN(4) == 0 {
						view, present = cloneJSON(randPoolValue(r)), true
						continue
					}
					m, ok := view.(map[string]any)
					if !ok {
						m = map[string]any{}
						view, present = m, true
					}
					domain.SetPath(m, strings.TrimPrefix(randPath(r, "", m), "."), cloneJSON(randPoolValue(r)))
				}
				d := newDocument(a[j].kind, a[j].obj.Interface())
				bit := a[j].kind.fields[top].bit
				d.m, d.loaded, d.dirty = map[string]any{}, bit, bit
				if present {
					d.m[top] = cloneJSON(view)
				}
				err := d.writeBack()
				werr := jsonWriteBack(b[j].kind, b[j].obj, top, view, present)
				if fmt.Sprint(err) != fmt.Sprint(werr) {
					t.Fatalf("object %d: %s@%s = %#v: error %v; the JSON path: %v", i, a[j].kind.scope, top, view, err, werr)
				}
				if !sameTyped(a[j].obj, b[j].obj) {
					t.Fatalf("object %d: %s@%s = %#v written back\n got %#v\nwant %#v", i, a[j].kind.scope, top, view,
						a[j].obj.Elem().FieldByIndex(a[j].kind.fields[top].index), b[j].obj.Elem().FieldByIndex(b[j].kind.fields[top].index))
				}
			}
		}
	}
}

// Writes (and deletes) checked at their path (fitsAt) are accepted or refused as the check of the
// whole field by its JSON round trip did, with the same message, and leave the same
// document and, written back, the same typed object.
func TestSetMatchesWholeFieldCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	objs, twins := allObjects(300), allObjects(300)
	for i := range objs {
		a, b := casesOf(objs[i]), casesOf(twins[i])
		for j := range a {
			fast := newDocument(a[j].kind, a[j].obj.Interface())
			slow := newDocument(b[j].kind, b[j].obj.Interface())
			slow.slow = ^fieldSet(0)
			names := a[j].names()
			for range 30 {
				top := names[r.IntN(len(names))]
				if a[j].kind.readOnly[top] {
					continue
				}
				path := randPath(r, top, fast.field(top)[top])
				v := randPoolValue(r)
				var err, werr error
				if r.IntN(5) == 0 {
					v = "(deleted)"
					err, werr = fast.del(path), slow.del(path)
				} else {
					err, werr = fast.set(path, cloneJSON(v)), slow.set(path, cloneJSON(v))
				}
				if fmt.Sprint(err) != fmt.Sprint(werr) {
					t.Fatalf("object %d: set %s@%s = %#v: error %v; checking the whole field: %v", i, a[j].kind.scope, path, v, err, werr)
				}
				if got, want := fast.m[top], slow.m[top]; !sameView(got, want) {
					t.Fatalf("object %d: after set %s@%s = %#v\n got %#v\nwant %#v", i, a[j].kind.scope, path, v, got, want)
				}
			}
			err := fast.writeBack()
			var werrs []error
			for _, top := range slow.kind.names {
				if slow.dirty&slow.kind.fields[top].bit == 0 {
					continue
				}
				v, present := slow.m[top]
				werrs = append(werrs, jsonWriteBack(b[j].kind, b[j].obj, top, v, present))
			}
			werr := errors.Join(werrs...)
			if fmt.Sprint(err) != fmt.Sprint(werr) {
				t.Fatalf("object %d: %s written back: error %v; the JSON path: %v", i, a[j].kind.scope, err, werr)
			}
			if !sameTyped(a[j].obj, b[j].obj) {
				t.Fatalf("object %d: %s written back\n got %#v\nwant %#v", i, a[j].kind.scope, a[j].obj.Interface(), b[j].obj.Interface())
			}
		}
	}
}
