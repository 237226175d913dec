package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query"
)

// Action is a node type's runtime: its decoded config plus Run. One value serves every
// run of a compiled flow, concurrently, so Run must not change it.
type Action interface {
	// Run executes the node on one input and returns what it emits on which output
	// ports. An error stops this branch of the flow and is recorded. A node that
	// routes a failure to one of its ports (webhook's "error") returns both the
	// outputs and the error: the outputs travel on, the error is kept in the trace.
	Run(ctx context.Context, x *Exec, in Input) ([]Out, error)
}

// Provisioner is implemented by actions that prepare resources after decoding (open a
// database, check a referenced entity).
type Provisioner interface {
	Provision(ctx context.Context, p *Provision) error
}

// Validator is implemented by actions that check their decoded config beyond what the
// spec expresses. Errors should be made with FieldErrorf so they name the field.
type Validator interface {
	Validate() error
}

// CleanerUpper is implemented by actions holding resources to release.
type CleanerUpper interface {
	Cleanup() error
}

// Type is the type of a config field.
type Type string

// Field types.
const (
	TypeString    Type = "string"
	TypeInt       Type = "integer"
	TypeNumber    Type = "number"
	TypeBool      Type = "boolean"
	TypeDuration  Type = "duration"  // a Go duration string: "5s", "1m30s"
	TypeRef       Type = "reference" // scope@dotted.path
	TypeTemplate  Type = "template"  // text with {{scope@path}} placeholders
	TypeCondition Type = "condition" // a condition-language expression
	TypeValue     Type = "value"     // any JSON value; strings in it are templates
	TypeObject    Type = "object"    // any JSON object
	TypeList      Type = "list"      // a JSON array of Elem
	TypeMap       Type = "map"       // a JSON object from Key to Elem
)

// Field describes one config field of a node type.
type Field struct {
	Name        string
	Type        Type
	Elem        Type // TypeList and TypeMap: type of the items or values
	Key         Type // TypeMap: TypeString (default) or TypeRef
	Description string
	Default     any
	Example     any
	Required    bool
	Advanced    bool
	Enum        []string
	Min, Max    *float64 // numbers; durations in seconds; strings and lists in length
	// Writable makes references (of the field, its items or its keys) name a scope
	// nodes may write to: not flow.
	Writable bool
	Pattern  string // strings: a regular expression the whole value must match
}

// Field constructors, in the manner of Redpanda Connect's config specs.

// StringField is a plain string field.
func StringField(name, desc string) Field {
	return Field{Name: name, Type: TypeString, Description: desc}
}

// IntField is an integer field.
func IntField(name, desc string) Field { return Field{Name: name, Type: TypeInt, Description: desc} }

// NumberField is a number field.
func NumberField(name, desc string) Field {
	return Field{Name: name, Type: TypeNumber, Description: desc}
}

// BoolField is a boolean field.
func BoolField(name, desc string) Field { return Field{Name: name, Type: TypeBool, Description: desc} }

// DurationField is a duration field ("5s").
func DurationField(name, desc string) Field {
	return Field{Name: name, Type: TypeDuration, Description: desc}
}

// RefField is a scope@path reference field.
func RefField(name, desc string) Field { return Field{Name: name, Type: TypeRef, Description: desc} }

// TemplateField is a template field.
func TemplateField(name, desc string) Field {
	return Field{Name: name, Type: TypeTemplate, Description: desc}
}

// ConditionField is a condition field.
func ConditionField(name, desc string) Field {
	return Field{Name: name, Type: TypeCondition, Description: desc}
}

// ValueField is a field holding any JSON value, with templates in its strings.
func ValueField(name, desc string) Field {
	return Field{Name: name, Type: TypeValue, Description: desc}
}

// ObjectField is a free-form JSON object field.
func ObjectField(name, desc string) Field {
	return Field{Name: name, Type: TypeObject, Description: desc}
}

// ListField is an array of elem.
func ListField(name string, elem Type, desc string) Field {
	return Field{Name: name, Type: TypeList, Elem: elem, Description: desc}
}

