package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// DebugRequest is what POST /api/v1/flows/{id}/debug takes: an event given inline
// (with an optional profile_id and session_id to run against), or the id of a stored
// event (whose profile and session are used). Draft, when given, is run instead of
// the stored draft (the GUI's unsaved edits).
type DebugRequest struct {
	Event     json.RawMessage   `json:"event,omitempty"`
	EventID   string            `json:"event_id,omitempty"`
	ProfileID string            `json:"profile_id,omitempty"`
	SessionID string            `json:"session_id,omitempty"`
	Draft     *domain.FlowGraph `json:"draft,omitempty"`
}

// DebugResult is the debugger's answer: the full trace, what the run would change in
// the profile, session and event, and the effects it asked for. Nothing is stored.
type DebugResult struct {
	Trace       *Trace   `json:"trace"`
	ProfileID   string   `json:"profile_id"`
	ProfileDiff []Change `json:"profile_diff"`
	SessionDiff []Change `json:"session_diff"`
	EventDiff   []Change `json:"event_diff"`
	*Recorder
}

// Debug runs a flow's draft against an event without storing anything. Outbound
// nodes (webhook, send-email) do make their calls: that is what one debugs them for.
func (e *Engine) Debug(ctx context.Context, flowID string, req DebugRequest) (*DebugResult, error) {
	f, err := e.LoadFlow(ctx, flowID)
	if err != nil {
		return nil, err
	}
	graph, prefix := f.Draft, "draft"
	if req.Draft != nil {
		graph = *req.Draft
	}
	prog, err := e.Compile(ctx, flowID, graph, prefix, true)
	if err != nil {
		return nil, err
	}
	defer prog.Close()
	prog.FlowID, prog.FlowName = flowID, f.Name

	ev, prof, sess, err := e.debugSubjects(ctx, req)
	if err != nil {
		return nil, err
	}
	docs := NewDocs(prof, sess, ev)
	before := [3]map[string]any{cloneMap(docs.profile.load()), cloneMap(docs.session.load()), cloneMap(docs.event.load())}
	rec := NewRecorder()
	t := prog.run(ctx, RunInput{Profile: prof, Session: sess, Event: ev, Effects: rec, Debug: true, Logger: e.log, docs: docs})
	return &DebugResult{Trace: t, ProfileID: prof.ID, Recorder: rec,
		ProfileDiff: Diff(before[0], docs.profile.load()),
		SessionDiff: Diff(before[1], docs.session.load()),
		EventDiff:   Diff(before[2], docs.event.load()),
	}, nil
}

func cloneMap(m map[string]any) map[string]any { return cloneJSON(m).(map[string]any) }

func invalidf(field, format string, args ...any) error {
	return &GraphError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// debugSubjects finds or builds the event, profile and session of a debug run. The
// profile and session are fresh copies from the store, never the pipeline's cached
// objects, so the run cannot change what /track sees.
func (e *Engine) debugSubjects(ctx context.Context, req DebugRequest) (*domain.Event, *domain.Profile, *domain.Session, error) {
	var ev *domain.Event
	switch {
	case req.EventID != "" && len(req.Event) > 0:
		return nil, nil, nil, invalidf("event_id", "give either event or event_id, not both")
	case req.EventID != "":
		stored, err := e.store.Events().Get(ctx, req.EventID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil, nil, invalidf("event_id", "there is no event %q", req.EventID)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		ev = stored
	case len(req.Event) > 0:
		ev = &domain.Event{}
		dec := json.NewDecoder(bytes.NewReader(req.Event))
		dec.DisallowUnknownFields()
		if err := dec.Decode(ev); err != nil {
			return nil, nil, nil, invalidf("event", "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		ev.Type = domain.NormalizeEventType(ev.Type)
		if ev.Type == "" {
			return nil, nil, nil, invalidf("event.type", "is required")
		}
		if ev.ID == "" {
			ev.ID = "debug-" + uuid.NewString()
		}
		now := domain.NewTime(time.Now())
		if ev.Metadata.Time.Insert.IsZero() {
			ev.Metadata.Time.Insert = now
		}
		if ev.Metadata.Time.Create.IsZero() {
			ev.Metadata.Time.Create = now
		}
		if ev.Metadata.Status == "" {
			ev.Metadata.Status = domain.EventCollected
		}
		if ev.Properties == nil {
			ev.Properties = map[string]any{}
		}
		if ev.Source.ID == "" {
			ev.Source.ID = "debugger"
		}
	default:
		return nil, nil, nil, invalidf("event", "give an event or an event_id")
	}
	ev.Metadata.ProcessedBy = domain.ProcessedBy{Rules: []string{}, Flows: []string{}}

	pid := req.ProfileID
	if pid == "" {
		pid = ev.Profile.ID
	}
	var prof *domain.Profile
	if pid != "" {
		p, err := e.resolveProfile(ctx, pid)
		switch {
		case err == nil:
			prof = p
		case errors.Is(err, storage.ErrNotFound):
			if req.ProfileID != "" {
				return nil, nil, nil, invalidf("profile_id", "there is no profile %q", req.ProfileID)
			}
		default:
			return nil, nil, nil, err
		}
	}
	if prof == nil {
		if pid == "" {
			pid = "debug-" + uuid.NewString()
		}
		prof = domain.NewProfile(pid, domain.Now())
	}
	prof.Normalize()
	ev.Profile.ID = prof.ID

	sid := req.SessionID
	if sid == "" {
		sid = ev.Session.ID
	}
	var sess *domain.Session
	if sid != "" {
		s, err := e.store.Sessions().Get(ctx, sid)
		switch {
		case err == nil:
			sess = s
		case errors.Is(err, storage.ErrNotFound):
			if req.SessionID != "" {
				return nil, nil, nil, invalidf("session_id", "there is no session %q", req.SessionID)
			}
		default:
			return nil, nil, nil, err
		}
	}
	if sess == nil {
		if sid == "" {
			sid = "debug-" + uuid.NewString()
		}
		now := domain.Now()
		sess = &domain.Session{ID: sid, Profile: domain.Ref{ID: prof.ID}, Context: map[string]any{}, Properties: map[string]any{},
			Metadata: domain.SessionMetadata{Time: domain.SessionTime{Insert: now, Timestamp: now}, Status: domain.SessionStarted}}
	}
	ev.Session.ID = sess.ID
	return ev, prof, sess, nil
}

func (e *Engine) resolveProfile(ctx context.Context, id string) (*domain.Profile, error) {
	for hops := 0; ; hops++ {
		p, err := e.store.Profiles().Get(ctx, id)
		if err != nil || !p.Merged() || hops >= 16 {
			return p, err
		}
		id = p.Metadata.MergedInto
	}
}
