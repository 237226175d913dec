// Package segment owns segmentation (docs/segments.md): it keeps profile.segments
// equal to the machine names of the enabled segments whose condition the profile
// meets. A pipeline stage does it on every /track request (cheaply: segments are
// compiled once, and skipped when their event types are absent), and a background job
// re-evaluates every stored profile when a segment is created, changed or deleted.
// Entering and leaving a segment add segment-entered and segment-left internal events
// to the request, where later stages (rules) see them.
package segment

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/eval"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Internal event types.
const (
	EventEntered = "segment-entered"
	EventLeft    = "segment-left"
)

// ParseCondition parses a segment condition: fields default to the profile scope and
// may name no other (segments are evaluated in batch, where only the profile exists).
// Errors are *query.Error values with a position.
func ParseCondition(src string) (query.Expr, error) {
	return query.ParseOptions{DefaultScope: "profile", Scopes: []string{"profile"},
		ScopeMessage: "a segment condition can only use profile fields"}.Parse(src)
}

// Compiled is a segment ready to evaluate.
type Compiled struct {
	Segment *domain.Segment
	Expr    query.Expr
	prog    *eval.Program
	types   map[string]bool // nil: every request
	fields  []string        // the top-level profile fields the condition names
}

// Compile parses and compiles seg's condition.
func Compile(seg *domain.Segment) (*Compiled, error) {
	e, err := ParseCondition(seg.Condition)
	if err != nil {
		return nil, err
	}
	prog, err := eval.Compile(e)
	if err != nil {
		return nil, err
	}
	c := &Compiled{Segment: seg, Expr: e, prog: prog, fields: topFields(e)}
	if len(seg.EventTypes) > 0 {
		c.types = make(map[string]bool, len(seg.EventTypes))
		for _, t := range seg.EventTypes {
			c.types[domain.NormalizeEventType(t)] = true
		}
	}
	return c, nil
}

// topFields lists the distinct first path segments of e's profile fields: all a
// condition can reach of the profile document (a field path is never empty, and
// the evaluator's fallback walk of the whole document starts with that segment too).
func topFields(e query.Expr) []string {
	var out []string
	query.Inspect(e, func(n query.Node) bool {
		if f, ok := n.(*query.Field); ok && f.Scope == "profile" && len(f.Path) > 0 && !slices.Contains(out, f.Path[0]) {
			out = append(out, f.Path[0])
		}
		return true
	})
	return out
}

// Fields returns the top-level profile fields the condition names (do not change it).
func (c *Compiled) Fields() []string { return c.fields }

// Doc returns the part of p's document the condition can reach: PartialDoc of
// its Fields.
func (c *Compiled) Doc(p *domain.Profile) map[string]any { return PartialDoc(p, c.fields) }

// Match reports whether the profile document doc meets the segment's condition.
func (c *Compiled) Match(doc map[string]any, now time.Time) bool {
	return c.prog.Eval(eval.Maps{"profile": doc}, now)
}

// ProfileFields lists the top-level fields of a profile document, in the order
// encoding/json writes them.
var ProfileFields = []string{"id", "ids", "metadata", "stats", "traits", "data", "segments", "interests", "consents", "active", "aux"}

// ProfileDoc returns p in the form conditions are evaluated on: what encoding/json
// would make of it, built directly (a JSON round trip costs several times more). The
// free-form objects (traits, data, aux) are shared with p, not copied: neither may
// change while the document is in use. TestProfileDocMatchesJSON keeps it in step
// with domain.Profile.
func ProfileDoc(p *domain.Profile) map[string]any { return PartialDoc(p, ProfileFields) }

// PartialDoc is ProfileDoc with only the top-level fields named in fields (names
// that are not fields of a profile are left out, as ProfileDoc has no such key
// either). Each field built is what ProfileDoc holds there. On /track, segments are
// evaluated against the fields their conditions name (Compiled.Fields), so a
// request does not format every timestamp and copy every list of the profile.
func PartialDoc(p *domain.Profile, fields []string) map[string]any {
	doc := make(map[string]any, len(fields))
	for _, f := range fields {
		if v, ok := profileField(p, f); ok {
			doc[f] = v
		}
	}
	return doc
}

