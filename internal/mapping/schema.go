package mapping

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// schemaURL names an event type's schema inside its own compiler.
const schemaURL = "urn:thamesthrive:event-type-schema"

// noLoader refuses every reference to another document: a schema that an API user
// saves must not make the server read files or fetch URLs.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("references to other documents (%s) are not allowed; use $defs", url)
}

// CompileSchema compiles an event type's JSON Schema (draft 2020-12 unless $schema
// names another); nil when raw is empty.
func CompileSchema(raw json.RawMessage) (*jsonschema.Schema, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fieldErr("schema", "is not JSON: %v", err)
	}
	switch doc.(type) {
	case map[string]any, bool:
	default:
		return nil, fieldErr("schema", "must be a JSON Schema: an object or a boolean")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fieldErr("schema", "%s", oneLine(err))
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fieldErr("schema", "is not a valid JSON Schema: %s", oneLine(err))
	}
	return sch, nil
}

func compileValidation(t *domain.EventType, out *Type) error {
	switch t.OnInvalid {
	case "", domain.OnInvalidReject:
	case domain.OnInvalidStore:
		out.storeInvalid = true
	default:
		return fieldErr("on_invalid", "must be %q (answer 422, the default) or %q (store the event as invalid)", domain.OnInvalidReject, domain.OnInvalidStore)
	}
	var err error
	out.schema, err = CompileSchema(t.Schema)
	return err
}

// oneLine shortens the library's multi-line messages for an API answer.
func oneLine(err error) string {
	msg := strings.ReplaceAll(err.Error(), schemaURL, "schema")
	lines := strings.Split(msg, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i]), "- "))
	}
	return strings.Join(lines, "; ")
}

// violation describes why properties fail a schema, briefly: the library's message
// without its heading line, on one line, at most 500 bytes.
func violation(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "\n"); ok && strings.HasPrefix(msg, "jsonschema validation failed") {
		msg = rest
	}
	msg = oneLine(errors.New(msg))
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return msg
}

// validate checks each event's properties against its type's schema. An event of a
// type that rejects answers the request 422 (nothing is stored); events of types
// that store invalid events leave w.Events, so that no later stage processes them,
// and are stored here with metadata.status "invalid".
func (m *Mapper) validate(ctx context.Context, w *pipeline.Work, types map[string]*Type) error {
	var invalid []*domain.Event
	kept := make([]*domain.Event, 0, len(w.Events))
	for i, ev := range w.Events {
		t := types[ev.Type]
		if t == nil || t.schema == nil {
			kept = append(kept, ev)
			continue
		}
		props := any(ev.Properties)
		if ev.Properties == nil {
			props = map[string]any{}
		}
		err := t.schema.Validate(props)
		if err == nil {
			kept = append(kept, ev)
			continue
		}
		why := violation(err)
		if !t.storeInvalid {
			return &pipeline.Error{Kind: pipeline.Rejected, Field: fmt.Sprintf("events[%d].properties", i),
				Message: fmt.Sprintf("fail the schema of event type %q: %s", ev.Type, why)}
		}
		ev.Metadata.Status = domain.EventInvalid
		w.Warnings = append(w.Warnings, fmt.Sprintf("event %q: properties fail the schema of event type %q (%s); stored as invalid and not processed", ev.ID, ev.Type, why))
		if w.Saved(ev) {
			invalid = append(invalid, ev)
		}
	}
	if len(kept) == len(w.Events) {
		return nil
	}
	w.Events = kept
	if len(invalid) == 0 {
		return nil
	}
	if m.store == nil {
		w.Warnings = append(w.Warnings, fmt.Sprintf("%d invalid events were not stored (no store configured)", len(invalid)))
		return nil
	}
	if err := m.store.Commit(ctx, &storage.Batch{Events: invalid}); err != nil {
		return fmt.Errorf("storing invalid events: %w", err)
	}
	return nil
}
