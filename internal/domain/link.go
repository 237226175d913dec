package domain

import (
	"net/url"
	"strings"
)

// Link is a tracked link: GET /redirect/{id} records a click event for the visitor and
// answers 302 to Target, and only to Target (never to a URL taken from the request).
type Link struct {
	Meta
	// Target is the absolute http or https URL the click is sent on to.
	Target string `json:"target"`
	// EventType is the type of the click event (default "link-clicked").
	EventType string `json:"event_type"`
	// Source is the event source the click is recorded for.
	Source string `json:"source"`
}

// DefaultLinkEvent is the event type of a click when a link names none.
const DefaultLinkEvent = "link-clicked"

// Validate checks and normalises l's own fields (not Meta's).
func (l *Link) Validate() error {
	l.Target = strings.TrimSpace(l.Target)
	u, err := url.Parse(l.Target)
	if l.Target == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return &FieldError{"target", "must be an absolute http or https URL without credentials"}
	}
	if len(l.Target) > 2048 {
		return &FieldError{"target", "is longer than 2048 characters"}
	}
	l.EventType = NormalizeEventType(l.EventType)
	if l.EventType == "" {
		l.EventType = DefaultLinkEvent
	}
	if len(l.EventType) > 128 {
		return &FieldError{"event_type", "is longer than 128 characters"}
	}
	if strings.TrimSpace(l.Source) == "" {
		return &FieldError{"source", "is required: the event source clicks are recorded for"}
	}
	return nil
}
