// Package control holds the node types that steer a flow and help debug it: if, log
// and throw-error. (start and end are core types of the workflow package.)
package control

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

func init() {
	workflow.Register(workflow.Spec{
		ID: "if", Name: "If", Category: "Flow",
		Description: "Sends the payload on to the true or the false port, depending on a condition.",
		Doc: "The condition is written in the condition language (the one segments and rules use) and can " +
			"look at every scope: `profile@`, `session@`, `event@`, `payload@`, `flow@` and `memory@`. " +
			"A field that does not exist makes a comparison false.",
		Fields: []workflow.Field{
			workflow.ConditionField("condition", "The condition to test.").Req().Ex("event@properties.price > 100"),
		},
		Outputs: []workflow.Port{
			{Name: "true", Description: "The payload, when the condition holds."},
			{Name: "false", Description: "The payload, when it does not."},
		},
		Examples: []workflow.Example{
			{Title: "Big orders", Config: `{"condition": "event@properties.price > 100"}`},
			{Title: "Returning mobile visitors", Config: `{"condition": "profile@stats.visits > 1 AND session@device.type == \"mobile\""}`},
		},
		New: func() workflow.Action { return new(If) },
	})
	workflow.Register(workflow.Spec{
		ID: "log", Name: "Log", Category: "Debugging",
		Description: "Writes a message to the server log and to the run's trace, and passes the payload on.",
		Fields: []workflow.Field{
			workflow.TemplateField("message", "The message; a template.").Req().Ex("order {{event@properties.order_id}} by {{profile@id}}"),
			workflow.StringField("level", "The log level.").OneOf("debug", "info", "warn", "error").Def("info"),
		},
		Examples: []workflow.Example{{Title: "Log an order", Config: `{"message": "order of {{event@properties.price}}", "level": "info"}`}},
		New:      func() workflow.Action { return new(Log) },
	})
	workflow.Register(workflow.Spec{
		ID: "throw-error", Name: "Throw error", Category: "Debugging", Outputs: workflow.NoPorts,
		Description: "Fails with the given message: the branch stops and the error is recorded in the run's trace.",
		Fields: []workflow.Field{
			workflow.TemplateField("message", "The error message; a template.").Req().Ex("no e-mail for {{profile@id}}"),
		},
		Examples: []workflow.Example{{Title: "Stop here", Config: `{"message": "profile has no e-mail"}`}},
		New:      func() workflow.Action { return new(ThrowError) },
	})
}

// If routes the payload by a condition.
type If struct {
	Condition workflow.Condition `json:"condition"`
}

// Run implements workflow.Action.
func (n *If) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	if x.Eval(n.Condition) {
		return workflow.Emit("true", x.Payload()), nil
	}
	return workflow.Emit("false", x.Payload()), nil
}

// Log logs a message.
type Log struct {
	Message workflow.Template `json:"message"`
	Level   string            `json:"level"`
}

// Run implements workflow.Action.
func (n *Log) Run(ctx context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(n.Level)) // the spec allows valid levels only
	x.Log(ctx, lvl, x.Render(n.Message))
	return workflow.Pass(x), nil
}

// ThrowError fails the branch.
type ThrowError struct {
	Message workflow.Template `json:"message"`
}

// Run implements workflow.Action.
func (n *ThrowError) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	msg := strings.TrimSpace(x.Render(n.Message))
	if msg == "" {
		msg = "error thrown by the flow"
	}
	return nil, errors.New(msg)
}

var (
	_ workflow.Action = (*If)(nil)
	_ workflow.Action = (*Log)(nil)
	_ workflow.Action = (*ThrowError)(nil)
)
