package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/delivery"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Admin is what the GUI API offers operators about deliveries: the delivery log, the
// dead letters and their replay, pausing and resuming. It works on the shared store
// and queue, so any `serve` replica answers for every worker.
type Admin struct {
	Queue    Queue
	Log      storage.DeliveryLog
	Entities storage.Entities
}

// DeadLetter is a delivery that was given up on.
type DeadLetter struct {
	ID          string    `json:"id"` // the idempotency key
	Kind        string    `json:"kind"`
	Event       string    `json:"event,omitempty"`
	Profile     string    `json:"profile,omitempty"`
	Queued      time.Time `json:"queued"`
	Attempts    int       `json:"attempts"`
	Error       string    `json:"error"`
	ContentType string    `json:"content_type"`
	Body        string    `json:"body"`
}

// Status is a destination's delivery state.
type Status struct {
	Destination string      `json:"destination"`
	Paused      bool        `json:"paused"`
	Reason      string      `json:"reason,omitempty"`
	Since       domain.Time `json:"since,omitempty"`
	Queued      int64       `json:"queued"`
	DeadLetters int64       `json:"dead_letters"`
}

func (a *Admin) exists(ctx context.Context, id string) error {
	_, err := a.Entities.Get(ctx, delivery.EntityKind, id)
	return err
}

// Deliveries lists destination id's recent attempts, newest first.
func (a *Admin) Deliveries(ctx context.Context, id string, page storage.Page) ([]storage.DeliveryAttempt, int64, error) {
	if err := a.exists(ctx, id); err != nil {
		return nil, 0, err
	}
	return a.Log.List(ctx, id, page)
}

// DeadLetters lists destination id's dead letters, most recent first.
func (a *Admin) DeadLetters(ctx context.Context, id string, page storage.Page) ([]DeadLetter, int64, error) {
	if err := a.exists(ctx, id); err != nil {
		return nil, 0, err
	}
	jobs, total, err := a.Queue.Dead(ctx, delivery.Topic(id), page)
	if err != nil {
		return nil, 0, err
	}
	out := make([]DeadLetter, 0, len(jobs))
	for _, j := range jobs {
		var it delivery.Item
		json.Unmarshal(j.Payload, &it)
		out = append(out, DeadLetter{ID: j.ID, Kind: it.Kind, Event: it.Event, Profile: it.Profile, Queued: j.Enqueued.UTC(),
			Attempts: j.Deliveries, Error: j.LastError, ContentType: it.ContentType, Body: string(it.Body)})
	}
	return out, total, nil
}

// Replay puts dead letter item of destination id (all of them when item is empty)
// back in its queue and says how many.
func (a *Admin) Replay(ctx context.Context, id, item string) (int, error) {
	if err := a.exists(ctx, id); err != nil {
		return 0, err
	}
	return a.Queue.Replay(ctx, delivery.Topic(id), item)
}

// Status answers destination id's delivery state.
func (a *Admin) Status(ctx context.Context, id string) (*Status, error) {
	if err := a.exists(ctx, id); err != nil {
		return nil, err
	}
	st, _, err := LoadState(ctx, a.Entities, id)
	if err != nil {
		return nil, err
	}
	out := &Status{Destination: id, Paused: st.Paused, Reason: st.Reason, Since: st.Since}
	if out.Queued, err = a.Queue.Depth(ctx, delivery.Topic(id)); err != nil {
		return nil, err
	}
	if _, out.DeadLetters, err = a.Queue.Dead(ctx, delivery.Topic(id), storage.Page{}); err != nil {
		return nil, err
	}
	return out, nil
}

// Pause stops deliveries to destination id (queued ones wait) until Resume.
func (a *Admin) Pause(ctx context.Context, id, reason string) (*Status, error) {
	if err := a.exists(ctx, id); err != nil {
		return nil, err
	}
	if reason == "" {
		reason = "paused through the API"
	}
	if err := saveState(ctx, a.Entities, id, State{Paused: true, Reason: reason, Since: domain.Now()}); err != nil {
		return nil, fmt.Errorf("pausing destination %q: %w", id, err)
	}
	return a.Status(ctx, id)
}

// Resume lets deliveries to destination id continue.
func (a *Admin) Resume(ctx context.Context, id string) (*Status, error) {
	if err := a.exists(ctx, id); err != nil {
		return nil, err
	}
	if err := saveState(ctx, a.Entities, id, State{}); err != nil {
		return nil, fmt.Errorf("resuming destination %q: %w", id, err)
	}
	return a.Status(ctx, id)
}
