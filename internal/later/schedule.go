package later

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/worker"
)

// TopicScheduleRun is the queue topic of scheduled flow runs (one job per due time,
// then one per page of a segment's members).
const TopicScheduleRun = "schedule-run"

// EventScheduled is the type of the event a scheduled run starts from (not stored).
const EventScheduled = "scheduled-run"

// SchedulePage is how many segment members one job of a scheduled run handles.
const SchedulePage = 100

// scheduleJob is one job of a scheduled run: the schedule as it was when it fired,
// its due time, and for a segment run where the walk of the members goes on.
type scheduleJob struct {
	Schedule string `json:"schedule_id"`
	Due      int64  `json:"due"` // unix milliseconds
	FlowID   string `json:"flow_id"`
	Target   string `json:"target"`
	Segment  string `json:"segment_id,omitempty"`
	After    string `json:"after,omitempty"` // the last profile id handled
	Done     int    `json:"done"`            // profiles handled so far
}

func (j *scheduleJob) item() *storage.WorkItem {
	b, _ := json.Marshal(j)
	return &storage.WorkItem{ID: "schedule:" + j.Schedule + ":" + strconv.FormatInt(j.Due, 10) + ":" + j.After, Topic: TopicScheduleRun, Payload: b}
}

// ScheduleState is what the scheduler keeps per schedule (entity schedule-state).
type ScheduleState struct {
	LastDue int64 `json:"last_due"` // unix milliseconds of the last due time fired
}

// Scheduler fires due schedules: for each enabled schedule whose next due time
// (after the last one fired, or after its creation) has come, it queues one job under
// a key made of the schedule id and the due time. Queue puts the job at most once per
// key (on Redis: SET NX of the key with the XADD, one script; on the embedded store:
// INSERT OR IGNORE in the single process), so any number of workers may run a
// Scheduler and a due time fires once. Missed due times (no worker ran) are not made
// up, except the latest.
type Scheduler struct {
	Entities storage.Entities
	// Queue queues jobs, each at most once per id.
	Queue  func(ctx context.Context, items []*storage.WorkItem) error
	Logger *slog.Logger
	// Interval between looks at the schedules (1s).
	Interval time.Duration
	Now      func() time.Time
}

// Run fires due schedules until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	iv := s.Interval
	if iv <= 0 {
		iv = time.Second
	}
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Warn("schedules_unreadable", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(iv):
		}
	}
}

// Tick fires the schedules that are due now.
func (s *Scheduler) Tick(ctx context.Context) error {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	ents, _, err := s.Entities.List(ctx, domain.EntitySchedule, storage.ListOptions{Page: storage.Page{Limit: 10000}})
	if err != nil {
		return err
	}
	for _, ent := range ents {
		var sc domain.Schedule
		if json.Unmarshal(ent.Doc, &sc) != nil || !sc.Enabled {
			continue
		}
		c, err := ParseCron(sc.Cron)
		if err != nil {
			continue
		}
		st, err := loadScheduleState(ctx, s.Entities, sc.ID)
		if err != nil {
			return err
		}
		base := sc.Updated.Time
		if st.LastDue > 0 {
			base = time.UnixMilli(st.LastDue)
		}
		due := c.Next(base)
		if due.IsZero() || due.After(now) {
			continue
		}
		for i := 0; i < 1000; i++ { // the latest due time that has come
			next := c.Next(due)
			if next.IsZero() || next.After(now) {
				break
			}
			due = next
		}
		j := &scheduleJob{Schedule: sc.ID, Due: due.UnixMilli(), FlowID: sc.FlowID, Target: sc.Target, Segment: sc.SegmentID}
		if err := s.Queue(ctx, []*storage.WorkItem{j.item()}); err != nil {
			return fmt.Errorf("queueing schedule %s: %w", sc.ID, err)
		}
		if err := saveScheduleState(ctx, s.Entities, sc.ID, ScheduleState{LastDue: j.Due}); err != nil {
			return err
		}
		s.Logger.Info("schedule_fired", "schedule_id", sc.ID, "due", due.UTC().Format(time.RFC3339Nano), "flow_id", sc.FlowID, "target", sc.Target)
	}
	return nil
}