// MapField is an object from key (TypeString or TypeRef) to elem.
func MapField(name string, key, elem Type, desc string) Field {
	return Field{Name: name, Type: TypeMap, Key: key, Elem: elem, Description: desc}
}

// Req marks the field required.
func (f Field) Req() Field { f.Required = true; return f }

// Def sets the default.
func (f Field) Def(v any) Field { f.Default = v; return f }

// Ex sets the example.
func (f Field) Ex(v any) Field { f.Example = v; return f }

// Adv marks the field advanced (folded away in the GUI).
func (f Field) Adv() Field { f.Advanced = true; return f }

// OneOf limits a string field (or list items) to values.
func (f Field) OneOf(values ...string) Field { f.Enum = values; return f }

// Range bounds a number (or a duration in seconds, or a string's or list's length).
func (f Field) Range(lo, hi float64) Field { f.Min, f.Max = &lo, &hi; return f }

// Write requires references to name a writable scope.
func (f Field) Write() Field { f.Writable = true; return f }

// Match requires strings to match the regular expression re.
func (f Field) Match(re string) Field { f.Pattern = re; return f }

// Port is an input or output port of a node type.
type Port struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Example is a documented config of a node type.
type Example struct {
	Title  string `json:"title"`
	Config string `json:"-"` // JSON object
}

// Spec describes a node type.
type Spec struct {
	ID          string // e.g. "webhook"; what a node's "type" names
	Name        string // human title
	Category    string
	Description string // one sentence
	Doc         string // longer documentation (Markdown)
	Fields      []Field
	// Inputs default to one "payload" port (none for start nodes); Outputs default to
	// one "payload" port. NoPorts declares none.
	Inputs   []Port
	Outputs  []Port
	Examples []Example
	// Start nodes take no input: a run begins at them with the initial payload.
	Start bool
	// New returns a zero action that the config is decoded into.
	New func() Action

	pkg      string
	fieldRes map[string]*regexp.Regexp
}

// NoPorts declares that a node type has no ports on one side.
var NoPorts = []Port{}

// DefaultPort is the port a node with nothing special to say has on each side.
const DefaultPort = "payload"

// Package is the import path of the package that registered the spec.
func (s *Spec) Package() string { return s.pkg }

// InputPorts returns the input ports.
func (s *Spec) InputPorts() []Port {
	switch {
	case s.Inputs != nil:
		return s.Inputs
	case s.Start:
		return NoPorts
	}
	return []Port{{Name: DefaultPort, Description: "The payload."}}
}

// OutputPorts returns the output ports.
func (s *Spec) OutputPorts() []Port {
	if s.Outputs != nil {
		return s.Outputs
	}
	return []Port{{Name: DefaultPort, Description: "The payload."}}
}

func hasPort(ports []Port, name string) bool {
	return slices.ContainsFunc(ports, func(p Port) bool { return p.Name == name })
}

func portNames(ports []Port) string {
	if len(ports) == 0 {
		return "none"
	}
	names := make([]string, len(ports))
	for i, p := range ports {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// FieldError is a config error that names its field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// FieldErrorf returns a *FieldError.
func FieldErrorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

var idRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)

// check verifies the spec itself (at registration).
func (s *Spec) check() error {
	if !idRE.MatchString(s.ID) {
		return fmt.Errorf("node id %q must be lower-case letters, digits and dashes", s.ID)
	}
	if s.New == nil {
		return fmt.Errorf("node %q: New is nil", s.ID)
	}
	if rv := reflect.ValueOf(s.New()); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("node %q: New must return a non-nil pointer to decode the config into", s.ID)
	}
	if strings.TrimSpace(s.Description) == "" || s.Category == "" || s.Name == "" {
		return fmt.Errorf("node %q: name, category and description are required", s.ID)
	}
	s.fieldRes = map[string]*regexp.Regexp{}
	seen := map[string]bool{}
	for _, f := range s.Fields {
		if f.Name == "" || seen[f.Name] {
			return fmt.Errorf("node %q: field name %q empty or repeated", s.ID, f.Name)
		}
		seen[f.Name] = true
		if f.Pattern != "" {
			re, err := regexp.Compile("^(?:" + f.Pattern + ")$")
			if err != nil {
				return fmt.Errorf("node %q: field %q: pattern: %w", s.ID, f.Name, err)
			}
			s.fieldRes[f.Name] = re
		}
		if f.Default != nil {
			if _, err := s.checkValue(f, f.Name, f.Default); err != nil {
				return fmt.Errorf("node %q: default of %w", s.ID, err)
			}
		}
		if f.Example != nil {
			if _, err := s.checkValue(f, f.Name, f.Example); err != nil {
				return fmt.Errorf("node %q: example of %w", s.ID, err)
			}
		}
	}
	for _, ports := range [][]Port{s.InputPorts(), s.OutputPorts()} {
		seen := map[string]bool{}
		for _, p := range ports {
			if p.Name == "" || seen[p.Name] {
				return fmt.Errorf("node %q: port %q empty or repeated", s.ID, p.Name)
			}
			seen[p.Name] = true
		}
	}
	for i, ex := range s.Examples {
		var m map[string]any
		if err := json.Unmarshal([]byte(ex.Config), &m); err != nil {
			return fmt.Errorf("node %q: example %d is not a JSON object: %w", s.ID, i, err)
		}
	}
	return nil
}

