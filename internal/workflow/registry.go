package workflow

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Registry holds node types by id.
type Registry struct {
	mu    sync.RWMutex
	specs map[string]*Spec
}

// NewRegistry returns a registry holding the core node types (start, end).
func NewRegistry() *Registry {
	r := &Registry{specs: map[string]*Spec{}}
	for _, s := range coreSpecs() {
		if err := r.Register(s); err != nil {
			panic(err)
		}
	}
	return r
}

// Default is the registry built-in node families register into from init().
var Default = NewRegistry()

// Register adds a node type to the default registry. It panics on an invalid spec or
// a duplicate id: registration happens in init(), where a mistake is a programming
// error.
func Register(s Spec) {
	if s.pkg == "" {
		s.pkg = callerPackage(2)
	}
	if err := Default.Register(s); err != nil {
		panic(err)
	}
}

// Register adds a node type.
func (r *Registry) Register(s Spec) error {
	if s.pkg == "" {
		s.pkg = callerPackage(2)
	}
	if err := s.check(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.specs[s.ID]; dup {
		return fmt.Errorf("node type %q registered twice", s.ID)
	}
	r.specs[s.ID] = &s
	return nil
}

// Lookup returns the node type id.
func (r *Registry) Lookup(id string) (*Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.specs[id]
	return s, ok
}

// All returns every node type, by category and id.
func (r *Registry) All() []*Spec {
	r.mu.RLock()
	out := make([]*Spec, 0, len(r.specs))
	for _, s := range r.specs {
		out = append(out, s)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Category != out[j].Category {
			return categoryRank(out[i].Category) < categoryRank(out[j].Category)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Categories in the order the GUI's palette and the docs list them.
var Categories = []string{"Flow", "Data", "Text and numbers", "Profile", "Enrichment", "Connectors", "Events", "Debugging"}

func categoryRank(c string) int {
	for i, x := range Categories {
		if x == c {
			return i
		}
	}
	return len(Categories)
}

func callerPackage(skip int) string {
	pc, _, _, ok := runtime.Caller(skip)
	if !ok {
		return ""
	}
	name := runtime.FuncForPC(pc).Name() // path/to/pkg.init.0 or path/to/pkg.Func
	slash := strings.LastIndexByte(name, '/')
	if dot := strings.IndexByte(name[slash+1:], '.'); dot >= 0 {
		return name[:slash+1+dot]
	}
	return name
}

// NodeInfo is a node type as GET /api/v1/flow-nodes lists it.
type NodeInfo struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Category      string         `json:"category"`
	Description   string         `json:"description"`
	Documentation string         `json:"documentation,omitempty"`
	Start         bool           `json:"start,omitempty"`
	Inputs        []Port         `json:"inputs"`
	Outputs       []Port         `json:"outputs"`
	ConfigSchema  map[string]any `json:"config_schema"`
	Examples      []ExampleInfo  `json:"examples"`
}

// ExampleInfo is an example config, decoded.
type ExampleInfo struct {
	Title  string         `json:"title"`
	Config map[string]any `json:"config"`
}

// Info describes the node type for the API and the docs.
func (s *Spec) Info() NodeInfo {
	ni := NodeInfo{ID: s.ID, Name: s.Name, Category: s.Category, Description: s.Description, Documentation: s.Doc,
		Start: s.Start, Inputs: s.InputPorts(), Outputs: s.OutputPorts(), ConfigSchema: s.ConfigSchema(),
		Examples: make([]ExampleInfo, 0, len(s.Examples))}
	for _, ex := range s.Examples {
		ei := ExampleInfo{Title: ex.Title}
		_ = jsonUnmarshalString(ex.Config, &ei.Config) // checked at registration
		ni.Examples = append(ni.Examples, ei)
	}
	return ni
}

// Infos describes every node type, by category and id.
func (r *Registry) Infos() []NodeInfo {
	specs := r.All()
	out := make([]NodeInfo, len(specs))
	for i, s := range specs {
		out[i] = s.Info()
	}
	return out
}
