package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Version is one deployed version of a flow.
type Version struct {
	FlowID       string           `json:"flow_id"`
	Version      int64            `json:"version"`
	Graph        domain.FlowGraph `json:"graph"`
	DeployedAt   domain.Time      `json:"deployed_at"`
	DeployedBy   string           `json:"deployed_by,omitempty"`
	RestoredFrom int64            `json:"restored_from,omitempty"`
}

// VersionInfo is a Version without its graph, as lists show it.
type VersionInfo struct {
	Version      int64       `json:"version"`
	DeployedAt   domain.Time `json:"deployed_at"`
	DeployedBy   string      `json:"deployed_by,omitempty"`
	RestoredFrom int64       `json:"restored_from,omitempty"`
	Current      bool        `json:"current"`
	Nodes        int         `json:"nodes"`
}

type history struct {
	FlowID   string    `json:"flow_id"`
	Versions []Version `json:"versions"` // oldest first
}

// LoadFlow reads a flow.
func (e *Engine) LoadFlow(ctx context.Context, id string) (*domain.Flow, error) {
	ent, err := e.store.Entities().Get(ctx, domain.EntityFlow, id)
	if err != nil {
		return nil, err
	}
	var f domain.Flow
	if err := json.Unmarshal(ent.Doc, &f); err != nil {
		return nil, fmt.Errorf("decoding flow %q: %w", id, err)
	}
	f.Version = ent.Version
	return &f, nil
}

func (e *Engine) deployment(ctx context.Context, flowID string) (*Version, int64, error) {
	ent, err := e.store.Entities().Get(ctx, domain.EntityFlowDeployment, flowID)
	if err != nil {
		return nil, 0, err
	}
	var v Version
	if err := json.Unmarshal(ent.Doc, &v); err != nil {
		return nil, 0, fmt.Errorf("decoding deployment of flow %q: %w", flowID, err)
	}
	return &v, ent.Version, nil
}

func (e *Engine) history(ctx context.Context, flowID string) (*history, int64, error) {
	ent, err := e.store.Entities().Get(ctx, domain.EntityFlowHistory, flowID)
	if errors.Is(err, storage.ErrNotFound) {
		return &history{FlowID: flowID, Versions: []Version{}}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var h history
	if err := json.Unmarshal(ent.Doc, &h); err != nil {
		return nil, 0, fmt.Errorf("decoding versions of flow %q: %w", flowID, err)
	}
	return &h, ent.Version, nil
}

// Deploy makes the flow's draft its production version: rules run it from now on.
// The draft must be valid and have a start node.
func (e *Engine) Deploy(ctx context.Context, flowID, by string) (*Version, error) {
	f, err := e.LoadFlow(ctx, flowID)
	if err != nil {
		return nil, err
	}
	p, err := e.Compile(ctx, flowID, f.Draft, "draft", true)
	if err != nil {
		return nil, err
	}
	p.Close()
	return e.saveVersion(ctx, flowID, f.Draft, by, 0)
}

// saveVersion appends a version to the history and makes it current. Concurrent
// deployments of one flow conflict on the history's version: one of them gets
// storage.ErrConflict.
func (e *Engine) saveVersion(ctx context.Context, flowID string, g domain.FlowGraph, by string, restoredFrom int64) (*Version, error) {
	h, hver, err := e.history(ctx, flowID)
	if err != nil {
		return nil, err
	}
	n := int64(1)
	if len(h.Versions) > 0 {
		n = h.Versions[len(h.Versions)-1].Version + 1
	}
	v := Version{FlowID: flowID, Version: n, Graph: g, DeployedAt: domain.Now(), DeployedBy: by, RestoredFrom: restoredFrom}
	h.Versions = append(h.Versions, v)
	if len(h.Versions) > e.cfg.MaxVersions {
		h.Versions = h.Versions[len(h.Versions)-e.cfg.MaxVersions:]
	}
	hdoc, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	if _, err := e.store.Entities().Put(ctx, &storage.Entity{Kind: domain.EntityFlowHistory, ID: flowID, Doc: hdoc}, hver); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return nil, fmt.Errorf("flow %q was deployed by someone else at the same time; retry: %w", flowID, storage.ErrConflict)
		}
		return nil, err
	}
	vdoc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if _, err := e.store.Entities().Put(ctx, &storage.Entity{Kind: domain.EntityFlowDeployment, ID: flowID, Doc: vdoc}, -1); err != nil {
		return nil, err
	}
	e.InvalidateFlow(flowID)
	return &v, nil
}