func profileField(p *domain.Profile, name string) (any, bool) {
	switch name {
	case "id":
		return p.ID, true
	case "ids":
		return stringList(p.IDs), true
	case "metadata":
		return metadataDoc(p), true
	case "stats":
		return map[string]any{"visits": float64(p.Stats.Visits), "views": float64(p.Stats.Views),
			"counters": numberMap(p.Stats.Counters)}, true
	case "traits":
		return objectOrNil(p.Traits), true
	case "data":
		return objectOrNil(p.Data), true
	case "segments":
		return stringList(p.Segments), true
	case "interests":
		return numberMap(p.Interests), true
	case "consents":
		return consentsDoc(p), true
	case "active":
		return p.Active, true
	case "aux":
		return objectOrNil(p.Aux), true
	}
	return nil, false
}

func metadataDoc(p *domain.Profile) map[string]any {
	t := p.Metadata.Time
	meta := map[string]any{"time": map[string]any{
		"insert": timeValue(t.Insert), "create": timeValue(t.Create), "update": timeValue(t.Update),
		"visit": map[string]any{"last": timeValue(t.Visit.Last), "current": timeValue(t.Visit.Current), "count": float64(t.Visit.Count)},
	}}
	if p.Metadata.MergedInto != "" {
		meta["merged_into"] = p.Metadata.MergedInto
	}
	if len(p.Metadata.Merges) > 0 {
		merges := make([]any, len(p.Metadata.Merges))
		for i, m := range p.Metadata.Merges {
			merges[i] = map[string]any{"profile_id": m.ProfileID, "key": m.Key, "value": m.Value, "time": timeValue(m.Time), "by": m.By}
		}
		meta["merges"] = merges
	}
	if len(p.Metadata.Applied) > 0 {
		applied := make([]any, len(p.Metadata.Applied))
		for i, a := range p.Metadata.Applied {
			applied[i] = map[string]any{"id": a.ID, "t": float64(a.Time)}
		}
		meta["applied"] = applied
	}
	return meta
}

// consentsDoc is a map[string]any, nil when p has none (a typed nil, as before).
func consentsDoc(p *domain.Profile) map[string]any {
	var consents map[string]any
	if p.Consents != nil {
		consents = make(map[string]any, len(p.Consents))
		for id, c := range p.Consents {
			cm := map[string]any{"granted": c.Granted}
			if c.Revoke != nil {
				cm["revoke"] = timeValue(*c.Revoke)
			}
			consents[id] = cm
		}
	}
	return consents
}

func timeValue(t domain.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.String()
}

