package domain

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Destination forwards events and/or profile changes, filtered by a condition and
// shaped by a template, to a webhook (docs/workers.md). Destinations are stored
// and validated by the API; delivery (the worker, retries, dead letters) is separate.
type Destination struct {
	Meta
	// Type is the connector: DestinationWebhook (the default) for now.
	Type string `json:"type"`
	// Events forwards events; Profiles forwards profile changes. At least one is set.
	Events   bool `json:"events"`
	Profiles bool `json:"profiles"`
	// Filter is an optional condition: only what meets it is forwarded. With events on
	// it may use event@ and profile@ fields (default scope event); with profiles only,
	// profile@ fields (default scope profile).
	Filter string `json:"filter,omitempty"`
	// Template is an optional body template with {{scope@path}} placeholders, the
	// language of the workflow template and webhook nodes; empty sends the item as JSON.
	Template string              `json:"template,omitempty"`
	Webhook  *DestinationWebhook `json:"webhook,omitempty"`
	// Concurrency is how many deliveries to this destination may be in flight at once,
	// per worker process (1 to 64, default 4).
	Concurrency int `json:"concurrency,omitempty"`
	// RateLimit caps deliveries per second, per worker process (0: no cap).
	RateLimit float64 `json:"rate_limit,omitempty"`
}

// DefaultDestinationConcurrency is a destination's concurrency when none is given.
const DefaultDestinationConcurrency = 4

// DeliveryConcurrency is d's concurrency, or the default.
func (d *Destination) DeliveryConcurrency() int {
	if d.Concurrency <= 0 {
		return DefaultDestinationConcurrency
	}
	return d.Concurrency
}

// Destination types.
const DestinationTypeWebhook = "webhook"

// DestinationWebhook is where and how a webhook destination calls.
type DestinationWebhook struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers,omitempty"`
	// Timeout of one call, a duration from 100ms to 60s (default 5s).
	Timeout string      `json:"timeout"`
	Auth    WebhookAuth `json:"auth"`
}

// WebhookAuth is how a webhook call authenticates. Password and Token are secrets:
// stored encrypted and answered masked.
type WebhookAuth struct {
	Type     string `json:"type"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty" secret:"true"`
	Token    string `json:"token,omitempty" secret:"true"`
}

// Webhook authentication types.
const (
	WebhookAuthNone   = "none"
	WebhookAuthBasic  = "basic"
	WebhookAuthBearer = "bearer"
)

// DefaultWebhookTimeout is a webhook destination's timeout when none is given.
const DefaultWebhookTimeout = 5 * time.Second

// FilterScope is the default scope of the filter's fields and the scopes it may use.
func (d *Destination) FilterScope() (def string, allowed []string) {
	if d.Events {
		return "event", []string{"event", "profile"}
	}
	return "profile", []string{"profile"}
}

// Validate checks and normalises d's own fields (not Meta's), all but those that need
// other packages: the filter's syntax, the template's syntax and the URL's host address.
func (d *Destination) Validate() error {
	d.Type = strings.ToLower(strings.TrimSpace(d.Type))
	if d.Type == "" {
		d.Type = DestinationTypeWebhook
	}
	if d.Type != DestinationTypeWebhook {
		return &FieldError{"type", `must be "webhook"`}
	}
	if !d.Events && !d.Profiles {
		return &FieldError{"events", "a destination forwards events, profile changes (profiles) or both: set at least one"}
	}
	d.Filter = strings.TrimSpace(d.Filter)
	if len(d.Filter) > 10000 {
		return &FieldError{"filter", "is longer than 10000 characters"}
	}
	if len(d.Template) > 100000 {
		return &FieldError{"template", "is longer than 100000 characters"}
	}
	if d.Concurrency < 0 || d.Concurrency > 64 {
		return &FieldError{"concurrency", "must be from 1 to 64 (0: the default, 4)"}
	}
	if d.RateLimit < 0 || d.RateLimit > 100000 {
		return &FieldError{"rate_limit", "must be from 0 (no cap) to 100000 deliveries per second"}
	}
	if d.Webhook == nil {
		return &FieldError{"webhook", "is required for a webhook destination"}
	}
	return d.Webhook.validate()
}

func (w *DestinationWebhook) validate() error {
	w.URL = strings.TrimSpace(w.URL)
	if w.URL == "" {
		return &FieldError{"webhook.url", "is required"}
	}
	if len(w.URL) > 2048 {
		return &FieldError{"webhook.url", "is longer than 2048 characters"}
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return &FieldError{"webhook.url", "must be an absolute http or https URL"}
	}
	if u.User != nil {
		return &FieldError{"webhook.url", "must not hold credentials: use auth"}
	}
	w.Method = strings.ToUpper(strings.TrimSpace(w.Method))
	switch w.Method {
	case "":
		w.Method = "POST"
	case "POST", "PUT", "PATCH":
	default:
		return &FieldError{"webhook.method", "must be POST, PUT or PATCH"}
	}
	for name, v := range w.Headers {
		if !headerName(name) {
			return &FieldError{"webhook.headers", fmt.Sprintf("%q is not a valid header name", name)}
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return &FieldError{"webhook.headers." + name, "must not contain line breaks"}
		}
		if strings.EqualFold(name, "Authorization") && w.Auth.Type != "" && w.Auth.Type != WebhookAuthNone {
			return &FieldError{"webhook.headers." + name, "conflicts with auth: give one of them"}
		}
	}
	if len(w.Headers) > 50 {
		return &FieldError{"webhook.headers", "at most 50 headers"}
	}
	w.Timeout = strings.TrimSpace(w.Timeout)
	if w.Timeout == "" {
		w.Timeout = DefaultWebhookTimeout.String()
	}
	if d, err := time.ParseDuration(w.Timeout); err != nil || d < 100*time.Millisecond || d > time.Minute {
		return &FieldError{"webhook.timeout", "must be a duration from 100ms to 60s, such as 5s"}
	}
	return w.Auth.validate()
}

func (a *WebhookAuth) validate() error {
	a.Type = strings.ToLower(strings.TrimSpace(a.Type))
	a.Username = strings.TrimSpace(a.Username)
	switch a.Type {
	case "", WebhookAuthNone:
		a.Type = WebhookAuthNone
		for _, f := range []struct{ name, v string }{{"username", a.Username}, {"password", a.Password}, {"token", a.Token}} {
			if f.v != "" {
				return &FieldError{"webhook.auth." + f.name, `is only used with auth type "basic" or "bearer"`}
			}
		}
	case WebhookAuthBasic:
		if a.Username == "" || strings.Contains(a.Username, ":") {
			return &FieldError{"webhook.auth.username", "is required for basic auth and cannot contain ':'"}
		}
		if a.Password == "" {
			return &FieldError{"webhook.auth.password", "is required for basic auth"}
		}
		if a.Token != "" {
			return &FieldError{"webhook.auth.token", `is only used with auth type "bearer"`}
		}
	case WebhookAuthBearer:
		if a.Token == "" {
			return &FieldError{"webhook.auth.token", "is required for bearer auth"}
		}
		if a.Username != "" || a.Password != "" {
			return &FieldError{"webhook.auth.username", `username and password are only used with auth type "basic"`}
		}
	default:
		return &FieldError{"webhook.auth.type", `must be "none", "basic" or "bearer"`}
	}
	return nil
}

// headerName reports whether s is an HTTP header field name (an RFC 9110 token).
func headerName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", c):
		default:
			return false
		}
	}
	return true
}