// Versions lists the kept deployed versions of a flow, newest first, and the current
// version (0: never deployed).
func (e *Engine) Versions(ctx context.Context, flowID string) ([]VersionInfo, int64, error) {
	if _, err := e.store.Entities().Get(ctx, domain.EntityFlow, flowID); err != nil {
		return nil, 0, err
	}
	h, _, err := e.history(ctx, flowID)
	if err != nil {
		return nil, 0, err
	}
	var current int64
	if dep, _, err := e.deployment(ctx, flowID); err == nil {
		current = dep.Version
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, 0, err
	}
	out := make([]VersionInfo, 0, len(h.Versions))
	for i := len(h.Versions) - 1; i >= 0; i-- {
		v := h.Versions[i]
		out = append(out, VersionInfo{Version: v.Version, DeployedAt: v.DeployedAt, DeployedBy: v.DeployedBy,
			RestoredFrom: v.RestoredFrom, Current: v.Version == current, Nodes: len(v.Graph.Nodes)})
	}
	return out, current, nil
}

// Version returns one kept version of a flow.
func (e *Engine) Version(ctx context.Context, flowID string, n int64) (*Version, error) {
	if _, err := e.store.Entities().Get(ctx, domain.EntityFlow, flowID); err != nil {
		return nil, err
	}
	h, _, err := e.history(ctx, flowID)
	if err != nil {
		return nil, err
	}
	for i := range h.Versions {
		if h.Versions[i].Version == n {
			return &h.Versions[i], nil
		}
	}
	return nil, fmt.Errorf("version %d of flow %q: %w", n, flowID, storage.ErrNotFound)
}

// Restore brings back an earlier version. To production (the default) it deploys
// that version's graph again, as a new version that records where it came from; to
// the draft it replaces the draft and leaves production alone.
func (e *Engine) Restore(ctx context.Context, flowID string, n int64, by string, toDraft bool) (*Version, error) {
	old, err := e.Version(ctx, flowID, n)
	if err != nil {
		return nil, err
	}
	if toDraft {
		f, err := e.LoadFlow(ctx, flowID)
		if err != nil {
			return nil, err
		}
		f.Draft = old.Graph
		f.Updated = domain.Now()
		ver := f.Version
		f.Version = 0
		doc, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		if _, err := e.store.Entities().Put(ctx, &storage.Entity{Kind: domain.EntityFlow, ID: flowID, Doc: doc}, ver); err != nil {
			return nil, err
		}
		return old, nil
	}
	// The registry may have changed since: the old graph must still compile.
	p, err := e.Compile(ctx, flowID, old.Graph, "graph", true)
	if err != nil {
		return nil, err
	}
	p.Close()
	return e.saveVersion(ctx, flowID, old.Graph, by, n)
}

// FlowChanged is called after a flow was created, changed or deleted through the API.
// When it was deleted, its deployment and versions go too.
func (e *Engine) FlowChanged(ctx context.Context, id string) {
	defer e.InvalidateFlow(id)
	if _, err := e.store.Entities().Get(ctx, domain.EntityFlow, id); !errors.Is(err, storage.ErrNotFound) {
		return
	}
	for _, kind := range []string{domain.EntityFlowDeployment, domain.EntityFlowHistory} {
		if err := e.store.Entities().Delete(ctx, kind, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
			e.log.Warn("flow_cleanup_failed", "flow_id", id, "kind", kind, "error", err)
		}
	}
	e.runs.Forget(id)
}
