// Package delivery decides what goes to destinations and sends it. Its Planner is a
// stage of the /track pipeline: for every enabled destination it evaluates the filter
// against the request's events and profile, renders the body template, and adds one
// work item per delivery to the request's batch, so that the delivery is queued in
// the same atomic write as the event (the transactional outbox). Its Sender makes the
// HTTP call through the outbound guard. Retrying, dead letters and pausing are the
// worker's (internal/worker).
package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/eval"
	"github.com/thamesthrive/thamesthrive/internal/segment"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// EntityKind is the entity kind destinations are stored under.
const EntityKind = domain.EntityDestination

// TopicPrefix starts the queue topic of each destination: each has its own, so that a
// slow or failing receiver holds up nothing but its own deliveries.
const TopicPrefix = "destination:"

// Topic is the queue topic of destination id.
func Topic(id string) string { return TopicPrefix + id }

// Item kinds.
const (
	KindEvent   = "event"
	KindProfile = "profile"
)

// Item is the payload of a delivery's work item: everything the worker needs to send
// it except the destination's current settings (URL, auth, which it reads when it
// sends, so that a changed secret applies to queued deliveries).
type Item struct {
	Destination string `json:"destination"`
	Kind        string `json:"kind"`
	// Key is the idempotency key, sent as the Idempotency-Key header: event id and
	// destination id for events; profile id, destination id and the profile's update
	// time for profiles. Every delivery of one item carries the same key.
	Key     string `json:"key"`
	Event   string `json:"event,omitempty"`
	Profile string `json:"profile,omitempty"`
	// Version orders a profile's deliveries (its update time); Hash is the body's
	// SHA-256, compared with the last delivered one.
	Version     string `json:"version,omitempty"`
	Hash        string `json:"hash,omitempty"`
	ContentType string `json:"content_type"`
	Body        []byte `json:"body"`
}

// Compiled is a destination ready for the pipeline.
type Compiled struct {
	D      *domain.Destination
	filter *eval.Program
	tpl    *Template
}

// Compile prepares d's filter and template.
func Compile(d *domain.Destination) (*Compiled, error) {
	c := &Compiled{D: d}
	if d.Filter != "" {
		def, _ := d.FilterScope()
		e, err := query.ParseOptions{DefaultScope: def}.Parse(d.Filter)
		if err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		if c.filter, err = eval.Compile(e); err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
	}
	if d.Template != "" {
		t, err := ParseTemplate(d.Template)
		if err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		c.tpl = t
	}
	return c, nil
}

// Planner is the pipeline stage that queues deliveries.
type Planner struct {
	cache *storage.KindCache[[]*Compiled]
}

// NewPlanner returns a Planner over the destinations stored in entities, read again
// after ttl (default 5s) or Invalidate.
func NewPlanner(entities storage.Entities, ttl time.Duration, log *slog.Logger) *Planner {
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	build := func(ents []*storage.Entity) ([]*Compiled, error) {
		var out []*Compiled
		for _, ent := range ents {
			d, err := Decode(ent)
			if err == nil && !d.Enabled {
				continue
			}
			var c *Compiled
			if err == nil {
				c, err = Compile(d)
			}
			if err != nil {
				log.Warn("destination_skipped", "destination_id", ent.ID, "error", err)
				continue
			}
			out = append(out, c)
		}
		return out, nil
	}
	return &Planner{cache: storage.NewKindCache(entities, EntityKind, ttl, build)}
}

// Decode reads a stored destination (its secrets still sealed).
func Decode(ent *storage.Entity) (*domain.Destination, error) {
	d := new(domain.Destination)
	if err := json.Unmarshal(ent.Doc, d); err != nil {
		return nil, fmt.Errorf("decoding destination %q: %w", ent.ID, err)
	}
	d.ID, d.Version = ent.ID, ent.Version
	return d, nil
}

// Invalidate makes the next request read the destinations again.
func (p *Planner) Invalidate() { p.cache.Invalidate() }

// Process implements pipeline.Stage.
func (p *Planner) Process(ctx context.Context, w *pipeline.Work) error {
	dests, err := p.cache.Get(ctx)
	if err != nil {
		return err
	}
	if len(dests) == 0 {
		return nil
	}
	items, err := Plan(dests, w.Profile, w.Session, w.Events, w.Now)
	if err != nil {
		return err
	}
	w.Outbox = append(w.Outbox, items...)
	return nil
}

// Replan implements pipeline.Replanner: the deliveries of events stored already (a
// client's retry) to the event destinations whose filter they pass, evaluated against
// the stored events and w's profile and session as they are now, with the idempotency
// keys of the first attempt (event id + destination id) and Replanned set. Profile
// destinations are not planned again: they are delivered when the rendered profile
// changed, which the first attempt's profile update decided and a retry does not
// repeat.
func (p *Planner) Replan(ctx context.Context, w *pipeline.Work, stored []*domain.Event) error {
	if len(stored) == 0 {
		return nil
	}
	dests, err := p.cache.Get(ctx)
	if err != nil {
		return err
	}
	items, err := PlanEvents(dests, w.Profile, w.Session, stored)
	if err != nil {
		return err
	}
	for _, it := range items {
		it.Replanned = true
	}
	w.Outbox = append(w.Outbox, items...)
	return nil
}

// PlanEvents returns the work items for events to the event destinations of dests
// (Plan without the profile destinations).
func PlanEvents(dests []*Compiled, p *domain.Profile, s *domain.Session, events []*domain.Event) ([]*storage.WorkItem, error) {
	var evDests []*Compiled
	for _, d := range dests {
		if d.D.Events {
			only := *d.D
			only.Profiles = false
			evDests = append(evDests, &Compiled{D: &only, filter: d.filter, tpl: d.tpl})
		}
	}
	return Plan(evDests, p, s, events, domain.Time{})
}

