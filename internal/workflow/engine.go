package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/cache"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Config configures an Engine.
type Config struct {
	Limits Limits
	// CacheTTL bounds how long rules and deployed flows are cached; changes made
	// through this process apply at once, changes made through another replica
	// within the TTL. Default 5s.
	CacheTTL time.Duration
	// RunsPerFlow and RunLogFlows bound the log of recent runs (default 50 and 1000).
	RunsPerFlow int
	RunLogFlows int
	// MaxInjectDepth bounds chains of events injected by flows that trigger flows
	// that inject events (default 3).
	MaxInjectDepth int
	// MaxVersions is how many deployed versions of a flow are kept (default 50).
	MaxVersions int
}

// Deps are the services the engine uses.
type Deps struct {
	Store    storage.Store
	Registry *Registry // default: Default
	Outbound *netguard.Guard
	Logger   *slog.Logger
	// Secrets opens the sealed secrets of resources for the nodes that use them.
	Secrets SecretOpener
}

// SecretOpener decrypts, in place, the sealed secret fields of a value (secrets.Box).
type SecretOpener interface {
	OpenFields(v any) error
}

// Engine runs rules and flows. It is the collector stage of pipeline step 7, and the
// service behind the rules and flows API (validation, deployment, versions, debugger,
// recent runs).
type Engine struct {
	cfg   Config
	store storage.Store
	reg   *Registry
	guard *netguard.Guard
	log   *slog.Logger
	sec   SecretOpener
	runs  *RunLog

	rules *cache.Value[*ruleIndex]

	flowsMu   sync.RWMutex
	flows     map[string]*flowEntry
	flowsLoad sync.Mutex
}

var _ pipeline.Stage = (*Engine)(nil)

// New returns an Engine.
func New(cfg Config, deps Deps) (*Engine, error) {
	if deps.Store == nil {
		return nil, errors.New("workflow: a store is required")
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	if cfg.MaxInjectDepth <= 0 {
		cfg.MaxInjectDepth = 3
	}
	if cfg.MaxVersions <= 0 {
		cfg.MaxVersions = 50
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if deps.Registry == nil {
		deps.Registry = Default
	}
	if deps.Outbound == nil {
		deps.Outbound = netguard.New(netguard.Config{})
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, store: deps.Store, reg: deps.Registry, guard: deps.Outbound, log: deps.Logger, sec: deps.Secrets,
		runs: NewRunLog(cfg.RunsPerFlow, cfg.RunLogFlows), flows: map[string]*flowEntry{}}
	e.rules = cache.New(cache.Config{TTL: cfg.CacheTTL, OnStale: func(err error) { e.log.Warn("rules_reload_failed", "error", err) }},
		e.loadRules)
	return e, nil
}

// Registry returns the node registry in use.
func (e *Engine) Registry() *Registry { return e.reg }

// Runs returns up to limit recent runs of a flow, newest first.
func (e *Engine) Runs(flowID string, limit int) []*Trace { return e.runs.List(flowID, limit) }

func (e *Engine) provision(flowID string) Provision {
	return Provision{Entities: e.store.Entities(), Outbound: e.guard, Logger: e.log, Secrets: e.sec, FlowID: flowID}
}

// Compile validates and compiles a graph with the engine's registry and limits.
func (e *Engine) Compile(ctx context.Context, flowID string, g domain.FlowGraph, prefix string, requireStart bool) (*Program, error) {
	return Compile(ctx, e.reg, g, CompileOptions{Prefix: prefix, RequireStart: requireStart, Provision: e.provision(flowID), Limits: e.cfg.Limits})
}

// ValidateGraph checks a draft graph as it is saved.
func (e *Engine) ValidateGraph(ctx context.Context, flowID string, g domain.FlowGraph) error {
	p, err := e.Compile(ctx, flowID, g, "draft", false)
	if err != nil {
		return err
	}
	p.Close()
	return nil
}

// ValidateRule checks and normalises a rule as it is saved.
func (e *Engine) ValidateRule(ctx context.Context, r *domain.Rule) error {
	r.EventType = domain.NormalizeEventType(r.EventType)
	if r.EventType == "" || len(r.EventType) > 200 {
		return &GraphError{Field: "event_type", Msg: "is required and at most 200 characters"}
	}
	if r.Condition != "" {
		if _, err := ParseCondition(r.Condition); err != nil {
			return &GraphError{Field: "condition", Msg: err.Error()}
		}
	}
	if r.FlowID == "" {
		return &GraphError{Field: "flow_id", Msg: "is required"}
	}
	if _, err := e.store.Entities().Get(ctx, domain.EntityFlow, r.FlowID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return &GraphError{Field: "flow_id", Msg: fmt.Sprintf("there is no flow %q", r.FlowID)}
		}
		return err
	}
	if r.SourceID != "" {
		if _, err := e.store.Entities().Get(ctx, domain.EntitySource, r.SourceID); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return &GraphError{Field: "source_id", Msg: fmt.Sprintf("there is no event source %q", r.SourceID)}
			}
			return err
		}
	}
	return nil
}