// field returns the field named name.
func (s *Spec) field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// normalize checks a raw config against the spec: no unknown fields, required fields
// present, types, enums, ranges and patterns; it fills defaults and returns the config
// to decode.
func (s *Spec) normalize(raw map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(s.Fields))
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := s.field(k); !ok {
			return nil, FieldErrorf(k, "unknown field (node %q has %s)", s.ID, fieldNames(s.Fields))
		}
	}
	for _, f := range s.Fields {
		v, ok := raw[f.Name]
		if !ok || v == nil {
			if f.Required {
				return nil, FieldErrorf(f.Name, "is required")
			}
			if f.Default != nil {
				out[f.Name] = cloneJSON(toJSON(f.Default))
			}
			continue
		}
		nv, err := s.checkValue(f, f.Name, v)
		if err != nil {
			return nil, err
		}
		out[f.Name] = nv
	}
	return out, nil
}

func fieldNames(fs []Field) string {
	if len(fs) == 0 {
		return "no config fields"
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return "fields " + strings.Join(names, ", ")
}

// checkValue checks one value of field f at path; it returns the value in JSON form.
func (s *Spec) checkValue(f Field, path string, v any) (any, error) {
	v = toJSON(v)
	switch f.Type {
	case TypeString, TypeDuration, TypeRef, TypeTemplate, TypeCondition:
		str, ok := v.(string)
		if !ok {
			return nil, FieldErrorf(path, "must be a string (%s)", f.Type)
		}
		if err := s.checkString(f, path, str); err != nil {
			return nil, err
		}
	case TypeInt, TypeNumber:
		n, ok := v.(float64)
		if !ok {
			return nil, FieldErrorf(path, "must be a number")
		}
		if f.Type == TypeInt && n != math.Trunc(n) {
			return nil, FieldErrorf(path, "must be an integer")
		}
		if (f.Min != nil && n < *f.Min) || (f.Max != nil && n > *f.Max) {
			return nil, FieldErrorf(path, "must be between %s and %s", fmtNum(f.Min), fmtNum(f.Max))
		}
	case TypeBool:
		if _, ok := v.(bool); !ok {
			return nil, FieldErrorf(path, "must be true or false")
		}
	case TypeValue:
		if err := checkTemplates(path, v); err != nil {
			return nil, err
		}
	case TypeObject:
		if _, ok := v.(map[string]any); !ok {
			return nil, FieldErrorf(path, "must be an object")
		}
	case TypeList:
		items, ok := v.([]any)
		if !ok {
			return nil, FieldErrorf(path, "must be a list")
		}
		if (f.Min != nil && float64(len(items)) < *f.Min) || (f.Max != nil && float64(len(items)) > *f.Max) {
			return nil, FieldErrorf(path, "must have between %s and %s items", fmtNum(f.Min), fmtNum(f.Max))
		}
		elem := Field{Name: f.Name, Type: f.Elem, Enum: f.Enum, Writable: f.Writable, Pattern: f.Pattern}
		for i, it := range items {
			if _, err := s.checkValue(elem, fmt.Sprintf("%s[%d]", path, i), it); err != nil {
				return nil, err
			}
		}
	case TypeMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, FieldErrorf(path, "must be an object")
		}
		if f.Max != nil && float64(len(m)) > *f.Max {
			return nil, FieldErrorf(path, "must have at most %s entries", fmtNum(f.Max))
		}
		elem := Field{Name: f.Name, Type: f.Elem, Enum: f.Enum} // Writable applies to the keys
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kp := fmt.Sprintf("%s[%q]", path, k)
			if f.Key == TypeRef {
				r, err := ParseRef(k)
				if err != nil {
					return nil, FieldErrorf(kp, "key: %v", err)
				}
				if f.Writable && !r.Writable() {
					return nil, FieldErrorf(kp, "key: %s cannot be written", r.Scope)
				}
			} else if k == "" {
				return nil, FieldErrorf(kp, "key must not be empty")
			}
			if _, err := s.checkValue(elem, kp, m[k]); err != nil {
				return nil, err
			}
		}
	default:
		return nil, FieldErrorf(path, "has unknown type %q", f.Type)
	}
	return v, nil
}

