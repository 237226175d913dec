package events_test

import (
	"testing"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/events"
	"github.com/thamesthrive/thamesthrive/internal/workflow/workflowtest"
)

func TestNodes(t *testing.T) {
	workflowtest.Run(t, workflowtest.Env{}, []workflowtest.Case{
		{Name: "inject", Node: "inject-event", Config: `{"type": "VIP Purchase", "properties": {"total": "{{event@properties.price}}", "note": "p {{event@properties.price}}"}, "to": "memory@id"}`,
			Properties: map[string]any{"price": 150.0}, Output: map[string]any{"price": 150},
			Check: func(t *testing.T, r *workflowtest.Result) {
				if len(r.Effects.Injected) != 1 {
					t.Fatalf("injected %d events", len(r.Effects.Injected))
				}
				ev := r.Effects.Injected[0]
				if ev.Type != "vip-purchase" || ev.Properties["total"] != 150.0 || ev.Properties["note"] != "p 150" ||
					ev.Profile.ID != "p1" || ev.Session.ID != "s1" || ev.Source.ID != "web" || ev.ID == "" {
					t.Fatalf("event = %+v", ev)
				}
			}},
		{Name: "properties must be an object", Node: "inject-event", Config: `{"type": "x", "properties": "{{event@properties.price}}"}`,
			Properties: map[string]any{"price": 1.0}, Err: "must make an object"},
		{Name: "type required", Node: "inject-event", Config: `{}`, ConfigErr: "config.type: is required"},

		{Name: "response and ux", Node: "tracker-response", Config: `{"response": {"offer": "{{profile@traits.offer}}", "n": 2}, "ux": [{"tag": "div", "content": "Hi {{event@properties.name}}"}]}`,
			Properties: map[string]any{"name": "Ann"},
			Check: func(t *testing.T, r *workflowtest.Result) {
				if !workflowtest.JSONEqual(r.Effects.Response, map[string]any{"offer": nil, "n": 2}) {
					t.Fatalf("response = %v", r.Effects.Response)
				}
				if !workflowtest.JSONEqual(r.Effects.UX, []any{map[string]any{"tag": "div", "content": "Hi Ann"}}) {
					t.Fatalf("ux = %v", r.Effects.UX)
				}
			}},
		{Name: "something to say", Node: "tracker-response", Config: `{}`, ConfigErr: "give response keys or ux items"},
	})
}
