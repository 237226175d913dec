package domain

import "encoding/json"

// Rule says: events of EventType (optionally only from SourceID, optionally only when
// Condition holds) run the deployed version of flow FlowID.
type Rule struct {
	Meta
	EventType string `json:"event_type"`
	// SourceID limits the rule to one event source; empty means any source.
	SourceID string `json:"source_id,omitempty"`
	// Condition is a condition-language expression over the event, profile and
	// session; empty means always.
	Condition string `json:"condition,omitempty"`
	FlowID    string `json:"flow_id"`
}

// Flow is a workflow: a graph of action nodes. The entity holds the draft that the GUI
// edits; deployed versions are kept apart (see the workflow package), so that editing
// a draft never changes what runs in production.
type Flow struct {
	Meta
	Draft FlowGraph `json:"draft"`
}

// FlowGraph is a flow's nodes and the edges that carry values between their ports.
type FlowGraph struct {
	Nodes []FlowNode `json:"nodes"`
	Edges []FlowEdge `json:"edges"`
}

// FlowNode is one action in a flow. Type names a registered node type; Config is
// decoded (strictly) by that type.
type FlowNode struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Name     string          `json:"name,omitempty"`
	Config   json.RawMessage `json:"config,omitempty"`
	Position *Position       `json:"position,omitempty"`
}

// Position is where the GUI draws a node.
type Position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// FlowEdge connects an output port of one node to an input port of another.
type FlowEdge struct {
	ID         string `json:"id,omitempty"`
	Source     string `json:"source"`
	SourcePort string `json:"source_port"`
	Target     string `json:"target"`
	TargetPort string `json:"target_port"`
}

// Resource holds settings and credentials that workflow nodes refer to by id, such as
// an SMTP server for send-email, so that secrets are not copied into every flow.
type Resource struct {
	Meta
	Type   string         `json:"type"`
	Config map[string]any `json:"config"`
	// Secrets holds credentials (passwords, tokens): stored encrypted, answered masked.
	Secrets map[string]string `json:"secrets,omitempty" secret:"true"`
}
