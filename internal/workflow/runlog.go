package workflow

import (
	"slices"
	"sync"
)

// RunLog keeps the most recent traces of production runs, per flow, in memory. It is
// bounded twice: perFlow traces for each flow and maxFlows flows (the flow that ran
// least recently is forgotten first). Each process keeps its own log: with several
// replicas, GET /api/v1/flows/{id}/runs shows the runs of the replica that answers.
// Traces here are short: node ids, types, ports, durations and errors, but no inputs
// or outputs, so that no profile data is retained beyond the stores.
type RunLog struct {
	mu       sync.Mutex
	perFlow  int
	maxFlows int
	flows    map[string]*ring
	tick     uint64
}

type ring struct {
	items []*Trace
	next  int
	used  uint64
}

// NewRunLog returns a log keeping perFlow traces for each of at most maxFlows flows.
func NewRunLog(perFlow, maxFlows int) *RunLog {
	if perFlow <= 0 {
		perFlow = 50
	}
	if maxFlows <= 0 {
		maxFlows = 1000
	}
	return &RunLog{perFlow: perFlow, maxFlows: maxFlows, flows: map[string]*ring{}}
}

// Add records a trace. The log keeps t itself when no node of it holds an input or
// outputs (production runs keep none), else a copy without them: the caller must
// not change t afterwards.
func (l *RunLog) Add(t *Trace) {
	short := t
	if slices.ContainsFunc(t.Nodes, func(n NodeTrace) bool { return n.Input != nil || n.Outputs != nil }) {
		c := *t
		c.Nodes = make([]NodeTrace, len(t.Nodes))
		for i, n := range t.Nodes {
			n.Input, n.Outputs = nil, nil
			c.Nodes[i] = n
		}
		short = &c
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tick++
	r := l.flows[t.FlowID]
	if r == nil {
		if len(l.flows) >= l.maxFlows {
			l.evict()
		}
		r = &ring{items: make([]*Trace, 0, 4)}
		l.flows[t.FlowID] = r
	}
	r.used = l.tick
	if len(r.items) < l.perFlow {
		r.items = append(r.items, short)
		return
	}
	r.items[r.next] = short
	r.next = (r.next + 1) % l.perFlow
}

func (l *RunLog) evict() {
	oldest, id := ^uint64(0), ""
	for k, r := range l.flows {
		if r.used < oldest {
			oldest, id = r.used, k
		}
	}
	delete(l.flows, id)
}

// List returns up to limit traces of flowID, newest first.
func (l *RunLog) List(flowID string, limit int) []*Trace {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.flows[flowID]
	out := []*Trace{}
	if r == nil {
		return out
	}
	n := len(r.items)
	for i := 0; i < n && len(out) < limit; i++ {
		// The newest item sits just before next (next stays 0 while the ring fills).
		idx := (r.next - 1 - i + 2*n) % n
		out = append(out, r.items[idx])
	}
	return out
}

// Forget drops the traces of a flow (it was deleted).
func (l *RunLog) Forget(flowID string) {
	l.mu.Lock()
	delete(l.flows, flowID)
	l.mu.Unlock()
}
