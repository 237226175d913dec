// Package later carries out the time-based work of flows and sessions in the workers
// (docs/workers.md, "Time in workflows"): suspended runs resumed after a sleep node,
// events scheduled for later, sessions ended after SESSION_TIMEOUT of inactivity, and
// flows started on a schedule. Each piece of work is a job of the durable work queue,
// committed with the request that caused it; its handler runs it through the /track
// pipeline (collector.Process) so that its changes are stored like a request's.
package later

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/worker"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// TopicSessionEnd is the queue topic of session-timeout checks.
const TopicSessionEnd = "session-end"

// EventVisitEnded is the type of the internal event that ends a session.
const EventVisitEnded = "visit-ended"

// Processor runs background work through the pipeline (collector.Collector).
type Processor interface {
	Process(ctx context.Context, profileID, sessionID string, fn func(w *pipeline.Work) error) error
}

// Handlers are the task handlers of this package.
type Handlers struct {
	Pipeline Processor
	Flows    *workflow.Engine
	Store    storage.Store
	// SessionTimeout is how long a session may be inactive before it ends.
	SessionTimeout time.Duration
	Logger         *slog.Logger
	// Now is the clock (time.Now).
	Now func() time.Time
}

func (h *Handlers) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Topics returns the handlers by queue topic.
func (h *Handlers) Topics() map[string]worker.TaskFunc {
	return map[string]worker.TaskFunc{
		workflow.TopicResume:   h.resume,
		workflow.TopicEventDue: h.eventDue,
		TopicSessionEnd:        h.sessionEnd,
	}
}

// process runs fn through the pipeline; a profile that no longer exists means there
// is nothing to do.
func (h *Handlers) process(ctx context.Context, what, profileID, sessionID string, fn func(w *pipeline.Work) error) error {
	err := h.Pipeline.Process(ctx, profileID, sessionID, fn)
	if err != nil && !worker.IsPermanent(err) && errors.Is(err, storage.ErrNotFound) {
		h.Logger.Info(what+"_dropped", "profile_id", profileID, "reason", "profile not found")
		return nil
	}
	if errors.Is(err, errNothing) {
		return nil
	}
	return err
}

var errNothing = errors.New("nothing to do")

func (h *Handlers) resume(ctx context.Context, j *storage.Job) error {
	c, err := workflow.DecodeContinuation(j.Payload)
	if err != nil {
		return worker.Permanent(err)
	}
	return h.process(ctx, "flow_resume", c.ProfileID, c.SessionID, func(w *pipeline.Work) error {
		t, err := h.Flows.Resume(ctx, w, c)
		if errors.Is(err, workflow.ErrFlowOff) {
			h.Logger.Info("flow_resume_dropped", "flow_id", c.FlowID, "key", c.Key, "reason", err.Error())
			return errNothing
		}
		if err != nil {
			return worker.Permanent(err)
		}
		h.Logger.Info("flow_resumed", "flow_id", c.FlowID, "version", c.Version, "node_id", c.Node, "profile_id", w.Profile.ID,
			"key", c.Key, "status", t.Status, "late_ms", time.Since(c.Due.Time).Milliseconds())
		return nil
	})
}

func (h *Handlers) eventDue(ctx context.Context, j *storage.Job) error {
	var se workflow.ScheduledEvent
	if err := json.Unmarshal(j.Payload, &se); err != nil || se.Event == nil || se.Event.ID == "" || se.Event.Profile.ID == "" {
		return worker.Permanent(fmt.Errorf("undecodable scheduled event (%v)", err))
	}
	ev := se.Event
	// A repeat after a crash between the commit and the acknowledgement finds the event
	// stored and does nothing.
	if got, err := h.Store.Events().Existing(ctx, []string{ev.ID}); err != nil {
		return err
	} else if got[ev.ID] {
		return nil
	}
	return h.process(ctx, "scheduled_event", ev.Profile.ID, ev.Session.ID, func(w *pipeline.Work) error {
		now := w.Now
		ev.Profile.ID = w.Profile.ID
		ev.Metadata.Time.Insert = now
		ev.Metadata.Status = domain.EventCollected
		if ev.Metadata.ProcessedBy.Rules == nil {
			ev.Metadata.ProcessedBy = domain.ProcessedBy{Rules: []string{}, Flows: []string{}}
		}
		w.AddEvent(ev, true)
		return nil
	})
}