func loadScheduleState(ctx context.Context, ents storage.Entities, id string) (ScheduleState, error) {
	var st ScheduleState
	ent, err := ents.Get(ctx, domain.EntityScheduleState, id)
	if errors.Is(err, storage.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	_ = json.Unmarshal(ent.Doc, &st)
	return st, nil
}

// saveScheduleState records a due time fired; a later one recorded by another worker
// is kept.
func saveScheduleState(ctx context.Context, ents storage.Entities, id string, st ScheduleState) error {
	for try := 0; try < 5; try++ {
		ver := int64(0)
		ent, err := ents.Get(ctx, domain.EntityScheduleState, id)
		switch {
		case err == nil:
			var cur ScheduleState
			_ = json.Unmarshal(ent.Doc, &cur)
			if cur.LastDue >= st.LastDue {
				return nil
			}
			ver = ent.Version
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		doc, _ := json.Marshal(st)
		if _, err = ents.Put(ctx, &storage.Entity{Kind: domain.EntityScheduleState, ID: id, Doc: doc}, ver); !errors.Is(err, storage.ErrConflict) {
			return err
		}
	}
	return nil
}

// ScheduleRuns carries out the jobs of scheduled runs.
type ScheduleRuns struct {
	*Handlers
	// Queue queues the job of the next page of a segment run.
	Queue func(ctx context.Context, items []*storage.WorkItem) error
}

// Run is the task handler of TopicScheduleRun.
func (h *ScheduleRuns) Run(ctx context.Context, job *storage.Job) error {
	var j scheduleJob
	if err := json.Unmarshal(job.Payload, &j); err != nil || j.Schedule == "" || j.FlowID == "" {
		return worker.Permanent(fmt.Errorf("undecodable scheduled run (%v)", err))
	}
	ev := &domain.Event{ID: pipeline.NewID(), Type: EventScheduled, Name: "scheduled run",
		Source:     domain.Ref{ID: pipeline.InternalSource},
		Properties: map[string]any{"schedule_id": j.Schedule, "due": time.UnixMilli(j.Due).UTC().Format(time.RFC3339Nano)},
		Traits:     map[string]any{}, Context: map[string]any{}, Tags: domain.Tags{Values: []string{"scheduled"}, Count: 1}}
	ev.Metadata.Time.Insert, ev.Metadata.Time.Create = domain.Now(), domain.NewTime(time.UnixMilli(j.Due))
	ev.Metadata.Channel, ev.Metadata.Status = pipeline.InternalSource, domain.EventCollected
	ev.Metadata.ProcessedBy = domain.ProcessedBy{Rules: []string{}, Flows: []string{}}
	if j.Target != domain.ScheduleSegment {
		t, err := h.Flows.RunFlow(ctx, nil, j.FlowID, ev)
		if err != nil {
			return err
		}
		status := "not run (flow disabled or not deployed)"
		if t != nil {
			status = t.Status
		}
		h.Logger.Info("schedule_ran", "schedule_id", j.Schedule, "flow_id", j.FlowID, "status", status)
		return nil
	}
	seg, err := h.Store.Entities().Get(ctx, domain.EntitySegment, j.Segment)
	if errors.Is(err, storage.ErrNotFound) {
		return worker.Permanent(fmt.Errorf("schedule %s: segment %q does not exist", j.Schedule, j.Segment))
	}
	if err != nil {
		return err
	}
	var sg domain.Segment
	if err := json.Unmarshal(seg.Doc, &sg); err != nil {
		return worker.Permanent(err)
	}
	where, err := query.ParseOptions{DefaultScope: "profile", Scopes: []string{"profile"}}.Parse("segments CONTAINS " + strconv.Quote(sg.MachineName))
	if err != nil {
		return worker.Permanent(err)
	}
	ps, err := h.Store.Profiles().Scan(ctx, where, j.After, SchedulePage)
	if err != nil {
		return err
	}
	for _, p := range ps {
		pev := *ev
		pev.ID = pipeline.NewID()
		pev.Profile = domain.Ref{ID: p.ID}
		err := h.process(ctx, "scheduled_run", p.ID, "", func(w *pipeline.Work) error {
			_, err := h.Flows.RunFlow(ctx, w, j.FlowID, &pev)
			return err
		})
		if err != nil {
			return err // the page runs again (its profiles done so far, too)
		}
	}
	if len(ps) == 0 {
		h.Logger.Info("schedule_ran", "schedule_id", j.Schedule, "flow_id", j.FlowID, "segment_id", j.Segment, "profiles", j.Done)
		return nil
	}
	next := j
	next.After, next.Done = ps[len(ps)-1].ID, j.Done+len(ps)
	return h.Queue(ctx, []*storage.WorkItem{next.item()})
}