// stringList copies a list (the caller may change p's slices in place afterwards).
func stringList(ss []string) any {
	if ss == nil {
		return nil
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func numberMap(m map[string]float64) any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func objectOrNil(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

// Config configures an Engine.
type Config struct {
	// TTL is how long the compiled segments are used before they are read again
	// (changes through this process apply at once). Default 5s.
	TTL time.Duration
	// Now returns the current time (tests); default time.Now.
	Now func() time.Time
}

// Engine is the segmentation stage of the pipeline.
type Engine struct {
	cache *storage.KindCache[[]*Compiled]
	now   func() time.Time
}

// NewEngine returns an Engine over the segments stored in entities.
func NewEngine(cfg Config, entities storage.Entities, log *slog.Logger) *Engine {
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	build := func(ents []*storage.Entity) ([]*Compiled, error) {
		var out []*Compiled
		for _, ent := range ents {
			seg, err := decode(ent)
			if err == nil && !seg.Enabled {
				continue
			}
			var c *Compiled
			if err == nil {
				c, err = Compile(seg)
			}
			if err != nil {
				// Conditions are checked when saved; one that no longer compiles
				// (after an upgrade) is left out rather than failing every request.
				log.Warn("segment_skipped", "segment_id", ent.ID, "error", err)
				continue
			}
			out = append(out, c)
		}
		return out, nil
	}
	return &Engine{cache: storage.NewKindCache(entities, domain.EntitySegment, cfg.TTL, build), now: cfg.Now}
}

func decode(ent *storage.Entity) (*domain.Segment, error) {
	seg := new(domain.Segment)
	if err := json.Unmarshal(ent.Doc, seg); err != nil {
		return nil, fmt.Errorf("decoding segment %q: %w", ent.ID, err)
	}
	seg.Version = ent.Version
	return seg, nil
}

// Load reads one segment from entities.
func Load(ctx context.Context, entities storage.Entities, id string) (*domain.Segment, error) {
	ent, err := entities.Get(ctx, domain.EntitySegment, id)
	if err != nil {
		return nil, err
	}
	return decode(ent)
}

// Invalidate makes the next request read the segments again (after a change).
func (e *Engine) Invalidate() { e.cache.Invalidate() }

// Segments returns the enabled segments, compiled.
func (e *Engine) Segments(ctx context.Context) ([]*Compiled, error) { return e.cache.Get(ctx) }

// Process implements pipeline.Stage. The profile is turned into a document once, and
// only when some segment applies to the request, and only the fields that the
// conditions of those segments name.
func (e *Engine) Process(ctx context.Context, w *pipeline.Work) error {
	all, err := e.cache.Get(ctx)
	if err != nil || len(all) == 0 {
		return err
	}
	todo := make([]*Compiled, 0, len(all))
	var fields []string
	for _, c := range all {
		if c.types == nil || slices.ContainsFunc(w.Events, func(ev *domain.Event) bool { return c.types[ev.Type] }) {
			todo = append(todo, c)
			for _, f := range c.fields {
				if !slices.Contains(fields, f) {
					fields = append(fields, f)
				}
			}
		}
	}
	if len(todo) == 0 {
		return nil
	}
	Apply(w, PartialDoc(w.Profile, fields), todo, e.now())
	return nil
}

// Change is what Apply did to one profile.
type Change struct {
	Entered, Left []string // machine names
}

// Apply evaluates segs against doc (w.Profile as a document) and brings
// w.Profile.Segments in line: it adds the machine names of the segments that match
// and removes those of the segments that do not, adding a segment-entered or
// segment-left event to w for each change. Every segment sees the profile as it was
// before Apply, so one segment's condition on profile@segments sees the others'
// previous memberships.
func Apply(w *pipeline.Work, doc map[string]any, segs []*Compiled, now time.Time) Change {
	var ch Change
	for _, c := range segs {
		ch.add(set(w, c, c.Match(doc, now), slices.Contains(w.Profile.Segments, c.Segment.MachineName)))
	}
	return ch
}

func (ch *Change) add(o Change) {
	ch.Entered = append(ch.Entered, o.Entered...)
	ch.Left = append(ch.Left, o.Left...)
}

// set makes w.Profile a member of c or not (in). was says whether the profile counted
// as a member before (it may have held an earlier machine name of the segment): an
// event is added when in differs from it.
func set(w *pipeline.Work, c *Compiled, in, was bool) Change {
	var ch Change
	name := c.Segment.MachineName
	has := slices.Contains(w.Profile.Segments, name)
	switch {
	case in && !has:
		w.Profile.Segments = append(w.Profile.Segments, name)
	case !in && has:
		w.Profile.Segments = slices.DeleteFunc(w.Profile.Segments, func(s string) bool { return s == name })
	}
	switch {
	case in && !was:
		ch.Entered = append(ch.Entered, name)
		pipeline.NewInternalEvent(w, EventEntered, eventProperties(c.Segment))
	case !in && was:
		ch.Left = append(ch.Left, name)
		pipeline.NewInternalEvent(w, EventLeft, eventProperties(c.Segment))
	}
	return ch
}

// eventProperties are the properties of segment-entered and segment-left events:
// rules test event@properties.segment == "<machine name>".
func eventProperties(s *domain.Segment) map[string]any {
	return map[string]any{"segment": s.MachineName, "segment_id": s.ID, "segment_name": s.Name}
}

var _ pipeline.Stage = (*Engine)(nil)
