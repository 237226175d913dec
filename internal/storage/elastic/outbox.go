package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// kindOutbox holds the work items committed with events and not yet moved to the
// queue (docs/architecture.md, "Background work"): one document per item, _id = the
// item's id (its idempotency key), written create-only in the same _bulk request as
// the events that caused it.
const kindOutbox = "outbox"

type outboxDoc struct {
	ID      string `json:"id"`
	Topic   string `json:"topic"`
	Payload []byte `json:"payload"` // base64 in JSON, a binary field in the index
	DelayMS int64  `json:"delay_ms,omitempty"`
	Created int64  `json:"created"` // unix milliseconds
}

func outboxMapping(meta any) map[string]any {
	return map[string]any{"dynamic": "strict", "_meta": meta, "properties": map[string]any{
		"id": keyword(), "topic": keyword(), "payload": map[string]any{"type": "binary"},
		"delay_ms": map[string]any{"type": "long"}, "created": map[string]any{"type": "long"}}}
}

func (s *Store) outboxItem(w *storage.WorkItem, now time.Time) (*item, error) {
	doc, err := json.Marshal(outboxDoc{ID: w.ID, Topic: w.Topic, Payload: w.Payload, DelayMS: w.Delay.Milliseconds(),
		Created: now.UnixMilli()})
	if err != nil {
		return nil, fmt.Errorf("encoding work item %s: %w", w.ID, err)
	}
	// Create-only: an item stored already (a retried request) is kept as it was.
	return &item{kind: kindOutbox, op: "create", index: s.names.alias(kindOutbox), id: w.ID, source: doc}, nil
}

// Outbox returns the store's outbox, which the workers' sweeper empties into the queue.
func (s *Store) Outbox() storage.Outbox { return outbox{s} }

type outbox struct{ s *Store }

// Pending implements storage.Outbox: up to limit items, oldest first. A document
// written in the last refresh interval is not visible yet; the next sweep finds it.
func (o outbox) Pending(ctx context.Context, limit int) ([]*storage.WorkItem, error) {
	q := map[string]any{"size": limit, "sort": []any{map[string]any{"created": "asc"}}, "track_total_hits": false}
	var res struct {
		Hits struct {
			Hits []struct {
				Source outboxDoc `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := o.s.c.doJSON(ctx, http.MethodPost, "/"+o.s.names.alias(kindOutbox)+"/_search", q, &res); err != nil {
		return nil, classify("reading the outbox", err)
	}
	out := make([]*storage.WorkItem, 0, len(res.Hits.Hits))
	now := time.Now().UnixMilli()
	for _, h := range res.Hits.Hits {
		d := h.Source
		// A delayed item (a sleeping flow run) is due DelayMS after it was committed,
		// not after it was swept.
		delay := d.DelayMS
		if delay > 0 {
			delay = max(delay-(now-d.Created), 1)
		}
		out = append(out, &storage.WorkItem{ID: d.ID, Topic: d.Topic, Payload: d.Payload,
			Delay: time.Duration(delay) * time.Millisecond})
	}
	return out, nil
}

// Remove implements storage.Outbox.
func (o outbox) Remove(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	var body bytes.Buffer
	for _, id := range ids {
		body.Write(appendAction(body.AvailableBuffer(), "delete", o.s.names.alias(kindOutbox), id, nil, 0))
	}
	var res struct {
		Errors bool                    `json:"errors"`
		Items  []map[string]bulkResult `json:"items"`
	}
	if _, err := o.s.c.do(ctx, http.MethodPost, "/_bulk", body.Bytes(), &res); err != nil {
		return classify("removing swept outbox items", err)
	}
	for _, it := range res.Items {
		for _, r := range it {
			if r.Status >= 300 && r.Status != http.StatusNotFound {
				return fmt.Errorf("removing swept outbox items: %w: HTTP %d", storage.ErrUnavailable, r.Status)
			}
		}
	}
	return nil
}
