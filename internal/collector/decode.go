package collector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// TrackRequest is the body of POST /track.
type TrackRequest struct {
	Source     IDRef          `json:"source"`
	Session    *IDRef         `json:"session"`
	Profile    *IDRef         `json:"profile"`
	Context    map[string]any `json:"context"`
	Properties map[string]any `json:"properties"`
	Options    TrackOptions   `json:"options"`
	Events     []TrackEvent   `json:"events"`
	// Apply, set by routes that translate other protocols (the Segment-compatible /v1
	// routes), changes the locked profile after the events are built and before the
	// stages run (e.g. sets the merge key a Segment userId stands for); not when every
	// event of the request was already received.
	Apply func(p *domain.Profile) `json:"-"`
	// ServerIDs says the profile id was made by the server (derived by a route from
	// the client's own ids): an unknown one is created as it is, whatever the source.
	ServerIDs bool `json:"-"`
}

// IDRef is {"id": "..."}.
type IDRef struct {
	ID string `json:"id"`
}

// TrackOptions are the request-level options.
type TrackOptions struct {
	SaveSession *bool `json:"saveSession"`
	SaveEvents  *bool `json:"saveEvents"`
}

// TrackEvent is one event of a /track request.
type TrackEvent struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties"`
	Context    map[string]any `json:"context"`
	Traits     map[string]any `json:"traits"`
	Options    struct {
		Save *bool `json:"save"`
	} `json:"options"`
	Tags []string `json:"tags"`
	Time struct {
		Create *domain.Time `json:"create"`
	} `json:"time"`
}

// Limits bound what one request may contain.
type Limits struct {
	MaxEvents int // events per request
	MaxDepth  int // nesting of objects and arrays anywhere in the body
	MaxKeys   int // object keys and array items in the whole body
	MaxIDLen  int // length of any client-supplied id
	MaxString int // length of any string value
}

// DefaultLimits are used where a field of Limits is zero.
var DefaultLimits = Limits{MaxEvents: 100, MaxDepth: 32, MaxKeys: 20000, MaxIDLen: 128, MaxString: 64 << 10}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxEvents > 0 {
		d.MaxEvents = l.MaxEvents
	}
	if l.MaxDepth > 0 {
		d.MaxDepth = l.MaxDepth
	}
	if l.MaxKeys > 0 {
		d.MaxKeys = l.MaxKeys
	}
	if l.MaxIDLen > 0 {
		d.MaxIDLen = l.MaxIDLen
	}
	if l.MaxString > 0 {
		d.MaxString = l.MaxString
	}
	return d
}

// DecodeTrack parses and checks a /track body. Every failure is a *Error with status 400
// naming the offending field; nothing about the body can make it panic.
func DecodeTrack(body []byte, lim Limits) (*TrackRequest, error) {
	lim = lim.withDefaults()
	if err := checkJSONShape(body, lim); err != nil {
		return nil, err
	}
	var req TrackRequest
	if !decodeTrackFast(body, &req) {
		// Anything the fast decoder does not handle, errors included: encoding/json.
		req = TrackRequest{}
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, jsonError(err)
		}
	}
	if err := req.validate(lim); err != nil {
		return nil, err
	}
	return &req, nil
}

func (r *TrackRequest) validate(lim Limits) error {
	if r.Source.ID == "" {
		return badRequest("source.id", "is required")
	}
	if err := checkID("source.id", r.Source.ID, lim); err != nil {
		return err
	}
	if r.Session != nil && r.Session.ID != "" {
		if err := checkID("session.id", r.Session.ID, lim); err != nil {
			return err
		}
	}
	if r.Profile != nil && r.Profile.ID != "" {
		if err := checkID("profile.id", r.Profile.ID, lim); err != nil {
			return err
		}
	}
	if len(r.Events) == 0 {
		return badRequest("events", "must contain at least one event")
	}
	if len(r.Events) > lim.MaxEvents {
		return badRequest("events", fmt.Sprintf("has %d events; the limit is %d per request", len(r.Events), lim.MaxEvents))
	}
	for i := range r.Events {
		ev := &r.Events[i]
		field := fmt.Sprintf("events[%d]", i)
		if domain.NormalizeEventType(ev.Type) == "" {
			return badRequest(field+".type", "is required")
		}
		if len(ev.Type) > 128 {
			return badRequest(field+".type", "is longer than 128 characters")
		}
		if err := checkType(field+".type", ev.Type); err != nil {
			return err
		}
		if ev.ID != "" {
			if err := checkID(field+".id", ev.ID, lim); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkID accepts ids of printable, non-space ASCII that are not too long, so that ids are
// safe in URLs, logs and index keys.
func checkID(field, id string, lim Limits) error {
	if len(id) > lim.MaxIDLen {
		return badRequest(field, fmt.Sprintf("is longer than %d characters", lim.MaxIDLen))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%' {
			return badRequest(field, "may contain only printable ASCII without spaces, '/', '?', '#' or '%'")
		}
	}
	return nil
}

// checkJSONShape rejects bodies that are not valid UTF-8 or that nest too deep or hold
// too many values, before the decoder spends memory on them. It walks the tokens once.
func checkJSONShape(body []byte, lim Limits) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("body", "is empty; expected a JSON object")
	}
	if !utf8.Valid(body) {
		return badRequest("body", "is not valid UTF-8")
	}
	depth, values := 0, 0
	inString, escaped := false, false
	stringStart := 0
	for i, c := range body {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if i-stringStart > lim.MaxString {
					return badRequest("body", fmt.Sprintf("has a string longer than %d bytes", lim.MaxString))
				}
			}
			continue
		}
		switch c {
		case '"':
			inString, stringStart = true, i
		case '{', '[':
			depth++
			if depth > lim.MaxDepth {
				return badRequest("body", fmt.Sprintf("nests deeper than %d levels", lim.MaxDepth))
			}
		case '}', ']':
			depth--
		case ',', ':':
			values++
			if values > lim.MaxKeys*2 {
				return badRequest("body", fmt.Sprintf("holds more than %d values", lim.MaxKeys))
			}
		}
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return badRequest("body", fmt.Sprintf("is not valid JSON at byte %d: %s", syn.Offset, syn.Error()))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return badRequest(field, fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value))
	case strings.Contains(err.Error(), "unexpected end of JSON input"):
		return badRequest("body", "is truncated JSON")
	default:
		// Errors from fields' own decoders (times) carry their own message.
		return badRequest("body", err.Error())
	}
}

func jsonKind(k string) string {
	switch k {
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "ptr":
		return "an object"
	}
	return "a " + k
}

// ValidateRequest checks a request built by other routes (/collect) against the same
// rules as a decoded /track body.
func ValidateRequest(r *TrackRequest, lim Limits) error { return r.validate(lim.withDefaults()) }

// DecodeProperties decodes a JSON object body (the webhook bridge) under the same
// limits as /track.
func DecodeProperties(body []byte, lim Limits, dst *map[string]any) error {
	lim = lim.withDefaults()
	if err := checkJSONShape(body, lim); err != nil {
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return jsonError(err)
	}
	return nil
}
