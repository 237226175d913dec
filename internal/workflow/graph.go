package workflow

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Graph limits, checked when a flow is saved.
const (
	MaxNodes = 500
	MaxEdges = 2000
)

// GraphError is a validation error of a flow graph, naming the field at fault
// ("draft.nodes[n2].config.condition"). It is storage.ErrInvalid, so the API answers
// it with 400.
type GraphError struct {
	Field string
	Msg   string
}

func (e *GraphError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap classifies the error as invalid input.
func (e *GraphError) Unwrap() error { return storage.ErrInvalid }

// CompileOptions shape Compile.
type CompileOptions struct {
	// Prefix is put before field names in errors ("draft").
	Prefix string
	// RequireStart fails a graph without a start node (deploying, debugging).
	RequireStart bool
	// Provision is handed to nodes that provision resources.
	Provision Provision
	Limits    Limits
}

var nodeIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

// Program is a compiled, validated flow graph, ready to run any number of times
// concurrently.
type Program struct {
	FlowID   string
	FlowName string
	Version  int64 // deployed version; 0 for a draft
	nodes    []*cnode
	limits   Limits

	refs        atomic.Int64
	cleanupOnce sync.Once
}

type cnode struct {
	id     string
	typ    string
	spec   *Spec
	action Action
	index  int
	in     []*cedge
	out    map[string][]*cedge
	// ports holds a one-name list for each of the node's port names, shared by the
	// traces of its runs (length = capacity, so appending to one copies it).
	ports map[string][]string
}

// portList returns the list of one port name, shared when the node has that port.
func (n *cnode) portList(name string) []string {
	if l, ok := n.ports[name]; ok {
		return l
	}
	return []string{name}
}

type cedge struct {
	from, to         *cnode
	fromPort, toPort string
}

// Compile validates g against the registry and builds a Program. Errors are
// *GraphError naming the node id and field.
func Compile(ctx context.Context, reg *Registry, g domain.FlowGraph, o CompileOptions) (*Program, error) {
	pfx := o.Prefix
	if pfx != "" {
		pfx += "."
	}
	gerr := func(field, format string, args ...any) error {
		return &GraphError{Field: pfx + field, Msg: fmt.Sprintf(format, args...)}
	}
	if len(g.Nodes) > MaxNodes {
		return nil, gerr("nodes", "a flow has at most %d nodes", MaxNodes)
	}
	if len(g.Edges) > MaxEdges {
		return nil, gerr("edges", "a flow has at most %d edges", MaxEdges)
	}
	p := &Program{limits: o.Limits.withDefaults()}
	p.refs.Store(1)
	byID := make(map[string]*cnode, len(g.Nodes))
	fail := func(err error) (*Program, error) {
		p.cleanup()
		return nil, err
	}
	starts := 0
	for i, n := range g.Nodes {
		where := fmt.Sprintf("nodes[%s]", n.ID)
		if !nodeIDRE.MatchString(n.ID) {
			return fail(gerr(fmt.Sprintf("nodes[%d].id", i), "must be 1-128 letters, digits, '_', '-', '.' or ':'"))
		}
		if byID[n.ID] != nil {
			return fail(gerr(where+".id", "node id %q is used twice", n.ID))
		}
		spec, ok := reg.Lookup(n.Type)
		if !ok {
			return fail(gerr(where+".type", "unknown node type %q", n.Type))
		}
		act, err := spec.decode(ctx, n.Config, &o.Provision)
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				field := where + ".config"
				if fe.Field != "" {
					field += "." + fe.Field
				}
				return fail(gerr(field, "%s", fe.Msg))
			}
			return fail(gerr(where+".config", "%v", err))
		}
		cn := &cnode{id: n.ID, typ: n.Type, spec: spec, action: act, out: map[string][]*cedge{}}
		byID[n.ID] = cn
		p.nodes = append(p.nodes, cn)
		if spec.Start {
			starts++
		}
	}
	type key struct{ a, ap, b, bp string }
	seen := map[key]bool{}
	for i, e := range g.Edges {
		where := fmt.Sprintf("edges[%d]", i)
		from, to := byID[e.Source], byID[e.Target]
		switch {
		case from == nil:
			return fail(gerr(where+".source", "no node %q", e.Source))
		case to == nil:
			return fail(gerr(where+".target", "no node %q", e.Target))
		case !hasPort(from.spec.OutputPorts(), e.SourcePort):
			return fail(gerr(where+".source_port", "node %q (%s) has no output port %q; its output ports: %s",
				from.id, from.typ, e.SourcePort, portNames(from.spec.OutputPorts())))
		case !hasPort(to.spec.InputPorts(), e.TargetPort):
			return fail(gerr(where+".target_port", "node %q (%s) has no input port %q; its input ports: %s",
				to.id, to.typ, e.TargetPort, portNames(to.spec.InputPorts())))
		}
		k := key{e.Source, e.SourcePort, e.Target, e.TargetPort}
		if seen[k] {
			return fail(gerr(where, "repeats an earlier edge from %s.%s to %s.%s", e.Source, e.SourcePort, e.Target, e.TargetPort))
		}
		seen[k] = true
		ce := &cedge{from: from, to: to, fromPort: e.SourcePort, toPort: e.TargetPort}
		from.out[e.SourcePort] = append(from.out[e.SourcePort], ce)
		to.in = append(to.in, ce)
	}
	if o.RequireStart && starts == 0 {
		return fail(gerr("nodes", "a flow needs a start node"))
	}
	order, cyc := topoSort(p.nodes)
	if cyc != nil {
		idx := 0
		for i, e := range g.Edges {
			if e.Source == cyc[len(cyc)-2] && e.Target == cyc[len(cyc)-1] {
				idx = i
				break
			}
		}
		return fail(gerr(fmt.Sprintf("edges[%d]", idx), "edge from node %q to node %q closes a cycle: %s",
			cyc[len(cyc)-2], cyc[len(cyc)-1], strings.Join(cyc, " → ")))
	}
	p.nodes = order
	for i, n := range p.nodes {
		n.index = i
		n.ports = map[string][]string{}
		for _, port := range n.spec.OutputPorts() {
			n.ports[port.Name] = []string{port.Name}
		}
		for _, port := range n.spec.InputPorts() {
			n.ports[port.Name] = []string{port.Name}
		}
	}
	return p, nil
}

