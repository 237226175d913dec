// Package workflow owns ThamesThrive's workflows (docs/workflows.md): the registry
// of action node types and their config specs, the compilation and validation of flow
// graphs, their execution with limits and traces, rules that start flows from events
// (as a pipeline stage of the collector), deployed versions of flows, the debugger and
// the bounded log of recent runs.
//
// # Nodes
//
// A node type registers a Spec in init(): an id, a category, a description, a config
// spec (fields with type, default, description, example, required/advanced flags,
// enums), its input and output ports, documentation and examples. From the spec come
// the JSON Schema the GUI builds its forms from (GET /api/v1/flow-nodes), the
// catalogue in docs/workflows.md and the validation of configs. As with Caddy modules,
// a node's config is decoded strictly into the value returned by Spec.New (unknown
// fields are an error, after the spec has checked types, enums and required fields
// and filled defaults), then Provision(ctx) and Validate() run when implemented, and
// Cleanup() runs when the compiled flow is dropped, even when provisioning failed.
//
// # Execution
//
// A compiled flow (Program) is a directed acyclic graph. Nodes run one at a time in a
// topological order. Start nodes receive the initial payload (the event's
// properties); every other node runs once, after all of its upstream nodes have run
// or been skipped, when at least one value reached one of its input ports (a join:
// several values arriving are merged, see Input). Values travel along edges from the
// output port a node emitted on. A node that fails stops its branch only: the error is
// recorded in the trace and the rest of the flow goes on. A run stops at MaxSteps
// executed nodes or MaxDuration of wall time.
//
// Nodes read and write the profile, session, event, the run's memory and the payload
// through references written scope@dotted.path and templates ("Hello
// {{profile@data.pii.firstname}}"). The profile, session and event are turned into
// JSON-like documents lazily, the first time a run looks at them; each write is checked
// against the typed model (stats.visits stays a number) and identity fields (ids,
// metadata) are read-only. After the runs of a request, changed top-level fields are
// decoded back into the typed objects, which the collector then stores with the rest
// of the request.
package workflow