// SessionCheck is the queue item that ends a session once it has been inactive for
// the session timeout.
type SessionCheck struct {
	Session string `json:"session_id"`
	Profile string `json:"profile_id"`
}

// SessionWork returns the work item that checks session s after timeout; n tells
// apart the checks of a session that ended and became active again.
func SessionWork(s *domain.Session, timeout time.Duration, n int64) *storage.WorkItem {
	b, _ := json.Marshal(SessionCheck{Session: s.ID, Profile: s.Profile.ID})
	return &storage.WorkItem{ID: "session-end:" + s.ID + ":" + strconv.FormatInt(n, 10), Topic: TopicSessionEnd, Payload: b, Delay: timeout}
}

func (h *Handlers) sessionEnd(ctx context.Context, j *storage.Job) error {
	var sc SessionCheck
	if err := json.Unmarshal(j.Payload, &sc); err != nil || sc.Session == "" || sc.Profile == "" {
		return worker.Permanent(fmt.Errorf("undecodable session check (%v)", err))
	}
	var wait time.Duration
	err := h.process(ctx, "session_end", sc.Profile, sc.Session, func(w *pipeline.Work) error {
		s := w.Session
		if s == nil || s.Metadata.Status == domain.SessionEnded {
			return errNothing // not stored, or ended already (a repeat after a crash)
		}
		last := s.Metadata.Time.Timestamp.Time.Add(time.Duration(s.Metadata.Time.Duration * float64(time.Second)))
		if idle := h.now().Sub(last); idle < h.SessionTimeout {
			wait = h.SessionTimeout - idle
			return errNothing
		}
		views, events := h.countViews(ctx, s.ID, append([]string{w.Profile.ID, sc.Profile}, w.Profile.IDs...))
		s.Metadata.Status = domain.SessionEnded
		pipeline.NewInternalEvent(w, EventVisitEnded, map[string]any{
			"session_id": s.ID, "profile_id": w.Profile.ID, "duration": s.Metadata.Time.Duration,
			"views": views, "events": events, "started": s.Metadata.Time.Timestamp.Time.UTC().Format(time.RFC3339Nano),
			"last_activity": last.UTC().Format(time.RFC3339Nano),
		})
		return nil
	})
	if err == nil && wait > 0 {
		return worker.Later(wait + time.Second)
	}
	return err
}

// countViews counts the session's page-view events and all its events (-1 when the
// store cannot say). The condition names the session's profile ids too (the profile's
// own, those merged into it, the one the check was queued for): the embedded store
// answers that from its events-by-profile index, where the session id alone would
// scan every event (a burst of session ends then starved /track of reads: TestSoak).
func (h *Handlers) countViews(ctx context.Context, sid string, profileIDs []string) (views, events int64) {
	views, events = -1, -1
	seen := make(map[string]bool, len(profileIDs))
	var ids []string
	for _, id := range profileIDs {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, strconv.Quote(id))
		}
	}
	base := "session.id == " + strconv.Quote(sid) + " AND profile.id == [" + strings.Join(ids, ", ") + "]"
	parse := query.ParseOptions{DefaultScope: "event", Scopes: []string{"event"}}.Parse
	if where, err := parse(base + ` AND type == "page-view"`); err == nil {
		if _, n, err := h.Store.Events().Search(ctx, storage.Query{Where: where}); err == nil {
			views = n
		}
	}
	if where, err := parse(base); err == nil {
		if _, n, err := h.Store.Events().Search(ctx, storage.Query{Where: where}); err == nil {
			events = n
		}
	}
	return views, events
}