func (s *Spec) checkString(f Field, path, str string) error {
	if len(f.Enum) > 0 && !slices.Contains(f.Enum, str) {
		return FieldErrorf(path, "must be one of %s", strings.Join(f.Enum, ", "))
	}
	if re := s.fieldRes[f.Name]; re != nil && !re.MatchString(str) {
		return FieldErrorf(path, "must match %s", f.Pattern)
	}
	switch f.Type {
	case TypeString:
		if (f.Min != nil && float64(len(str)) < *f.Min) || (f.Max != nil && float64(len(str)) > *f.Max) {
			return FieldErrorf(path, "must be %s to %s characters long", fmtNum(f.Min), fmtNum(f.Max))
		}
	case TypeDuration:
		d, err := time.ParseDuration(str)
		if err != nil {
			return FieldErrorf(path, "must be a duration such as 5s or 1m30s")
		}
		if (f.Min != nil && d.Seconds() < *f.Min) || (f.Max != nil && d.Seconds() > *f.Max) {
			return FieldErrorf(path, "must be between %ss and %ss", fmtNum(f.Min), fmtNum(f.Max))
		}
	case TypeRef:
		r, err := ParseRef(str)
		if err != nil {
			return FieldErrorf(path, "%v", err)
		}
		if f.Writable && !r.Writable() {
			return FieldErrorf(path, "%s cannot be written", r.Scope)
		}
	case TypeTemplate:
		if _, err := ParseTemplate(str); err != nil {
			return FieldErrorf(path, "%v", err)
		}
	case TypeCondition:
		if strings.TrimSpace(str) == "" {
			return FieldErrorf(path, "must not be empty")
		}
		if _, err := query.Parse(str); err != nil {
			return FieldErrorf(path, "%v", err)
		}
	}
	return nil
}

func checkTemplates(path string, v any) error {
	switch x := v.(type) {
	case string:
		if _, err := ParseTemplate(x); err != nil {
			return FieldErrorf(path, "%v", err)
		}
	case []any:
		for i, it := range x {
			if err := checkTemplates(fmt.Sprintf("%s[%d]", path, i), it); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, it := range x {
			if err := checkTemplates(path+"."+k, it); err != nil {
				return err
			}
		}
	}
	return nil
}

func fmtNum(p *float64) string {
	if p == nil {
		return "any"
	}
	return query.FormatNumber(*p)
}

// Decode turns a raw config into the node's action without compiling a flow. With a
// nil Provision, provisioning is skipped (checking documentation examples).
func (s *Spec) Decode(ctx context.Context, raw json.RawMessage, p *Provision) (Action, error) {
	return s.decode(ctx, raw, p)
}

// decode turns a node's raw config into its action: spec check and defaults, strict
// decoding, Provision, Validate. On failure after decoding, Cleanup runs.
func (s *Spec) decode(ctx context.Context, raw json.RawMessage, p *Provision) (Action, error) {
	var m map[string]any
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, FieldErrorf("", "config must be a JSON object")
		}
	}
	norm, err := s.normalize(m)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(norm)
	if err != nil {
		return nil, FieldErrorf("", "encoding config: %v", err)
	}
	a := s.New()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(a); err != nil {
		return nil, decodeError(err)
	}
	fail := func(err error) (Action, error) {
		if c, ok := a.(CleanerUpper); ok {
			c.Cleanup()
		}
		return nil, err
	}
	if pr, ok := a.(Provisioner); ok && p != nil {
		if err := pr.Provision(ctx, p); err != nil {
			return fail(err)
		}
	}
	if v, ok := a.(Validator); ok {
		if err := v.Validate(); err != nil {
			return fail(err)
		}
	}
	return a, nil
}

