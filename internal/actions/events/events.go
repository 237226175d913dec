// Package events holds node types that talk to the request a flow runs in: injecting
// events into it and adding to the tracker's response.
package events

import (
	"context"
	"fmt"
	"sort"

	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

const category = "Events"

func init() {
	workflow.Register(workflow.Spec{
		ID: "inject-event", Name: "Inject event", Category: category,
		Description: "Adds a new event to the request, of the same source, session and profile; rules for its type run on it too.",
		Doc: "The event goes through the rest of the pipeline with the request's own events. Chains of injected " +
			"events that trigger flows that inject events stop after a few levels (MaxInjectDepth, 3). " +
			"With `process: false` the event is added without running rules.",
		Fields: []workflow.Field{
			workflow.StringField("type", "The event's type.").Req().Range(1, 200).Ex("vip-purchase"),
			workflow.ValueField("properties", "The event's properties: an object whose strings may be templates.").
				Def(map[string]any{}).Ex(map[string]any{"total": "{{event@properties.price}}"}),
			workflow.BoolField("process", "Run rules for the new event.").Def(true),
			workflow.RefField("to", "Where to store the new event's id.").Write().Ex("memory@injected_id"),
		},
		Examples: []workflow.Example{{Title: "Signal a VIP purchase", Config: `{"type": "vip-purchase", "properties": {"total": "{{event@properties.price}}"}}`}},
		New:      func() workflow.Action { return new(Inject) },
	})
	workflow.Register(workflow.Spec{
		ID: "tracker-response", Name: "Tracker response", Category: category,
		Description: "Adds keys to the `response` object of the /track answer and items to its `ux` list, for the site's tracker to act on.",
		Fields: []workflow.Field{
			workflow.MapField("response", workflow.TypeString, workflow.TypeValue, "Keys to set in the response; values may be templates.").
				Ex(map[string]any{"offer": "{{profile@traits.offer}}"}),
			workflow.ListField("ux", workflow.TypeValue, "Items to append to ux.").Range(0, 50).
				Ex([]any{map[string]any{"tag": "div", "props": map[string]any{"class": "banner"}, "content": "Welcome back"}}),
		},
		Examples: []workflow.Example{
			{Title: "Tell the site about an offer", Config: `{"response": {"offer": "{{profile@traits.offer}}", "segment": "big-spender"}}`},
		},
		New: func() workflow.Action { return new(Response) },
	})
}

// Inject adds an event to the request.
type Inject struct {
	Type       string         `json:"type"`
	Properties workflow.Value `json:"properties"`
	Process    bool           `json:"process"`
	To         workflow.Ref   `json:"to"`
}

// Run implements workflow.Action.
func (n *Inject) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	props, ok := x.Resolve(n.Properties).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("properties must make an object")
	}
	ev := workflow.NewEvent(x.Event(), n.Type, props, x.Now())
	x.Effects().Inject(ev, n.Process)
	if !n.To.IsZero() {
		if err := x.Set(n.To, ev.ID); err != nil {
			return nil, err
		}
	}
	return workflow.Pass(x), nil
}

// Response adds to the tracker's response.
type Response struct {
	Response map[string]workflow.Value `json:"response"`
	UX       []workflow.Value          `json:"ux"`
}

// Validate implements workflow.Validator.
func (n *Response) Validate() error {
	if len(n.Response) == 0 && len(n.UX) == 0 {
		return workflow.FieldErrorf("response", "give response keys or ux items")
	}
	return nil
}

// Run implements workflow.Action.
func (n *Response) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	keys := make([]string, 0, len(n.Response))
	for k := range n.Response {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		x.Effects().Respond(k, x.Resolve(n.Response[k]))
	}
	for _, u := range n.UX {
		x.Effects().AddUX(x.Resolve(u))
	}
	return workflow.Pass(x), nil
}

var (
	_ workflow.Action    = (*Inject)(nil)
	_ workflow.Action    = (*Response)(nil)
	_ workflow.Validator = (*Response)(nil)
)
