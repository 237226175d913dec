package workflow

import (
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// Direct conversions between typed values and their JSON view (what a json.Marshal and
// json.Unmarshal into an any give: objects as map[string]any, arrays as []any, numbers
// as float64, domain.Time as its RFC 3339 text or nil), without the JSON text in
// between. A conversion reports false when it is not sure to give exactly what the
// round trip gives (invalid UTF-8, NaN, a number an integer cannot hold, an unknown
// or differently cased object key, a type with its own JSON methods…); the caller then
// takes the JSON round trip for that value, so the results never differ.

// codec converts values of one type. enc and dec are nil when the type is never
// converted directly.
type codec struct {
	// enc returns the JSON view of v.
	enc func(v reflect.Value) (any, bool)
	// dec stores the JSON view x into v, which is settable and holds the zero value,
	// as json.Unmarshal would.
	dec func(x any, v reflect.Value) bool
	// fields are a struct's fields by JSON name.
	fields map[string]*codecField
	// elem is a map's (or pointer's) element codec, for paths into it.
	elem *codec
	kind reflect.Kind
	typ  reflect.Type
}

type codecField struct {
	name                string
	index               int
	c                   *codec
	omitEmpty, omitZero bool
	isZero              func(reflect.Value) bool
}

var (
	codecsMu sync.RWMutex
	codecs   = map[reflect.Type]*codec{}

	timeType            = reflect.TypeFor[domain.Time]()
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	isZeroerType        = reflect.TypeFor[interface{ IsZero() bool }]()
	numberType          = reflect.TypeFor[json.Number]()
)

func codecFor(t reflect.Type) *codec {
	codecsMu.RLock()
	c := codecs[t]
	codecsMu.RUnlock()
	if c != nil {
		return c
	}
	codecsMu.Lock()
	defer codecsMu.Unlock()
	return buildCodec(t)
}

// buildCodec is called with codecsMu held. A type met again while it is being built
// (a recursive type) has no enc and dec yet, so values holding it take the JSON path.
func buildCodec(t reflect.Type) *codec {
	if c := codecs[t]; c != nil {
		return c
	}
	c := &codec{kind: t.Kind(), typ: t}
	codecs[t] = c
	if t == timeType {
		c.enc, c.dec = encTime, decTime
		return c
	}
	if t.Kind() != reflect.Pointer && hasJSONMethods(t) { // *T encodes as T, or null
		return c
	}
	switch t.Kind() {
	case reflect.Bool:
		c.enc = func(v reflect.Value) (any, bool) { return v.Bool(), true }
		c.dec = func(x any, v reflect.Value) bool {
			b, ok := x.(bool)
			if ok {
				v.SetBool(b)
			}
			return ok || x == nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.enc = func(v reflect.Value) (any, bool) { return float64(v.Int()), true }
		c.dec = func(x any, v reflect.Value) bool {
			if x == nil {
				return true
			}
			f, ok := x.(float64)
			// json.Marshal writes the shortest decimal that reads back as f, which is
			// f's exact integer value only up to 2⁵³ (-2⁶³ is written 9223372036854776000).
			if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 || v.OverflowInt(int64(f)) {
				return false
			}
			v.SetInt(int64(f))
			return true
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		c.enc = func(v reflect.Value) (any, bool) { return float64(v.Uint()), true }
		c.dec = func(x any, v reflect.Value) bool {
			if x == nil {
				return true
			}
			f, ok := x.(float64)
			if !ok || f != math.Trunc(f) || f < 0 || (f == 0 && math.Signbit(f)) || f > 1<<53 || v.OverflowUint(uint64(f)) {
				return false
			}
			v.SetUint(uint64(f))
			return true
		}
	case reflect.Float64:
		c.enc = func(v reflect.Value) (any, bool) {
			f := v.Float()
			return f, finite(f)
		}
		c.dec = func(x any, v reflect.Value) bool {
			if x == nil {
				return true
			}
			f, ok := x.(float64)
			if !ok || !finite(f) {
				return false
			}
			v.SetFloat(f)
			return true
		}
	case reflect.String:
		if t == numberType {
			return c
		}
		c.enc = func(v reflect.Value) (any, bool) {
			s := v.String()
			return s, utf8.ValidString(s)
		}
		c.dec = func(x any, v reflect.Value) bool {
			if x == nil {
				return true
			}
			s, ok := x.(string)
			if !ok || !utf8.ValidString(s) {
				return false
			}
			v.SetString(s)
			return true
		}
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return c
		}
		c.enc = func(v reflect.Value) (any, bool) {
			if v.IsNil() {
				return nil, true
			}
			return viewOf(v.Elem().Interface())
		}
		c.dec = func(x any, v reflect.Value) bool {
			y, ok := viewOf(x)
			if ok && y != nil {
				v.Set(reflect.ValueOf(y))
			}
			return ok
		}
	case reflect.Pointer:
		e := buildCodec(t.Elem())
		if e.enc == nil || e.dec == nil {
			return c
		}
		c.elem = e
		c.enc = func(v reflect.Value) (any, bool) {
			if v.IsNil() {
				return nil, true
			}
			return e.enc(v.Elem())
		}
		c.dec = func(x any, v reflect.Value) bool {
			if x == nil {
				return true
			}
			p := reflect.New(t.Elem())
			if !e.dec(x, p.Elem()) {
				return false
			}
			v.Set(p)
			return true
		}
	case reflect.Slice:
		e := buildCodec(t.Elem())
		if t.Elem().Kind() == reflect.Uint8 || e.enc == nil || e.dec == nil {
			return c // []byte is base64 text
		}
		if t.Elem().Kind() == reflect.String && t.Elem() != numberType {
			c.enc = encStrings
		} else {
			c.enc = func(v reflect.Value) (any, bool) {
				if v.IsNil() {
					return nil, true
				}
				out := make([]any, v.Len())
				for i := range out {
					var ok bool
					if out[i], ok = e.enc(v.Index(i)); !ok {
						return nil, false
					}
				}
				return out, true
			}
		}
		c.dec = func(x any, v reflect.Value) bool {
			if x == nil {
				return true
			}
			a, ok := x.([]any)
			if !ok {
				return false
			}
			s := reflect.MakeSlice(t, len(a), len(a))
			for i, it := range a {
				if !e.dec(it, s.Index(i)) {
					return false
				}
			}
			v.Set(s)
			return true
		}
	case reflect.Map:
		if t.Key().Kind() != reflect.String || reflect.PointerTo(t.Key()).Implements(textUnmarshalerType) {
			return c
		}
		e := buildCodec(t.Elem())
		if e.enc == nil || e.dec == nil {
			return c
		}
		c.elem = e
		c.enc = encMapOf(t, e)
		kt, plainKey := t.Key(), t.Key() == reflect.TypeFor[string]()
		c.dec = func(x any, v reflect.Value) bool {
			if x == nil {
				return true
			}
			m, ok := x.(map[string]any)
			if !ok {
				return false
			}
			if t == reflect.TypeFor[map[string]any]() {
				y, ok := viewOf(m) // a copy: the document stays the flow's
				if ok && y != nil {
					v.Set(reflect.ValueOf(y))
				}
				return ok
			}
			if t == reflect.TypeFor[map[string]float64]() {
				out := make(map[string]float64, len(m))
				for k, it := range m {
					f, ok := it.(float64)
					if !ok && it != nil || !utf8.ValidString(k) || !finite(f) {
						return false
					}
					out[k] = f
				}
				v.Set(reflect.ValueOf(out))
				return true
			}
			out := reflect.MakeMapWithSize(t, len(m))
			ev := reflect.New(t.Elem()).Elem()
			zero := reflect.Zero(t.Elem())
			for k, it := range m {
				if !utf8.ValidString(k) {
					return false
				}
				ev.Set(zero)
				if !e.dec(it, ev) {
					return false
				}
				kv := reflect.ValueOf(k)
				if !plainKey {
					kv = kv.Convert(kt)
				}
				out.SetMapIndex(kv, ev)
			}
			v.Set(out)
			return true
		}
	case reflect.Struct:
		buildStruct(c, t)
	}
	return c
}

// hasJSONMethods reports whether encoding/json would call a method of t (or *t)
// rather than encode it field by field.
func hasJSONMethods(t reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return false
	}
	pt := reflect.PointerTo(t)
	return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		pt.Implements(jsonMarshalerType) || pt.Implements(textMarshalerType) ||
		pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

func buildStruct(c *codec, t reflect.Type) {
	var fields []*codecField
	byName := map[string]*codecField{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return // embedded fields: their promotion rules are encoding/json's business
		}
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if hasOpt(opts, "string") || !plainName(name) {
			return
		}
		if name == "" {
			name = sf.Name
		}
		fc := buildCodec(sf.Type)
		if fc.enc == nil || fc.dec == nil {
			return
		}
		f := &codecField{name: name, index: i, c: fc, omitEmpty: hasOpt(opts, "omitempty"), omitZero: hasOpt(opts, "omitzero")}
		if f.omitZero {
			if f.isZero = zeroFunc(sf.Type); f.isZero == nil {
				return
			}
		}
		if byName[name] != nil {
			return // a name conflict: encoding/json drops both
		}
		byName[name] = f
		fields = append(fields, f)
	}
	c.fields = byName
	c.enc = func(v reflect.Value) (any, bool) {
		out := make(map[string]any, len(fields))
		for _, f := range fields {
			fv := v.Field(f.index)
			if f.omitEmpty && isEmptyValue(fv) || f.omitZero && f.isZero(fv) {
				continue
			}
			x, ok := f.c.enc(fv)
			if !ok {
				return nil, false
			}
			out[f.name] = x
		}
		return out, true
	}
	c.dec = func(x any, v reflect.Value) bool {
		if x == nil {
			return true
		}
		m, ok := x.(map[string]any)
		if !ok {
			return false
		}
		for k, it := range m {
			f := byName[k]
			if f == nil || !f.c.dec(it, v.Field(f.index)) {
				return false // an unknown key may match a field case-insensitively
			}
		}
		return true
	}
}

// zeroFunc is encoding/json's omitzero test for type t, nil when this package does not
// know it for sure.
func zeroFunc(t reflect.Type) func(reflect.Value) bool {
	switch {
	case t.Kind() == reflect.Interface:
		return nil
	case t.Implements(isZeroerType):
		if t.Kind() == reflect.Pointer {
			return func(v reflect.Value) bool { return v.IsNil() || v.Interface().(interface{ IsZero() bool }).IsZero() }
		}
		return func(v reflect.Value) bool { return v.Interface().(interface{ IsZero() bool }).IsZero() }
	case reflect.PointerTo(t).Implements(isZeroerType):
		return nil
	}
	return reflect.Value.IsZero
}

func plainName(name string) bool {
	for _, r := range name {
		if !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func encTime(v reflect.Value) (any, bool) {
	var t domain.Time
	if v.CanAddr() {
		t = *v.Addr().Interface().(*domain.Time)
	} else {
		t = v.Interface().(domain.Time)
	}
	if t.IsZero() {
		return nil, true
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return nil, false // its text may not parse back: the JSON path decides
	}
	return t.String(), true
}

func decTime(x any, v reflect.Value) bool {
	if x == nil {
		return true
	}
	s, ok := x.(string)
	if !ok || !utf8.ValidString(s) {
		return false
	}
	t, err := domain.ParseTime(s)
	if err != nil {
		return false
	}
	v.Set(reflect.ValueOf(t))
	return true
}

func encStrings(v reflect.Value) (any, bool) {
	if v.IsNil() {
		return nil, true
	}
	n := v.Len()
	out := make([]any, n)
	if ss, ok := v.Interface().([]string); ok {
		for i, s := range ss {
			if !utf8.ValidString(s) {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	for i := range n {
		s := v.Index(i).String()
		if !utf8.ValidString(s) {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

func encMapOf(t reflect.Type, e *codec) func(reflect.Value) (any, bool) {
	switch t {
	case reflect.TypeFor[map[string]float64]():
		return func(v reflect.Value) (any, bool) {
			m := v.Interface().(map[string]float64)
			if m == nil {
				return nil, true
			}
			out := make(map[string]any, len(m))
			for k, f := range m {
				if !utf8.ValidString(k) || !finite(f) {
					return nil, false
				}
				out[k] = f
			}
			return out, true
		}
	case reflect.TypeFor[map[string]any]():
		return func(v reflect.Value) (any, bool) {
			m := v.Interface().(map[string]any)
			if m == nil {
				return nil, true
			}
			return viewOf(m)
		}
	}
	return func(v reflect.Value) (any, bool) {
		if v.IsNil() {
			return nil, true
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			k := it.Key().String()
			if !utf8.ValidString(k) {
				return nil, false
			}
			x, ok := e.enc(it.Value())
			if !ok {
				return nil, false
			}
			out[k] = x
		}
		return out, true
	}
}

// viewOf returns a deep copy of x as its JSON round trip gives it.
func viewOf(x any) (any, bool) {
	switch v := x.(type) {
	case nil:
		return nil, true
	case string:
		return v, utf8.ValidString(v)
	case float64:
		return v, finite(v)
	case bool:
		return v, true
	case map[string]any:
		if v == nil {
			return nil, true
		}
		out := make(map[string]any, len(v))
		for k, it := range v {
			if !utf8.ValidString(k) {
				return nil, false
			}
			c, ok := viewOf(it)
			if !ok {
				return nil, false
			}
			out[k] = c
		}
		return out, true
	case []any:
		if v == nil {
			return nil, true
		}
		out := make([]any, len(v))
		for i, it := range v {
			c, ok := viewOf(it)
			if !ok {
				return nil, false
			}
			out[i] = c
		}
		return out, true
	}
	rv := reflect.ValueOf(x)
	c := codecFor(rv.Type())
	if c.enc == nil {
		return nil, false
	}
	return c.enc(rv)
}

// viewJSON is the JSON round trip of v (false when v does not marshal).
func viewJSON(v any) (any, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var x any
	if json.Unmarshal(b, &x) != nil {
		return nil, false
	}
	return x, true
}
