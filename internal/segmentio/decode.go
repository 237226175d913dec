// Package segmentio is the Segment-compatible ingestion of the collector: it decodes
// the messages that Segment's and RudderStack's SDKs send to /v1/{track, identify,
// page, screen, group, alias, batch}, finds the event source by its write key, and
// translates each message into a collector request (one event) that the ordinary
// pipeline runs. It owns the Segment spec's semantics; HTTP stays in httpapi.
package segmentio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
)

// Size limits, Segment's own: a message at most 32 KB, a batch at most 500 KB.
const (
	MaxMessageBytes = 32 << 10
	MaxBatchBytes   = 500 << 10
	// MaxBatchMessages bounds the messages of one batch (a batch of empty objects
	// would otherwise be thousands of pipeline runs).
	MaxBatchMessages = 2000
)

// Kinds of message.
const (
	Track    = "track"
	Identify = "identify"
	Page     = "page"
	Screen   = "screen"
	Group    = "group"
	Alias    = "alias"
)

// Message is one Segment message (https://segment.com/docs/connections/spec/common/).
type Message struct {
	Type              string         `json:"type"`
	MessageID         string         `json:"messageId"`
	AnonymousID       any            `json:"anonymousId"` // SDKs send strings; some send numbers
	UserID            any            `json:"userId"`
	Timestamp         string         `json:"timestamp"`
	OriginalTimestamp string         `json:"originalTimestamp"`
	SentAt            string         `json:"sentAt"`
	Context           map[string]any `json:"context"`
	Properties        map[string]any `json:"properties"`
	Traits            map[string]any `json:"traits"`
	Event             string         `json:"event"`    // track
	Name              string         `json:"name"`     // page, screen
	Category          string         `json:"category"` // page
	GroupID           any            `json:"groupId"`  // group
	PreviousID        any            `json:"previousId"`
	WriteKey          string         `json:"writeKey"`
	Channel           string         `json:"channel"`
	// Integrations, receivedAt, version, _metadata and other fields are accepted and
	// ignored (docs/segment.md lists them).
}

// Batch is a decoded request: its messages and the write key found in the body.
type Batch struct {
	Messages []Message
	WriteKey string
}

// Error is a failure caused by the request, as a collector error (status, field).
func badRequest(field, msg string) error {
	return &pipeline.Error{Kind: pipeline.Invalid, Field: field, Message: msg}
}

// Decode parses the body of a /v1 route. kind is the message type the route implies
// (track for /v1/track and /v1/t…), or "" for /v1/batch and /v1/b. Every failure is a
// *pipeline.Error naming the field (batch[3].userId); nothing in the body can make it
// panic.
func Decode(body []byte, kind string) (*Batch, error) {
	lim := collector.Limits{MaxString: MaxMessageBytes}
	if kind == "" {
		return decodeBatch(body, lim)
	}
	if len(body) > MaxMessageBytes {
		return nil, &pipeline.Error{Kind: pipeline.TooLarge, Field: "body",
			Message: fmt.Sprintf("is larger than the limit of %d bytes per message", MaxMessageBytes)}
	}
	var m Message
	if err := decodeObject(body, lim, &m, ""); err != nil {
		return nil, err
	}
	if m.Type == "" {
		m.Type = kind
	}
	if err := m.check(""); err != nil {
		return nil, err
	}
	return &Batch{Messages: []Message{m}, WriteKey: m.WriteKey}, nil
}

