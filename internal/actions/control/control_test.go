package control_test

import (
	"strings"
	"testing"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/control"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/workflow/workflowtest"
)

func TestNodes(t *testing.T) {
	vip := domain.NewProfile("vip", domain.Now())
	vip.Stats.Visits = 12
	workflowtest.Run(t, workflowtest.Env{}, []workflowtest.Case{
		{Name: "start emits the event's properties", Node: "start", Properties: map[string]any{"price": 5.0},
			Output: map[string]any{"price": 5}},
		{Name: "end emits nothing", Node: "end", Check: func(t *testing.T, r *workflowtest.Result) {
			if len(r.Node.Ports) != 0 {
				t.Fatalf("end emitted on %v", r.Node.Ports)
			}
		}},
		{Name: "true", Node: "if", Config: `{"condition": "event@properties.price > 100"}`,
			Properties: map[string]any{"price": 150.0}, Port: "true", Output: map[string]any{"price": 150}},
		{Name: "false", Node: "if", Config: `{"condition": "event@properties.price > 100"}`,
			Properties: map[string]any{"price": 50.0}, Port: "false"},
		{Name: "missing field is false", Node: "if", Config: `{"condition": "event@properties.price > 100"}`, Port: "false"},
		{Name: "profile and payload scopes", Node: "if", Config: `{"condition": "profile@stats.visits > 10 AND payload@tier == \"gold\""}`,
			Profile: vip, Payload: map[string]any{"tier": "gold"}, Port: "true"},
		{Name: "memory and flow scopes", Node: "if", Config: `{"condition": "memory@seen == true AND flow@id EXISTS"}`,
			Memory: map[string]any{"seen": true}, Port: "true"},
		{Name: "condition required", Node: "if", Config: `{}`, ConfigErr: "config.condition: is required"},
		{Name: "condition syntax error has a position", Node: "if", Config: `{"condition": "event@properties.price >"}`,
			ConfigErr: "config.condition: line 1, col"},
		{Name: "unknown field", Node: "if", Config: `{"condition": "event@x EXISTS", "else": 1}`, ConfigErr: "config.else: unknown field"},
		{Name: "wrong type", Node: "if", Config: `{"condition": 5}`, ConfigErr: "must be a string"},

		{Name: "log renders and passes on", Node: "log", Config: `{"message": "price {{event@properties.price}}", "level": "warn"}`,
			Properties: map[string]any{"price": 12.5}, Output: map[string]any{"price": 12.5},
			Check: func(t *testing.T, r *workflowtest.Result) {
				if len(r.Node.Logs) != 1 || r.Node.Logs[0] != "WARN: price 12.5" {
					t.Fatalf("logs = %q", r.Node.Logs)
				}
			}},
		{Name: "log level enum", Node: "log", Config: `{"message": "x", "level": "loud"}`, ConfigErr: "must be one of debug, info, warn, error"},
		{Name: "log bad template", Node: "log", Config: `{"message": "{{nope}}"}`, ConfigErr: "config.message: template"},

		{Name: "throw-error fails with the message", Node: "throw-error", Config: `{"message": "no e-mail for {{profile@id}}"}`,
			Err: "no e-mail for p1", Check: func(t *testing.T, r *workflowtest.Result) {
				if r.Trace.Status != "failed" || !strings.Contains(r.Trace.Error, `node "n" (throw-error)`) {
					t.Fatalf("trace %s %q", r.Trace.Status, r.Trace.Error)
				}
			}},
	})
}
