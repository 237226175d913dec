package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// docKind describes how a typed object (profile, session, event) is seen as a
// document: its top-level JSON fields and which of them nodes may not change.
type docKind struct {
	scope    string
	typ      reflect.Type // the struct type
	fields   map[string]docField
	names    []string // of fields, sorted; a field's bit is 1<<its index here
	readOnly map[string]bool
}

// fieldSet is a set of a docKind's top-level fields.
type fieldSet uint64

type docField struct {
	bit      fieldSet
	index    []int
	typ      reflect.Type
	freeForm bool // map[string]any: any object goes
	// As encoding/json omits the field from its object: omitempty, omitzero.
	omitEmpty, omitZero bool
}

var (
	kindsMu sync.Mutex
	kinds   = map[reflect.Type]*docKind{}
)

func kindOf(scope string, typ reflect.Type, readOnly ...string) *docKind {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if k, ok := kinds[typ]; ok {
		return k
	}
	k := &docKind{scope: scope, typ: typ, fields: map[string]docField{}, readOnly: map[string]bool{}}
	for _, f := range reflect.VisibleFields(typ) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		k.fields[name] = docField{index: f.Index, typ: f.Type,
			freeForm:  f.Type.Kind() == reflect.Map && f.Type.Key().Kind() == reflect.String && f.Type.Elem().Kind() == reflect.Interface,
			omitEmpty: hasOpt(opts, "omitempty"), omitZero: hasOpt(opts, "omitzero")}
	}
	for name := range k.fields {
		k.names = append(k.names, name)
	}
	sort.Strings(k.names)
	if len(k.names) > 64 {
		panic("workflow: more than 64 fields in " + typ.String())
	}
	for i, name := range k.names {
		f := k.fields[name]
		f.bit = 1 << i
		k.fields[name] = f
	}
	for _, r := range readOnly {
		k.readOnly[r] = true
	}
	kinds[typ] = k
	return k
}

var (
	profileKind = func() *docKind {
		return kindOf(ScopeProfile, reflect.TypeFor[domain.Profile](), "id", "ids", "metadata")
	}
	sessionKind = func() *docKind {
		return kindOf(ScopeSession, reflect.TypeFor[domain.Session](), "id", "profile", "metadata")
	}
	eventKind = func() *docKind {
		return kindOf(ScopeEvent, reflect.TypeFor[domain.Event](), "id", "type", "metadata", "source", "session", "profile")
	}
)

