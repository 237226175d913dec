// Package timing holds the node types that act later: sleep (suspend the rest of a
// branch for a while) and schedule-event (an event processed at a later time). Both
// queue work in the durable work queue, committed with the request that ran the flow;
// workers carry it out when it is due (docs/workers.md, "Time in workflows").
package timing

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

const category = "Flow"

var maxDelaySeconds = workflow.MaxDelay.Seconds()

func init() {
	workflow.Register(workflow.Spec{
		ID: "sleep", Name: "Sleep (delay)", Category: category,
		Description: "Suspends the rest of the branch for a while, then passes the payload on, running against the profile as it is by then.",
		Doc: "The run's state (flow and deployed version, this node, the payload, `memory@`, the event, the profile " +
			"and session ids) is queued with the request's other writes, and a worker resumes the branch after " +
			"`duration` (at most 90 days, checked when the flow is saved): the nodes after this one run then, " +
			"against the profile and session as they are at that time, and their changes are stored like a /track " +
			"request's (under the profile's lock; segments and destinations follow). Other branches of the run do " +
			"not wait. The resumed part sees `event@` as the event was when the run began; changes to it are not " +
			"stored. In the debugger nothing sleeps: the node logs how long it would have slept and passes the " +
			"payload on at once, so the whole flow can be tried. A run of a flow that was never deployed cannot sleep.",
		Fields: []workflow.Field{
			workflow.DurationField("duration", "How long to wait: a duration such as 30s, 15m or 48h (at most 2160h, 90 days).").
				Req().Range(1, maxDelaySeconds).Ex("24h"),
		},
		Examples: []workflow.Example{{Title: "A day later", Config: `{"duration": "24h"}`}},
		New:      func() workflow.Action { return new(Sleep) },
	})
	workflow.Register(workflow.Spec{
		ID: "schedule-event", Name: "Schedule event", Category: "Events",
		Description: "Queues an event for the profile to be processed later, as if it was tracked then: rules for its type run at that time.",
		Doc: "Give either `delay` (a duration) or `at` (a template that makes an RFC 3339 time, such as " +
			"`{{profile@traits.renewal_date}}`); at most 90 days ahead. The event is made when this node runs " +
			"(its properties rendered then), stored and processed by a worker when it is due, through the whole " +
			"pipeline (rules, segments, destinations), with source `internal` and the run's session. " +
			"A time in the past processes it at once. In the debugger the event is only reported.",
		Fields: []workflow.Field{
			workflow.StringField("type", "The event's type.").Req().Range(1, 200).Ex("renewal-reminder"),
			workflow.ValueField("properties", "The event's properties: an object whose strings may be templates.").
				Def(map[string]any{}).Ex(map[string]any{"plan": "{{profile@traits.plan}}"}),
			workflow.DurationField("delay", "How long from now.").Range(0, maxDelaySeconds).Ex("72h"),
			workflow.TemplateField("at", "When: a template making an RFC 3339 time.").Ex("{{profile@traits.renewal_date}}"),
			workflow.RefField("to", "Where to store the new event's id.").Write().Ex("memory@scheduled_id"),
		},
		Examples: []workflow.Example{
			{Title: "Remind in three days", Config: `{"type": "reminder", "delay": "72h", "properties": {"cart": "{{event@properties.cart_id}}"}}`},
		},
		New: func() workflow.Action { return new(ScheduleEvent) },
	})
}

// Sleep suspends the rest of its branch.
type Sleep struct {
	Duration string `json:"duration"`
	d        time.Duration
}

// Validate implements workflow.Validator.
func (n *Sleep) Validate() error {
	d, err := time.ParseDuration(n.Duration)
	if err != nil || d <= 0 || d > workflow.MaxDelay {
		return workflow.FieldErrorf("duration", "must be a duration between 1s and %s (90 days)", workflow.MaxDelay)
	}
	n.d = d
	return nil
}

// Run implements workflow.Action.
func (n *Sleep) Run(ctx context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	if x.Debug() {
		x.Log(ctx, slog.LevelInfo, fmt.Sprintf("would sleep %s here (the debugger does not wait)", n.d))
		return workflow.Pass(x), nil
	}
	due, err := x.Suspend(n.d, workflow.DefaultPort, x.Payload())
	if err != nil {
		return nil, err
	}
	x.Log(ctx, slog.LevelDebug, "suspended until "+due.UTC().Format(time.RFC3339))
	return nil, nil
}

// ScheduleEvent queues an event for later.
type ScheduleEvent struct {
	Type       string            `json:"type"`
	Properties workflow.Value    `json:"properties"`
	Delay      string            `json:"delay"`
	At         workflow.Template `json:"at"`
	To         workflow.Ref      `json:"to"`
	d          time.Duration
}

// Validate implements workflow.Validator.
func (n *ScheduleEvent) Validate() error {
	hasAt := !n.At.IsZero()
	switch {
	case n.Delay != "" && hasAt:
		return workflow.FieldErrorf("at", "give delay or at, not both")
	case n.Delay == "" && !hasAt:
		return workflow.FieldErrorf("delay", "give delay or at")
	case n.Delay != "":
		d, err := time.ParseDuration(n.Delay)
		if err != nil || d < 0 || d > workflow.MaxDelay {
			return workflow.FieldErrorf("delay", "must be a duration between 0s and %s (90 days)", workflow.MaxDelay)
		}
		n.d = d
	}
	return nil
}

// Run implements workflow.Action.
func (n *ScheduleEvent) Run(ctx context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	props, ok := x.Resolve(n.Properties).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("properties must make an object")
	}
	delay := n.d
	if !n.At.IsZero() {
		s := strings.TrimSpace(x.Render(n.At))
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("at: %q is not an RFC 3339 time", s)
		}
		delay = max(time.Until(at), 0)
		if delay > workflow.MaxDelay {
			return nil, fmt.Errorf("at: %s is more than 90 days ahead", s)
		}
	}
	due := x.Now().Add(delay)
	ev := workflow.NewEvent(x.Event(), n.Type, props, due)
	ev.Source = domain.Ref{ID: pipeline.InternalSource}
	ev.Metadata.Channel = pipeline.InternalSource
	ev.Tags = domain.Tags{Values: []string{"scheduled"}, Count: 1}
	if ev.Profile.ID == "" {
		if id, ok := x.Get(workflow.Ref{Scope: workflow.ScopeProfile, Path: "id"}); ok {
			ev.Profile.ID, _ = id.(string)
		}
	}
	if x.Debug() {
		x.Log(ctx, slog.LevelInfo, fmt.Sprintf("would schedule a %s event for %s", ev.Type, due.UTC().Format(time.RFC3339)))
	} else if err := x.ScheduleEvent(ev, delay); err != nil {
		return nil, err
	}
	if !n.To.IsZero() {
		if err := x.Set(n.To, ev.ID); err != nil {
			return nil, err
		}
	}
	return workflow.Pass(x), nil
}

var (
	_ workflow.Validator = (*Sleep)(nil)
	_ workflow.Validator = (*ScheduleEvent)(nil)
)
