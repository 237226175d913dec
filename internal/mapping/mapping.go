// Package mapping applies the configurable event-to-profile mappings of event types
// (the profile update step of docs/architecture.md): for each event of a type that has them, values of
// the event (or its session or profile) are copied onto the profile with one of the
// operations equals, equals-if-not-exists, append, increment and delete, optionally
// only when a condition holds. It runs as the first stage of the pipeline, after the
// built-in copy rules of the collector and before identity resolution, so that a
// mapped e-mail can merge profiles.
package mapping

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/eval"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Ref is a parsed field reference, scope@dotted.path.
type Ref struct {
	Scope string
	Path  []string
}

func (r Ref) String() string { return r.Scope + "@" + strings.Join(r.Path, ".") }

// ParseRef parses "scope@path" with scope in scopes.
func ParseRef(s string, scopes ...string) (Ref, error) {
	scope, path, ok := strings.Cut(strings.TrimSpace(s), "@")
	if !ok {
		return Ref{}, fmt.Errorf("%q must be scope@path, such as %s@properties.email", s, scopes[0])
	}
	valid := false
	for _, sc := range scopes {
		valid = valid || scope == sc
	}
	if !valid {
		return Ref{}, fmt.Errorf("%q: scope must be one of %s", s, strings.Join(scopes, ", "))
	}
	segs := strings.Split(path, ".")
	for _, seg := range segs {
		if !query.ValidSegment(seg) {
			return Ref{}, fmt.Errorf("%q: path segment %q must be letters, digits, '_' or '-'", s, seg)
		}
	}
	return Ref{Scope: scope, Path: segs}, nil
}

// target kinds: where on the profile a mapping writes.
const (
	targetObject  = iota // traits, data, aux: free-form objects
	targetNumbers        // stats.counters, interests: name → number
)

// Rule is one compiled mapping.
type Rule struct {
	m      domain.ProfileMapping
	from   *Ref
	root   string   // traits, data, aux, stats.counters, interests
	path   []string // below root
	kind   int
	filter *eval.Program
}

// Type is an event type's compiled mappings.
type Type struct {
	ID    string
	Rules []*Rule
	// schema validates events' properties (nil: none); storeInvalid keeps events
	// that fail it (as invalid) instead of rejecting the request.
	schema       *jsonschema.Schema
	storeInvalid bool
}

// Compile checks and compiles an event type's mappings and validation schema. Errors
// name the field ("profile_mapping[2].to: …", "schema: …").
func Compile(t *domain.EventType) (*Type, error) {
	out := &Type{ID: t.ID}
	if err := compileValidation(t, out); err != nil {
		return nil, err
	}
	for i, m := range t.ProfileMapping {
		r, err := compileRule(m)
		if err != nil {
			return nil, fmt.Errorf("profile_mapping[%d].%w", i, err)
		}
		out.Rules = append(out.Rules, r)
	}
	return out, nil
}

type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func fieldErr(field string, format string, args ...any) error {
	return &fieldError{field: field, err: fmt.Errorf(format, args...)}
}

func compileRule(m domain.ProfileMapping) (*Rule, error) {
	r := &Rule{m: m}
	switch m.Op {
	case domain.MapEquals, domain.MapEqualsIfNotExists, domain.MapAppend, domain.MapIncrement, domain.MapDelete:
	default:
		return nil, fieldErr("op", "must be one of equals, equals-if-not-exists, append, increment, delete")
	}
	to, err := ParseRef(m.To, "profile")
	if err != nil {
		return nil, fieldErr("to", "%v", err)
	}
	switch p := to.Path; {
	case len(p) >= 2 && (p[0] == "traits" || p[0] == "data" || p[0] == "aux"):
		r.root, r.path, r.kind = p[0], p[1:], targetObject
	case len(p) == 3 && p[0] == "stats" && p[1] == "counters":
		r.root, r.path, r.kind = "stats.counters", p[2:], targetNumbers
	case len(p) == 2 && p[0] == "interests":
		r.root, r.path, r.kind = "interests", p[1:], targetNumbers
	default:
		return nil, fieldErr("to", "must be a field under profile@traits, profile@data, profile@aux, or profile@stats.counters.<name> or profile@interests.<name>")
	}
	if r.kind == targetNumbers && m.Op == domain.MapAppend {
		return nil, fieldErr("op", "append needs a field under traits, data or aux: %s holds numbers", r.root)
	}
	switch {
	case m.From != "" && m.Op == domain.MapDelete:
		return nil, fieldErr("from", "must be empty for delete")
	case m.From == "" && m.Op != domain.MapDelete && m.Op != domain.MapIncrement:
		return nil, fieldErr("from", "is required for %s", m.Op)
	case m.From != "":
		from, err := ParseRef(m.From, "event", "session", "profile")
		if err != nil {
			return nil, fieldErr("from", "%v", err)
		}
		r.from = &from
	}
	if strings.TrimSpace(m.Condition) != "" {
		e, err := query.ParseOptions{Scopes: []string{"event", "session", "profile"},
			ScopeMessage: "a mapping condition can use event, session and profile fields"}.Parse(m.Condition)
		if err != nil {
			return nil, fieldErr("condition", "%v", err)
		}
		if r.filter, err = eval.Compile(e); err != nil {
			return nil, fieldErr("condition", "%v", err)
		}
	}
	return r, nil
}

// Config configures a Mapper.
type Config struct {
	// TTL is how long event types are used before they are read again (changes
	// through this process apply at once). Default 5s.
	TTL time.Duration
	// Store stores events that fail their type's schema when the type says to keep
	// them (schema.go); without it they are dropped with a warning.
	Store storage.Store
}

// Mapper is the mapping stage of the pipeline.
type Mapper struct {
	cache *storage.KindCache[map[string]*Type]
	store storage.Store
}

// New returns a Mapper over the event types stored in entities.
func New(cfg Config, entities storage.Entities, log *slog.Logger) *Mapper {
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Second
	}
	build := func(ents []*storage.Entity) (map[string]*Type, error) {
		out := map[string]*Type{}
		for _, ent := range ents {
			var t domain.EventType
			err := json.Unmarshal(ent.Doc, &t)
			if err == nil && (!t.Enabled || len(t.ProfileMapping) == 0 && len(bytes.TrimSpace(t.Schema)) == 0) {
				continue
			}
			var c *Type
			if err == nil {
				c, err = Compile(&t)
			}
			if err != nil {
				log.Warn("event_type_skipped", "event_type", ent.ID, "error", err)
				continue
			}
			out[ent.ID] = c
		}
		return out, nil
	}
	return &Mapper{cache: storage.NewKindCache(entities, domain.EntityEventType, cfg.TTL, build), store: cfg.Store}
}

// Invalidate makes the next request read the event types again (after a change).
func (m *Mapper) Invalidate() { m.cache.Invalidate() }

// Process implements pipeline.Stage: it validates events against their type's
// schema (schema.go), then applies the mappings of each event's type, in event order
// and, within a type, in mapping order.
func (m *Mapper) Process(ctx context.Context, w *pipeline.Work) error {
	types, err := m.cache.Get(ctx)
	if err != nil || len(types) == 0 {
		return err
	}
	if err := m.validate(ctx, w, types); err != nil {
		return err
	}
	for _, ev := range w.Events {
		if t := types[ev.Type]; t != nil {
			t.Apply(w, ev)
		}
	}
	return nil
}

var _ pipeline.Stage = (*Mapper)(nil)