func decodeBatch(body []byte, lim collector.Limits) (*Batch, error) {
	if len(body) > MaxBatchBytes {
		return nil, &pipeline.Error{Kind: pipeline.TooLarge, Field: "body",
			Message: fmt.Sprintf("is larger than the limit of %d bytes per batch", MaxBatchBytes)}
	}
	var env struct {
		Batch    []json.RawMessage `json:"batch"`
		WriteKey string            `json:"writeKey"`
		SentAt   string            `json:"sentAt"`
		Context  map[string]any    `json:"context"`
	}
	if err := decodeObject(body, collector.Limits{MaxString: MaxBatchBytes, MaxKeys: MaxBatchBytes / 4}, &env, ""); err != nil {
		return nil, err
	}
	if len(env.Batch) == 0 {
		return nil, badRequest("batch", "must contain at least one message")
	}
	if len(env.Batch) > MaxBatchMessages {
		return nil, badRequest("batch", fmt.Sprintf("has %d messages; the limit is %d", len(env.Batch), MaxBatchMessages))
	}
	b := &Batch{Messages: make([]Message, len(env.Batch)), WriteKey: env.WriteKey}
	for i, raw := range env.Batch {
		field := fmt.Sprintf("batch[%d]", i)
		if len(raw) > MaxMessageBytes {
			return nil, badRequest(field, fmt.Sprintf("is larger than the limit of %d bytes per message", MaxMessageBytes))
		}
		m := &b.Messages[i]
		if err := decodeObject(raw, lim, m, field); err != nil {
			return nil, err
		}
		if m.SentAt == "" {
			m.SentAt = env.SentAt
		}
		if len(env.Context) > 0 { // the batch's context applies to each message
			ctx := make(map[string]any, len(env.Context)+len(m.Context))
			for k, v := range env.Context {
				ctx[k] = v
			}
			for k, v := range m.Context {
				ctx[k] = v
			}
			m.Context = ctx
		}
		if b.WriteKey == "" {
			b.WriteKey = m.WriteKey
		}
		if err := m.check(field); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// decodeObject decodes one JSON object under the collector's shape limits, naming
// fields under prefix in its errors.
func decodeObject(body []byte, lim collector.Limits, dst any, prefix string) error {
	if len(bytes.TrimSpace(body)) == 0 || bytes.TrimSpace(body)[0] != '{' {
		return badRequest(orBody(prefix), "must be a JSON object")
	}
	var props map[string]any
	// The collector's checks (UTF-8, nesting, value count, string length) first.
	if err := collector.DecodeProperties(body, lim, &props); err != nil {
		if ce, ok := err.(*pipeline.Error); ok && prefix != "" {
			ce.Field = prefix + strings.TrimPrefix(ce.Field, "body")
		}
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			return badRequest(join(prefix, te.Field), fmt.Sprintf("must not be %s", te.Value))
		}
		return badRequest(orBody(prefix), "is not a valid message: "+err.Error())
	}
	return nil
}

func orBody(prefix string) string {
	if prefix == "" {
		return "body"
	}
	return prefix
}

func join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

// check validates what the translation relies on.
func (m *Message) check(prefix string) error {
	m.Type = strings.ToLower(strings.TrimSpace(m.Type))
	switch m.Type {
	case Track, Identify, Page, Screen, Group, Alias:
	case "":
		return badRequest(join(prefix, "type"), "is required")
	default:
		return badRequest(join(prefix, "type"), fmt.Sprintf("%q is not a Segment message type", m.Type))
	}
	anon, err := idString(m.AnonymousID, join(prefix, "anonymousId"))
	if err != nil {
		return err
	}
	user, err := idString(m.UserID, join(prefix, "userId"))
	if err != nil {
		return err
	}
	if anon == "" && user == "" {
		return badRequest(join(prefix, "userId"), "or anonymousId is required")
	}
	switch m.Type {
	case Track:
		if strings.TrimSpace(m.Event) == "" {
			return badRequest(join(prefix, "event"), "is required")
		}
		if len(m.Event) > 128 {
			return badRequest(join(prefix, "event"), "is longer than 128 characters")
		}
	case Group:
		g, err := idString(m.GroupID, join(prefix, "groupId"))
		if err != nil {
			return err
		}
		if g == "" {
			return badRequest(join(prefix, "groupId"), "is required")
		}
	case Alias:
		p, err := idString(m.PreviousID, join(prefix, "previousId"))
		if err != nil {
			return err
		}
		if p == "" || user == "" {
			return badRequest(join(prefix, "previousId"), "and userId are required")
		}
	}
	for _, f := range []struct{ name, v string }{{"timestamp", m.Timestamp}, {"originalTimestamp", m.OriginalTimestamp}, {"sentAt", m.SentAt}} {
		if f.v != "" {
			if _, err := parseTime(f.v); err != nil {
				return badRequest(join(prefix, f.name), "is not an ISO 8601 time")
			}
		}
	}
	if len(m.MessageID) > 256 {
		return badRequest(join(prefix, "messageId"), "is longer than 256 characters")
	}
	return nil
}

// idString accepts the string and number ids SDKs send.
func idString(v any, field string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		x = strings.TrimSpace(x)
		if len(x) > 256 {
			return "", badRequest(field, "is longer than 256 characters")
		}
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	default:
		return "", badRequest(field, "must be a string")
	}
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}