func hasOpt(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

// document is a typed object seen as a JSON-like map, materialised one top-level field
// at a time, on first use: a flow that reads event@properties and writes
// profile@stats.counters converts those two fields, not the whole event and profile
// (whose JSON round trip cost 17% of the server's CPU with the bench's fixtures).
type document struct {
	kind   *docKind
	typed  reflect.Value // pointer to the struct; invalid when there is none
	m      map[string]any
	loaded fieldSet // top-level fields in m (or absent from the JSON object) already
	full   bool     // every field is loaded
	dirty  fieldSet // top-level fields changed since the last write-back
	// slow are the fields loaded through the JSON round trip: a write to them checks
	// the whole field as it did, not only the written value.
	slow fieldSet
}

func newDocument(kind *docKind, typed any) *document {
	d := &document{kind: kind}
	if rv := reflect.ValueOf(typed); rv.IsValid() && !rv.IsNil() {
		d.typed = rv
	}
	return d
}

// load materialises the whole map.
func (d *document) load() map[string]any {
	if !d.full {
		for name := range d.kind.fields {
			d.field(name)
		}
		d.full = true
	}
	if d.m == nil {
		d.m = map[string]any{}
	}
	return d.m
}

// field materialises the top-level field top (when the object has it) into the map, as
// encoding/json would show it in the whole object, and returns the map.
func (d *document) field(top string) map[string]any {
	if d.m == nil {
		d.m = map[string]any{}
	}
	if d.full {
		return d.m
	}
	f, ok := d.kind.fields[top]
	if !ok || d.loaded&f.bit != 0 {
		return d.m
	}
	d.loaded |= f.bit
	if !d.typed.IsValid() {
		return d.m
	}
	fv, err := d.typed.Elem().FieldByIndexErr(f.index)
	if err != nil || (f.omitEmpty && isEmptyValue(fv)) || (f.omitZero && fv.IsZero()) {
		return d.m // behind a nil embedded pointer, or omitted
	}
	if c := codecFor(f.typ); c.enc != nil {
		if v, ok := c.enc(fv); ok {
			d.m[top] = v
			return d.m
		}
	}
	// Not converted directly: the JSON round trip, as the whole object's.
	d.slow |= f.bit
	if fv.CanAddr() {
		fv = fv.Addr() // so that methods on pointers encode it, as in the whole object
	}
	if v, ok := viewJSON(fv.Interface()); ok {
		d.m[top] = v
	}
	return d.m
}

// isEmptyValue is encoding/json's rule for omitempty.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

func (d *document) get(path string) (any, bool) {
	if path == "" {
		return d.load(), true
	}
	top, _, _ := strings.Cut(path, ".")
	return domain.GetPath(d.field(top), path)
}

// errReadOnly is wrapped by writes to protected fields.
var errReadOnly = errors.New("is read-only")

func (d *document) check(path string) (string, docField, error) {
	if path == "" {
		return "", docField{}, fmt.Errorf("%s@: the whole %s cannot be replaced or deleted", d.kind.scope, d.kind.scope)
	}
	if !d.typed.IsValid() {
		return "", docField{}, fmt.Errorf("%s@%s: there is no %s in this run", d.kind.scope, path, d.kind.scope)
	}
	top, _, _ := strings.Cut(path, ".")
	f, ok := d.kind.fields[top]
	if !ok {
		return "", docField{}, fmt.Errorf("%s@%s: %q is not a field of the %s", d.kind.scope, path, top, d.kind.scope)
	}
	if d.kind.readOnly[top] {
		return "", docField{}, fmt.Errorf("%s@%s: %w", d.kind.scope, top, errReadOnly)
	}
	return top, f, nil
}

// set stores v at path, after checking that the typed object can hold it.
func (d *document) set(path string, v any) error {
	top, f, err := d.check(path)
	if err != nil {
		return err
	}
	m := d.field(top)
	v = toJSON(v)
	if f.freeForm {
		if path == top {
			if _, ok := v.(map[string]any); !ok && v != nil {
				return fmt.Errorf("%s@%s must be an object", d.kind.scope, top)
			}
		}
		domain.SetPath(m, path, v)
		d.dirty |= f.bit
		return nil
	}
	if d.fitsAt(top, f, path, m, v) {
		domain.SetPath(m, path, v)
		d.dirty |= f.bit
		return nil
	}
	old, had := m[top]
	saved := cloneJSON(old)
	domain.SetPath(m, path, v)
	if err := fits(m[top], f.typ); err != nil {
		if had {
			m[top] = saved
		} else {
			delete(m, top)
		}
		var fe *fitError
		if errors.As(err, &fe) && fe.field != "" && path != top+"."+fe.field {
			return fmt.Errorf("%s@%s: %s %s", d.kind.scope, path, fe.field, fe.msg)
		}
		return fmt.Errorf("%s@%s: %v", d.kind.scope, path, err)
	}
	d.dirty |= f.bit
	return nil
}

func (d *document) del(path string) error {
	top, f, err := d.check(path)
	if err != nil {
		return err
	}
	domain.DeletePath(d.field(top), path)
	d.dirty |= f.bit
	return nil
}

// fitsAt reports whether storing v at path keeps the field top of the map m decodable
// into its type, checking v against the type at path: the rest of the field fits
// already, as every write to it was checked. False when it cannot tell: then the whole
// field is checked by its JSON round trip, which also words the error.
func (d *document) fitsAt(top string, f docField, path string, m map[string]any, v any) bool {
	if d.slow&f.bit != 0 {
		return false
	}
	c := codecFor(f.typ)
	for p := path[len(top):]; p != ""; {
		key, next, more := strings.Cut(p[1:], ".")
		p = ""
		if more {
			p = "." + next
		}
		for c.kind == reflect.Pointer && c.elem != nil {
			c = c.elem // SetPath makes an object where there is none
		}
		switch c.kind {
		case reflect.Struct:
			fc := c.fields[key]
			if fc == nil {
				return false // unknown, or another case of a field's name
			}
			c = fc.c
		case reflect.Map:
			if !utf8.ValidString(key) {
				return false
			}
			c = c.elem
		case reflect.Interface:
			_, ok := viewOf(v) // objects made on the way and v are free-form
			return ok && c.dec != nil
		default:
			return false
		}
		if c == nil {
			return false
		}
	}
	return c.dec != nil && c.dec(v, reflect.New(c.typ).Elem())
}

type fitError struct{ field, msg string }

func (e *fitError) Error() string { return e.msg }

// fits reports whether the JSON-like v decodes into a value of type t.
func fits(v any, t reflect.Type) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, reflect.New(t).Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &fitError{field: te.Field, msg: fmt.Sprintf("must be %s, not %s", kindName(te.Type), te.Value)}
		}
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int64, reflect.Int32:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// writeBack decodes the changed top-level fields into the typed object.
func (d *document) writeBack() error {
	if d.dirty == 0 || !d.typed.IsValid() {
		return nil
	}
	var errs []error
	obj := d.typed.Elem()
	for _, top := range d.kind.names { // in order of names: errors read the same each time
		f := d.kind.fields[top]
		if d.dirty&f.bit == 0 {
			continue
		}
		fv := obj.FieldByIndex(f.index)
		nv := reflect.New(f.typ)
		if v, ok := d.m[top]; ok && v != nil {
			if c := codecFor(f.typ); c.dec == nil || !c.dec(v, nv.Elem()) {
				// Not converted directly: the JSON round trip, on a fresh value.
				nv = reflect.New(f.typ)
				b, err := json.Marshal(v)
				if err == nil {
					err = json.Unmarshal(b, nv.Interface())
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("%s@%s: %w", d.kind.scope, top, err))
					continue
				}
			}
		}
		fv.Set(nv.Elem())
	}
	d.dirty = 0
	if p, ok := d.typed.Interface().(*domain.Profile); ok {
		p.Normalize()
	}
	return errors.Join(errs...)
}