// ruleIndex holds the enabled rules by event type.
type ruleIndex struct {
	byType map[string][]*compiledRule
	byID   map[string]*compiledRule
}

type compiledRule struct {
	rule    domain.Rule
	cond    Condition
	version int64
}

// InvalidateRules makes the next request reload the rules.
func (e *Engine) InvalidateRules() { e.rules.Invalidate() }

func (e *Engine) ruleIndex(ctx context.Context) (*ruleIndex, error) { return e.rules.Get(ctx) }

// loadRules reads and compiles the rules, reusing the compiled rules of idx whose
// version did not change.
func (e *Engine) loadRules(ctx context.Context, idx *ruleIndex, _ bool) (*ruleIndex, error) {
	ents, _, err := e.store.Entities().List(ctx, domain.EntityRule, storage.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("loading rules: %w", err)
	}
	next := &ruleIndex{byType: map[string][]*compiledRule{}, byID: map[string]*compiledRule{}}
	for _, ent := range ents {
		if idx != nil {
			if old := idx.byID[ent.ID]; old != nil && old.version == ent.Version {
				next.add(old)
				continue
			}
		}
		var r domain.Rule
		if err := json.Unmarshal(ent.Doc, &r); err != nil {
			e.log.Warn("rule_unreadable", "rule_id", ent.ID, "error", err)
			continue
		}
		cr := &compiledRule{rule: r, version: ent.Version}
		if r.Condition != "" {
			if cr.cond, err = ParseCondition(r.Condition); err != nil {
				e.log.Warn("rule_condition_invalid", "rule_id", ent.ID, "error", err)
				continue
			}
		}
		next.add(cr)
	}
	for _, rs := range next.byType {
		sort.Slice(rs, func(i, j int) bool {
			if rs[i].rule.Name != rs[j].rule.Name {
				return rs[i].rule.Name < rs[j].rule.Name
			}
			return rs[i].rule.ID < rs[j].rule.ID
		})
	}
	return next, nil
}

func (idx *ruleIndex) add(cr *compiledRule) {
	idx.byID[cr.rule.ID] = cr
	if cr.rule.Enabled {
		t := domain.NormalizeEventType(cr.rule.EventType)
		idx.byType[t] = append(idx.byType[t], cr)
	}
}

// flowEntry caches the production program of one flow. Deployed flows keep their own
// map rather than internal/cache because programs are reference-counted (a replaced
// program is cleaned up only once the runs using it end, which needs the acquire
// under the map's lock); the policy is the same: a failed reload keeps serving the
// previous program and is retried after CacheTTL.
type flowEntry struct {
	prog    *Program // nil: nothing to run (no flow, disabled, never deployed, broken)
	flowVer int64
	depVer  int64
	broken  bool
	expires time.Time
}

// InvalidateFlow makes the next run of a flow reload it.
func (e *Engine) InvalidateFlow(id string) {
	e.flowsMu.Lock()
	if fe := e.flows[id]; fe != nil {
		cp := *fe
		cp.expires = time.Time{}
		e.flows[id] = &cp
	}
	e.flowsMu.Unlock()
}

// InvalidateFlows makes the next run of every flow reload it (another replica changed
// flows or deployments).
func (e *Engine) InvalidateFlows() {
	e.flowsMu.Lock()
	for id, fe := range e.flows {
		cp := *fe
		cp.expires = time.Time{}
		e.flows[id] = &cp
	}
	e.flowsMu.Unlock()
}

// production returns the deployed program of a flow, acquired (release it after the
// run), or nil when the flow does not run.
func (e *Engine) production(ctx context.Context, id string) (*Program, error) {
	e.flowsMu.RLock()
	fe := e.flows[id]
	if fe != nil && time.Now().Before(fe.expires) {
		if fe.prog != nil {
			fe.prog.acquire()
		}
		e.flowsMu.RUnlock()
		return fe.prog, nil
	}
	e.flowsMu.RUnlock()

	e.flowsLoad.Lock()
	defer e.flowsLoad.Unlock()
	e.flowsMu.RLock()
	fe = e.flows[id]
	e.flowsMu.RUnlock()
	if fe == nil || !time.Now().Before(fe.expires) {
		next, err := e.loadFlow(ctx, id, fe)
		if err != nil {
			if fe == nil {
				return nil, err
			}
			e.log.Warn("flow_reload_failed", "flow_id", id, "error", err)
			next = &flowEntry{prog: fe.prog, flowVer: fe.flowVer, depVer: fe.depVer, broken: fe.broken}
			if next.prog != nil {
				next.prog.acquire() // the new entry's reference
			}
		}
		next.expires = time.Now().Add(e.cfg.CacheTTL)
		e.flowsMu.Lock()
		if len(e.flows) > 10000 {
			for k, old := range e.flows {
				if k != id {
					if old.prog != nil {
						old.prog.release()
					}
					delete(e.flows, k)
				}
			}
		}
		e.flows[id] = next
		e.flowsMu.Unlock()
		// Readers acquire under the read lock while an entry is in the map, so once it
		// is replaced its count can only go down.
		if fe != nil && fe.prog != nil {
			fe.prog.release()
		}
	}
	e.flowsMu.RLock()
	defer e.flowsMu.RUnlock()
	if cur := e.flows[id]; cur != nil && cur.prog != nil {
		cur.prog.acquire()
		return cur.prog, nil
	}
	return nil, nil
}

