package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
)

// IdempotencyHeader carries an item's idempotency key on every delivery of it.
const IdempotencyHeader = "Idempotency-Key"

// Sender calls webhook destinations through the outbound guard: the address is
// checked when each connection is made (after DNS resolution, and again for every
// redirect), so neither a name that resolves to a private address nor a redirect to
// one gets through unless OUTBOUND_ALLOW_PRIVATE=yes.
type Sender struct {
	guard *netguard.Guard
}

// NewSender returns a Sender over guard.
func NewSender(guard *netguard.Guard) *Sender { return &Sender{guard: guard} }

// Result is what one attempt came to.
type Result struct {
	Status  int
	Latency time.Duration
	Err     error
	// Permanent says retrying cannot help: a 4xx answer other than 408, 425 and 429,
	// or an address the guard refuses.
	Permanent bool
	// Refused says the guard refused the address.
	Refused bool
	// RetryAfter is the receiver's Retry-After, if it sent one.
	RetryAfter time.Duration
}

// OK reports whether the receiver accepted the delivery (a 2xx answer).
func (r Result) OK() bool { return r.Err == nil }

// Send delivers it to d, whose secrets must be open.
func (s *Sender) Send(ctx context.Context, d *domain.Destination, it *Item) Result {
	w := d.Webhook
	if w == nil {
		return Result{Err: errors.New("destination has no webhook"), Permanent: true}
	}
	timeout, err := time.ParseDuration(w.Timeout)
	if err != nil || timeout <= 0 {
		timeout = domain.DefaultWebhookTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, w.Method, w.URL, bytes.NewReader(it.Body))
	if err != nil {
		return Result{Err: fmt.Errorf("building the request: %w", err), Permanent: true}
	}
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", it.ContentType)
	req.Header.Set("User-Agent", "ThamesThrive-Destination/1")
	req.Header.Set(IdempotencyHeader, it.Key)
	switch w.Auth.Type {
	case domain.WebhookAuthBasic:
		req.SetBasicAuth(w.Auth.Username, w.Auth.Password)
	case domain.WebhookAuthBearer:
		req.Header.Set("Authorization", "Bearer "+w.Auth.Token)
	}
	start := time.Now()
	resp, err := s.guard.Client(0, 5).Do(req)
	lat := time.Since(start)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		refused := errors.Is(err, netguard.ErrBlocked)
		return Result{Latency: lat, Err: fmt.Errorf("calling %s: %w", redact(w.URL), err), Permanent: refused, Refused: refused}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	r := Result{Status: resp.StatusCode, Latency: lat}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return r
	}
	r.Err = fmt.Errorf("%s answered %s", redact(w.URL), resp.Status)
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooEarly, resp.StatusCode == http.StatusTooManyRequests:
	case resp.StatusCode >= 400 && resp.StatusCode <= 499:
		r.Permanent = true
	}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		r.RetryAfter = time.Duration(secs) * time.Second
	}
	return r
}

// redact drops credentials and the query (which often holds tokens) from a URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the destination"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