// Docs are the documents of one request (profile and session) and one event.
type Docs struct {
	profile *document
	session *document
	event   *document
}

// NewDocs returns documents over the typed objects; any may be nil.
func NewDocs(p *domain.Profile, s *domain.Session, ev *domain.Event) *Docs {
	return &Docs{profile: newDocument(profileKind(), p), session: newDocument(sessionKind(), s), event: newDocument(eventKind(), ev)}
}

// forEvent returns Docs sharing profile and session with d, over another event.
func (d *Docs) forEvent(ev *domain.Event) *Docs {
	return &Docs{profile: d.profile, session: d.session, event: newDocument(eventKind(), ev)}
}

func (d *Docs) doc(scope string) *document {
	switch scope {
	case ScopeProfile:
		return d.profile
	case ScopeSession:
		return d.session
	case ScopeEvent:
		return d.event
	}
	return nil
}

// WriteBack decodes every change into the typed objects.
func (d *Docs) WriteBack() error {
	return errors.Join(d.profile.writeBack(), d.session.writeBack(), d.event.writeBack())
}

// Change is one difference between two documents.
type Change struct {
	Path   string `json:"path"`
	Op     string `json:"op"` // add, remove, change
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
}

// Diff lists the leaf-level differences from before to after, by path.
func Diff(before, after map[string]any) []Change {
	out := []Change{}
	diffInto(&out, "", before, after)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func diffInto(out *[]Change, prefix string, before, after map[string]any) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	for k, b := range before {
		a, ok := after[k]
		if !ok {
			*out = append(*out, Change{Path: join(k), Op: "remove", Before: b})
			continue
		}
		bm, bok := b.(map[string]any)
		am, aok := a.(map[string]any)
		if bok && aok {
			diffInto(out, join(k), bm, am)
			continue
		}
		if !reflect.DeepEqual(a, b) {
			*out = append(*out, Change{Path: join(k), Op: "change", Before: b, After: a})
		}
	}
	for k, a := range after {
		if _, ok := before[k]; !ok {
			*out = append(*out, Change{Path: join(k), Op: "add", After: a})
		}
	}
}