// loadFlow reads a flow and its deployment and compiles it, reusing old's program
// when neither changed.
func (e *Engine) loadFlow(ctx context.Context, id string, old *flowEntry) (*flowEntry, error) {
	ents := e.store.Entities()
	ent, err := ents.Get(ctx, domain.EntityFlow, id)
	if errors.Is(err, storage.ErrNotFound) {
		return &flowEntry{}, nil
	}
	if err != nil {
		return nil, err
	}
	var f domain.Flow
	if err := json.Unmarshal(ent.Doc, &f); err != nil {
		return nil, fmt.Errorf("decoding flow %q: %w", id, err)
	}
	if !f.Enabled {
		return &flowEntry{flowVer: ent.Version}, nil
	}
	dep, depVer, err := e.deployment(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return &flowEntry{flowVer: ent.Version}, nil
	}
	if err != nil {
		return nil, err
	}
	if old != nil && old.depVer == depVer && (old.prog != nil || old.broken) {
		if old.prog != nil {
			old.prog.acquire() // the new entry's reference; the old entry's is released by the caller
		}
		return &flowEntry{prog: old.prog, flowVer: ent.Version, depVer: depVer, broken: old.broken}, nil
	}
	prog, err := e.Compile(ctx, id, dep.Graph, "graph", true)
	if err != nil {
		e.log.Warn("flow_compile_failed", "flow_id", id, "version", dep.Version, "error", err)
		e.runs.Add(&Trace{RunID: "compile", FlowID: id, FlowVersion: dep.Version, Started: domain.Now(), Status: RunFailed,
			Error: "deployed version could not be compiled: " + err.Error(), Nodes: []NodeTrace{}})
		return &flowEntry{flowVer: ent.Version, depVer: depVer, broken: true}, nil
	}
	prog.FlowID, prog.FlowName, prog.Version = id, f.Name, dep.Version
	return &flowEntry{prog: prog, flowVer: ent.Version, depVer: depVer}, nil
}

var (
	resourceTypesMu sync.RWMutex
	resourceTypes   = map[string]func(r *domain.Resource) error{}
)

// RegisterResourceType declares a kind of resource (settings and credentials that
// nodes refer to by id, such as "smtp") and how to check its config. Node families
// call it from init().
func RegisterResourceType(typ string, check func(r *domain.Resource) error) {
	resourceTypesMu.Lock()
	defer resourceTypesMu.Unlock()
	if _, dup := resourceTypes[typ]; dup {
		panic(fmt.Sprintf("resource type %q registered twice", typ))
	}
	resourceTypes[typ] = check
}

// ValidateResource checks a resource as it is saved.
func ValidateResource(r *domain.Resource) error {
	resourceTypesMu.RLock()
	check, ok := resourceTypes[r.Type]
	names := make([]string, 0, len(resourceTypes))
	for k := range resourceTypes {
		names = append(names, k)
	}
	resourceTypesMu.RUnlock()
	if !ok {
		sort.Strings(names)
		return &GraphError{Field: "type", Msg: fmt.Sprintf("unknown resource type %q (known: %v)", r.Type, names)}
	}
	if r.Config == nil {
		r.Config = map[string]any{}
	}
	if err := check(r); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return &GraphError{Field: fe.Field, Msg: fe.Msg}
		}
		return &GraphError{Field: "config", Msg: err.Error()}
	}
	return nil
}

// LoadResource reads a resource of the given type, with its secrets opened when
// opener is set. Never answer what it returns.
func LoadResource(ctx context.Context, entities storage.Entities, opener SecretOpener, id, typ string) (*domain.Resource, error) {
	ent, err := entities.Get(ctx, domain.EntityResource, id)
	if err != nil {
		return nil, err
	}
	var r domain.Resource
	if err := json.Unmarshal(ent.Doc, &r); err != nil {
		return nil, fmt.Errorf("decoding resource %q: %w", id, err)
	}
	if r.Type != typ {
		return nil, fmt.Errorf("resource %q is of type %q, not %q", id, r.Type, typ)
	}
	if !r.Enabled {
		return nil, fmt.Errorf("resource %q is disabled", id)
	}
	if opener != nil {
		if err := opener.OpenFields(&r); err != nil {
			return nil, fmt.Errorf("resource %q: %w", id, err)
		}
	}
	return &r, nil
}
