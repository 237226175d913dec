package workflow

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/eval"
)

// Scopes a reference can name.
const (
	ScopeProfile = "profile"
	ScopeSession = "session"
	ScopeEvent   = "event"
	ScopePayload = "payload"
	ScopeFlow    = "flow"
	ScopeMemory  = "memory"
)

// Ref is a reference to a value: scope@dotted.path. An empty path names the whole
// document of the scope.
type Ref struct {
	Scope string
	Path  string
}

// ParseRef parses scope@path.
func ParseRef(s string) (Ref, error) {
	scope, path, ok := strings.Cut(strings.TrimSpace(s), "@")
	if !ok {
		return Ref{}, fmt.Errorf("%q is not a reference: write scope@path, e.g. profile@traits.name", s)
	}
	scope = strings.ToLower(scope)
	if !query.IsScope(scope) {
		return Ref{}, fmt.Errorf("%q: unknown scope %q (profile, session, event, payload, flow or memory)", s, scope)
	}
	if path != "" {
		for _, seg := range strings.Split(path, ".") {
			if !query.ValidSegment(seg) {
				return Ref{}, fmt.Errorf("%q: path segment %q must be letters, digits, '_' or '-'", s, seg)
			}
		}
	}
	return Ref{Scope: scope, Path: path}, nil
}

// MustRef parses a reference known to be valid.
func MustRef(s string) Ref {
	r, err := ParseRef(s)
	if err != nil {
		panic(err)
	}
	return r
}

func (r Ref) String() string { return r.Scope + "@" + r.Path }

// IsZero reports whether r is unset.
func (r Ref) IsZero() bool { return r.Scope == "" }

// Writable reports whether nodes may write through r.
func (r Ref) Writable() bool { return r.Scope != ScopeFlow && r.Scope != "" }

// UnmarshalJSON implements json.Unmarshaler.
func (r *Ref) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a reference must be a string")
	}
	if s == "" {
		*r = Ref{}
		return nil
	}
	p, err := ParseRef(s)
	if err != nil {
		return err
	}
	*r = p
	return nil
}

// MarshalJSON implements json.Marshaler.
func (r Ref) MarshalJSON() ([]byte, error) {
	if r.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(r.String())
}

// Template is text with {{scope@path}} placeholders.
type Template struct {
	src   string
	parts []tplPart
}

type tplPart struct {
	lit string
	ref *Ref
}

// ParseTemplate parses a template.
func ParseTemplate(s string) (Template, error) {
	t := Template{src: s}
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, tplPart{lit: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, tplPart{lit: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return Template{}, fmt.Errorf("template: %q has no closing }}", rest[i:])
		}
		r, err := ParseRef(rest[i+2 : i+j])
		if err != nil {
			return Template{}, fmt.Errorf("template: %v", err)
		}
		t.parts = append(t.parts, tplPart{ref: &r})
		rest = rest[i+j+2:]
	}
}

// MustTemplate parses a template known to be valid.
func MustTemplate(s string) Template {
	t, err := ParseTemplate(s)
	if err != nil {
		panic(err)
	}
	return t
}

func (t Template) String() string { return t.src }

// IsZero reports whether the template is empty.
func (t Template) IsZero() bool { return t.src == "" }

// single returns the reference when the template is exactly one placeholder.
func (t Template) single() (Ref, bool) {
	if len(t.parts) == 1 && t.parts[0].ref != nil {
		return *t.parts[0].ref, true
	}
	return Ref{}, false
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Template) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a template must be a string")
	}
	p, err := ParseTemplate(s)
	if err != nil {
		return err
	}
	*t = p
	return nil
}

// MarshalJSON implements json.Marshaler.
func (t Template) MarshalJSON() ([]byte, error) { return json.Marshal(t.src) }

// Value is any JSON value whose strings are templates. A string that is exactly one
// placeholder ("{{event@properties}}") resolves to the referenced value itself,
// keeping its type; other strings are rendered to text.
type Value struct {
	raw  any
	tpls bool
	set  bool
}

// NewValue wraps a JSON-like value.
func NewValue(v any) (Value, error) {
	v = toJSON(v)
	if err := checkTemplates("value", v); err != nil {
		return Value{}, err
	}
	return Value{raw: v, tpls: hasTemplates(v), set: true}, nil
}

// IsSet reports whether the value was given.
func (v Value) IsSet() bool { return v.set }

// Raw returns the value as configured.
func (v Value) Raw() any { return v.raw }

// UnmarshalJSON implements json.Unmarshaler.
func (v *Value) UnmarshalJSON(b []byte) error {
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	nv, err := NewValue(x)
	if err != nil {
		return err
	}
	*v = nv
	return nil
}

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) { return json.Marshal(v.raw) }

func hasTemplates(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "{{")
	case []any:
		for _, it := range x {
			if hasTemplates(it) {
				return true
			}
		}
	case map[string]any:
		for _, it := range x {
			if hasTemplates(it) {
				return true
			}
		}
	}
	return false
}

// Condition is a compiled condition-language expression.
type Condition struct {
	src  string
	prog *eval.Program
}

// ParseCondition parses and compiles a condition.
func ParseCondition(s string) (Condition, error) {
	e, err := query.Parse(s)
	if err != nil {
		return Condition{}, err
	}
	p, err := eval.Compile(e)
	if err != nil {
		return Condition{}, err
	}
	return Condition{src: s, prog: p}, nil
}

func (c Condition) String() string { return c.src }

// IsZero reports whether the condition is unset.
func (c Condition) IsZero() bool { return c.prog == nil }

// UnmarshalJSON implements json.Unmarshaler.
func (c *Condition) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a condition must be a string")
	}
	p, err := ParseCondition(s)
	if err != nil {
		return err
	}
	*c = p
	return nil
}

// MarshalJSON implements json.Marshaler.
func (c Condition) MarshalJSON() ([]byte, error) { return json.Marshal(c.src) }

// toJSON turns Go values into the JSON-like form documents hold: map[string]any,
// []any, string, float64, bool, nil.
func toJSON(v any) any {
	switch x := v.(type) {
	case nil, string, float64, bool:
		return v
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, it := range x {
			out[k] = toJSON(it)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = toJSON(it)
		}
		return out
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float32:
		return float64(x)
	case uint64:
		return float64(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case []string:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = it
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(x))
		for k, it := range x {
			out[k] = it
		}
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return string(b)
	}
	return out
}

// ToJSON is toJSON for node packages.
func ToJSON(v any) any { return toJSON(v) }

// cloneJSON deep-copies a JSON-like value.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, it := range x {
			out[k] = cloneJSON(it)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, it := range x {
			out[i] = cloneJSON(it)
		}
		return out
	}
	return v
}

// CloneJSON deep-copies a JSON-like value.
func CloneJSON(v any) any { return cloneJSON(v) }

// Text renders a value as template text: strings as they are, numbers without
// trailing zeros, null and missing values as "", objects and arrays as JSON.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return query.FormatNumber(x)
	case bool:
		return strconv.FormatBool(x)
	}
	if rv := reflect.ValueOf(v); rv.Kind() >= reflect.Int && rv.Kind() <= reflect.Float64 {
		return fmt.Sprint(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func jsonUnmarshalString(s string, dst any) error { return json.Unmarshal([]byte(s), dst) }

// ToNumber reads a number from a JSON-like value: a number, or a string holding one.
func ToNumber(v any) (float64, bool) {
	switch x := toJSON(v).(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}
