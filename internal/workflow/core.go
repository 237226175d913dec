package workflow

import "context"

// The core node types every registry has: the engine gives start nodes the initial
// payload, and end nodes close a branch.

const corePkg = "github.com/thamesthrive/thamesthrive/internal/workflow"

func coreSpecs() []Spec {
	return []Spec{
		{
			ID: "start", Name: "Start", Category: "Flow", Start: true,
			Description: "Where a run begins: emits the initial payload, a copy of the triggering event's properties.",
			Doc: "Every flow that is deployed or debugged needs at least one start node. A flow with several " +
				"start nodes runs all of them.",
			Examples: []Example{{Title: "Start", Config: `{}`}},
			New:      func() Action { return new(Start) },
			pkg:      corePkg,
		},
		{
			ID: "end", Name: "End", Category: "Flow", Outputs: NoPorts,
			Description: "Closes a branch. It does nothing; it makes the end of a flow explicit in the editor.",
			Examples:    []Example{{Title: "End", Config: `{}`}},
			New:         func() Action { return new(End) },
			pkg:         corePkg,
		},
	}
}

// Start is the start node.
type Start struct{}

// Run emits the initial payload.
func (*Start) Run(_ context.Context, x *Exec, in Input) ([]Out, error) {
	return Emit(DefaultPort, in.Payload), nil
}

// End is the end node.
type End struct{}

// Run emits nothing.
func (*End) Run(context.Context, *Exec, Input) ([]Out, error) { return nil, nil }

var (
	_ Action = (*Start)(nil)
	_ Action = (*End)(nil)
)