// topoSort orders nodes so that every edge points forward, keeping the given order
// among independent nodes. On a cycle it returns the node ids around it, the first
// repeated at the end.
func topoSort(nodes []*cnode) ([]*cnode, []string) {
	indeg := make(map[*cnode]int, len(nodes))
	for _, n := range nodes {
		for _, es := range n.out {
			for _, e := range es {
				indeg[e.to]++
			}
		}
	}
	order := make([]*cnode, 0, len(nodes))
	done := make(map[*cnode]bool, len(nodes))
	for len(order) < len(nodes) {
		progressed := false
		for _, n := range nodes {
			if done[n] || indeg[n] > 0 {
				continue
			}
			done[n] = true
			order = append(order, n)
			progressed = true
			for _, es := range n.out {
				for _, e := range es {
					indeg[e.to]--
				}
			}
			break // restart from the top to keep the given order stable
		}
		if !progressed {
			return nil, findCycle(nodes, done)
		}
	}
	return order, nil
}

func findCycle(nodes []*cnode, done map[*cnode]bool) []string {
	const (
		white = iota
		grey
		black
	)
	color := map[*cnode]int{}
	var stack []*cnode
	var cycle []string
	var visit func(n *cnode) bool
	visit = func(n *cnode) bool {
		color[n] = grey
		stack = append(stack, n)
		for _, port := range sortedPorts(n) {
			for _, e := range n.out[port] {
				switch color[e.to] {
				case grey:
					for i, s := range stack {
						if s == e.to {
							for _, c := range stack[i:] {
								cycle = append(cycle, c.id)
							}
							cycle = append(cycle, e.to.id)
							return true
						}
					}
				case white:
					if visit(e.to) {
						return true
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return false
	}
	for _, n := range nodes {
		if !done[n] && color[n] == white && visit(n) {
			return cycle
		}
	}
	return []string{"?", "?"}
}

func sortedPorts(n *cnode) []string {
	var ports []string
	for _, p := range n.spec.OutputPorts() {
		ports = append(ports, p.Name)
	}
	return ports
}

// acquire and release count the runs using the program; the cache holds one
// reference. The last release cleans the nodes up.
func (p *Program) acquire() { p.refs.Add(1) }

func (p *Program) release() {
	if p.refs.Add(-1) == 0 {
		p.cleanup()
	}
}

func (p *Program) cleanup() {
	p.cleanupOnce.Do(func() {
		for _, n := range p.nodes {
			if c, ok := n.action.(CleanerUpper); ok {
				c.Cleanup()
			}
		}
	})
}

// Close releases the caller's reference (the one Compile returned with).
func (p *Program) Close() { p.release() }