func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return FieldErrorf(te.Field, "must be %s", te.Type.Kind())
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return FieldErrorf(strings.Trim(f, `"`), "unknown field")
	}
	return FieldErrorf("", "%s", msg)
}

// ConfigSchema returns the JSON Schema (2020-12) of the node type's config.
func (s *Spec) ConfigSchema() map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, f := range s.Fields {
		props[f.Name] = fieldSchema(f)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	return map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"title":                s.Name,
		"description":          s.Description,
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}
}

var refPattern = `^(?:profile|session|event|payload|flow|memory)@(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)?$`

func typeSchema(t Type) map[string]any {
	switch t {
	case TypeString:
		return map[string]any{"type": "string"}
	case TypeInt:
		return map[string]any{"type": "integer"}
	case TypeNumber:
		return map[string]any{"type": "number"}
	case TypeBool:
		return map[string]any{"type": "boolean"}
	case TypeDuration:
		return map[string]any{"type": "string", "format": "duration", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}
	case TypeRef:
		return map[string]any{"type": "string", "format": "reference", "pattern": refPattern}
	case TypeTemplate:
		return map[string]any{"type": "string", "format": "template"}
	case TypeCondition:
		return map[string]any{"type": "string", "format": "condition", "minLength": 1}
	case TypeObject:
		return map[string]any{"type": "object"}
	}
	return map[string]any{} // TypeValue: anything
}

func fieldSchema(f Field) map[string]any {
	var sc map[string]any
	switch f.Type {
	case TypeList:
		sc = map[string]any{"type": "array", "items": elemSchema(f)}
		if f.Min != nil {
			sc["minItems"] = *f.Min
		}
		if f.Max != nil {
			sc["maxItems"] = *f.Max
		}
	case TypeMap:
		sc = map[string]any{"type": "object", "additionalProperties": typeSchema(f.Elem)}
		if f.Key == TypeRef {
			sc["propertyNames"] = map[string]any{"pattern": refPattern}
		}
		if f.Max != nil {
			sc["maxProperties"] = *f.Max
		}
	default:
		sc = elemSchema(f)
		if f.Type == TypeString {
			if f.Min != nil {
				sc["minLength"] = *f.Min
			}
			if f.Max != nil {
				sc["maxLength"] = *f.Max
			}
		}
		if f.Type == TypeInt || f.Type == TypeNumber {
			if f.Min != nil {
				sc["minimum"] = *f.Min
			}
			if f.Max != nil {
				sc["maximum"] = *f.Max
			}
		}
	}
	sc["title"] = f.Name
	sc["description"] = f.Description
	if f.Default != nil {
		sc["default"] = toJSON(f.Default)
	}
	if f.Example != nil {
		sc["examples"] = []any{toJSON(f.Example)}
	}
	if f.Advanced {
		sc["x-advanced"] = true
	}
	if f.Writable {
		sc["x-writable"] = true
	}
	sc["x-type"] = string(f.Type)
	return sc
}

func elemSchema(f Field) map[string]any {
	t := f.Type
	if t == TypeList {
		t = f.Elem
	}
	sc := typeSchema(t)
	if len(f.Enum) > 0 {
		enum := make([]any, len(f.Enum))
		for i, e := range f.Enum {
			enum[i] = e
		}
		sc["enum"] = enum
	}
	if f.Pattern != "" && t == TypeString {
		sc["pattern"] = "^(?:" + f.Pattern + ")$"
	}
	return sc
}
