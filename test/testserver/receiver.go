package testserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// Receiver is a local destination endpoint (a webhook) that counts deliveries by
// Idempotency-Key and checks that each key names the event in its body: the worker and
// chaos suites point an event destination at it.
type Receiver struct {
	srv   *httptest.Server
	dest  string
	mu    sync.Mutex
	byKey map[string]int
	bad   []string // deliveries whose key does not name the event in their body
	total atomic.Int64
}

// NewReceiver starts a receiver for the destination dest (keys are "<event id>:<dest>");
// it is closed when the test ends.
func NewReceiver(t testing.TB, dest string) *Receiver {
	rc := &Receiver{dest: dest, byKey: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body struct {
			Event struct {
				ID string `json:"id"`
			} `json:"event"`
		}
		json.Unmarshal(b, &body)
		key := r.Header.Get("Idempotency-Key")
		rc.mu.Lock()
		rc.byKey[key]++
		if key != body.Event.ID+":"+dest {
			rc.bad = append(rc.bad, fmt.Sprintf("key %q for event %q", key, body.Event.ID))
		}
		rc.mu.Unlock()
		rc.total.Add(1)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// URL is the receiver's address.
func (rc *Receiver) URL() string { return rc.srv.URL }

// Total is the number of deliveries so far, repeats included.
func (rc *Receiver) Total() int64 { return rc.total.Load() }

// Missing returns the event ids of events not delivered yet.
func (rc *Receiver) Missing(events []string) []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, id := range events {
		if rc.byKey[id+":"+rc.dest] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// Duplicates counts the keys delivered more than once and the repeats.
func (rc *Receiver) Duplicates() (keys, extra int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, n := range rc.byKey {
		if n > 1 {
			keys++
			extra += n - 1
		}
	}
	return keys, extra
}

// Bad lists the deliveries whose key does not name the event in their body.
func (rc *Receiver) Bad() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.bad)
}

// Count is how many times the event was delivered.
func (rc *Receiver) Count(event string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.byKey[event+":"+rc.dest]
}