// Plan returns the work items for events (and the profile, as changed by them) to
// dests; now is the time of the change (the profile's new update time).
func Plan(dests []*Compiled, p *domain.Profile, s *domain.Session, events []*domain.Event, now domain.Time) ([]*storage.WorkItem, error) {
	docs := eval.Maps{}
	if p != nil {
		docs["profile"] = segment.ProfileDoc(p)
	}
	if s != nil {
		docs["session"] = toMap(s)
	}
	var out []*storage.WorkItem
	var eventDocs []map[string]any
	for _, d := range dests {
		if d.D.Events {
			if eventDocs == nil {
				eventDocs = make([]map[string]any, len(events))
				for i, e := range events {
					eventDocs[i] = toMap(e)
				}
			}
			for i, e := range events {
				docs["event"] = eventDocs[i]
				if d.filter != nil && !d.filter.Eval(docs, time.Now()) {
					continue
				}
				body, ct, err := d.render(docs, KindEvent)
				if err != nil {
					return nil, err
				}
				it := &Item{Destination: d.D.ID, Kind: KindEvent, Key: e.ID + ":" + d.D.ID, Event: e.ID, ContentType: ct, Body: body}
				if p != nil {
					it.Profile = p.ID
				}
				out = append(out, it.work())
			}
			delete(docs, "event")
		}
		if d.D.Profiles && p != nil && !p.Merged() {
			if d.filter != nil && !d.filter.Eval(docs, time.Now()) {
				continue
			}
			body, ct, err := d.render(docs, KindProfile)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(body)
			version := now.String()
			it := &Item{Destination: d.D.ID, Kind: KindProfile, Key: p.ID + ":" + d.D.ID + ":" + version, Profile: p.ID,
				Version: version, Hash: hex.EncodeToString(sum[:]), ContentType: ct, Body: body}
			out = append(out, it.work())
		}
	}
	return out, nil
}

func (it *Item) work() *storage.WorkItem {
	b, _ := json.Marshal(it)
	return &storage.WorkItem{ID: it.Key, Topic: Topic(it.Destination), Payload: b}
}

// render builds the body: the template's, or by default the event with its profile
// (event destinations) or the profile (profile destinations), as JSON. The default
// profile body leaves out metadata (its times change on every request), so that
// "changed since the last delivery" means its data changed.
func (d *Compiled) render(docs eval.Maps, kind string) ([]byte, string, error) {
	if d.tpl != nil {
		return d.tpl.Render(docs)
	}
	profile := map[string]any{}
	for k, v := range docs["profile"] {
		if k != "metadata" {
			profile[k] = v
		}
	}
	var body any = map[string]any{"profile": profile}
	if kind == KindEvent {
		body = map[string]any{"event": docs["event"], "profile": profile}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, "", fmt.Errorf("encoding the body: %w", err)
	}
	return b, "application/json", nil
}

// toMap is v as conditions see it: its JSON form.
func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// Template is a destination's body template: text with {{scope@path}} placeholders
// (the syntax of the workflow's templates). A template that is JSON is rendered as
// JSON: a string that is exactly one placeholder becomes the value it names (keeping
// its type), and placeholders inside longer strings are rendered as text and escaped,
// so the body is always valid JSON. Any other template is rendered as text.
type Template struct {
	json any // set when the template is JSON
	text workflow.Template
}

// ParseTemplate parses a body template.
func ParseTemplate(s string) (*Template, error) {
	t, err := workflow.ParseTemplate(s)
	if err != nil {
		return nil, err
	}
	out := &Template{text: t}
	trimmed := strings.TrimSpace(s)
	if strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[") {
		var v any
		if json.Unmarshal([]byte(trimmed), &v) == nil {
			out.json = v
		}
	}
	return out, nil
}

// Render renders the template against the documents of each scope.
func (t *Template) Render(docs eval.Maps) ([]byte, string, error) {
	if t.json != nil {
		b, err := json.Marshal(resolve(t.json, docs))
		if err != nil {
			return nil, "", fmt.Errorf("encoding the body: %w", err)
		}
		return b, "application/json", nil
	}
	return []byte(renderText(t.text.String(), docs)), "text/plain; charset=utf-8", nil
}

func resolve(v any, docs eval.Maps) any {
	switch x := v.(type) {
	case string:
		if !strings.Contains(x, "{{") {
			return x
		}
		s := strings.TrimSpace(x)
		if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1 {
			if r, err := workflow.ParseRef(s[2 : len(s)-2]); err == nil {
				got, _ := lookup(docs, r)
				return got
			}
		}
		return renderText(x, docs)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolve(e, docs)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = resolve(e, docs)
		}
		return out
	}
	return v
}

// renderText replaces each {{scope@path}} of s by the text of the value it names.
func renderText(s string, docs eval.Maps) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		if r, err := workflow.ParseRef(s[i+2 : i+j]); err == nil {
			v, _ := lookup(docs, r)
			b.WriteString(workflow.Text(v))
		}
		s = s[i+j+2:]
	}
}

func lookup(docs eval.Maps, r workflow.Ref) (any, bool) {
	var path []string
	if r.Path != "" {
		path = strings.Split(r.Path, ".")
	}
	return docs.Lookup(r.Scope, path)
}

var (
	_ pipeline.Stage     = (*Planner)(nil)
	_ pipeline.Replanner = (*Planner)(nil)
)
