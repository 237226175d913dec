package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// workflowRoutes registers rules, flows (with deploy, versions, debug and recent
// runs), the node catalogue and the resources nodes refer to.
func (s *Server) workflowRoutes() {
	if s.deps.Workflow == nil {
		return
	}
	register(s, s.ruleResource())
	register(s, s.flowResource())
	register(s, s.nodeResource())
	s.flowEditorRoutes()
	tag := []string{"flows"}
	idp := []Param{{Name: "id", In: "path", Description: "id of the flow"}}
	verp := append(idp, Param{Name: "version", In: "path", Type: "integer", Description: "a deployed version"})
	s.handle("GET /api/v1/flow-nodes", permAny, s.flowNodes, Doc{Summary: "List the node types flows are built from",
		Description: "Each with its ports, documentation, examples and the JSON Schema of its config, from which the GUI builds its forms.",
		Tags:        tag, Response: listOf(workflow.NodeInfo{})})
	s.handle("POST /api/v1/flows/{id}/deploy", permFlows, s.deployFlow, Doc{Summary: "Deploy a flow's draft",
		Description: "Validates the draft (it needs a start node) and makes it the production version that rules run. Earlier versions are kept.",
		Tags:        tag, Params: idp, Response: workflow.Version{}})
	s.handle("GET /api/v1/flows/{id}/versions", permFlows, s.flowVersions, Doc{Summary: "List a flow's deployed versions, newest first",
		Tags: tag, Params: idp, Response: versionList{}})
	s.handle("GET /api/v1/flows/{id}/versions/{version}", permFlows, s.flowVersion, Doc{Summary: "Get a deployed version with its graph",
		Tags: tag, Params: verp, Response: workflow.Version{}})
	s.handle("POST /api/v1/flows/{id}/versions/{version}/restore", permFlows, s.restoreFlow, Doc{Summary: "Restore a deployed version",
		Description: `To production (default): deploys that version's graph again as a new version. With {"to": "draft"}: replaces the draft instead.`,
		Tags:        tag, Params: verp, Request: restoreRequest{}, Response: workflow.Version{}})
	s.handle("POST /api/v1/flows/{id}/debug", permFlows, s.debugFlow, Doc{Summary: "Run a flow's draft without storing anything",
		Description: "Give an event (and optionally profile_id, session_id) or the event_id of a stored event; draft runs unsaved edits. " +
			"Answers a per-node trace (input, ports, outputs, duration, error), the changes the run would make to the profile, " +
			"session and event, and what it would add to the tracker's response. Webhooks and e-mails are really sent.",
		Tags: tag, Params: idp, Request: workflow.DebugRequest{}, Response: workflow.DebugResult{}})
	s.handle("GET /api/v1/flows/{id}/runs", permFlows, s.flowRuns, Doc{Summary: "Recent runs of a flow on real traffic, newest first",
		Description: "Short traces (no inputs or outputs) kept in memory by the process that answers, at most 50 per flow; " +
			"with several replicas each shows its own.",
		Tags: tag, Params: idp, Query: []Param{{Name: "limit", Type: "integer", Description: "at most this many (default 50)"}},
		Response: listOf(workflow.Trace{})})
}

func (s *Server) flowResource() Resource[domain.Flow, *domain.Flow] {
	wf := s.deps.Workflow
	return Resource[domain.Flow, *domain.Flow]{
		Kind: domain.EntityFlow, Base: "/api/v1/flows", Read: permFlows, Write: permFlows,
		Validate: func(ctx context.Context, f *domain.Flow) error {
			if f.Draft.Nodes == nil {
				f.Draft.Nodes = []domain.FlowNode{}
			}
			if f.Draft.Edges == nil {
				f.Draft.Edges = []domain.FlowEdge{}
			}
			return wf.ValidateGraph(ctx, f.ID, f.Draft)
		},
		Changed: func(id string) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			wf.FlowChanged(ctx, id)
		},
	}
}

// nodeResource serves /api/v1/resources: settings and credentials nodes refer to by
// id (an SMTP server for send-email). Secrets are sealed at rest and masked in answers.
func (s *Server) nodeResource() Resource[domain.Resource, *domain.Resource] {
	return Resource[domain.Resource, *domain.Resource]{
		Kind: domain.EntityResource, Base: "/api/v1/resources", Read: permDestinations, Write: permDestinations,
		Validate: func(_ context.Context, r *domain.Resource) error { return workflow.ValidateResource(r) },
	}
}

func (s *Server) flowNodes(w http.ResponseWriter, r *http.Request) {
	items := s.deps.Workflow.Registry().Infos()
	writeList(w, len(items), items)
}

func by(r *http.Request) string {
	if p := principal(r.Context()); p != nil {
		return p.Username
	}
	return ""
}

func (s *Server) deployFlow(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	v, err := s.deps.Workflow.Deploy(r.Context(), id, by(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.recordChange(r, "deploy", domain.EntityFlow, id, v.Version)
	writeJSON(w, http.StatusOK, v)
}

type versionList struct {
	Current int64                  `json:"current"`
	Total   int                    `json:"total"`
	Items   []workflow.VersionInfo `json:"items"`
}

func (s *Server) flowVersions(w http.ResponseWriter, r *http.Request) {
	items, cur, err := s.deps.Workflow.Versions(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, versionList{Current: cur, Total: len(items), Items: items})
}

func versionOf(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || n < 1 {
		return 0, invalid("version", "must be a positive integer")
	}
	return n, nil
}

func (s *Server) flowVersion(w http.ResponseWriter, r *http.Request) {
	n, err := versionOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.deps.Workflow.Version(r.Context(), r.PathValue("id"), n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

type restoreRequest struct {
	// To is "production" (default) or "draft".
	To string `json:"to,omitempty"`
}

func (s *Server) restoreFlow(w http.ResponseWriter, r *http.Request) {
	n, err := versionOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body restoreRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &body); err != nil && !strings.Contains(err.Error(), "EOF") {
			s.fail(w, r, err)
			return
		}
	}
	if body.To != "" && body.To != "production" && body.To != "draft" {
		s.fail(w, r, invalid("to", `must be "production" or "draft"`))
		return
	}
	id := r.PathValue("id")
	v, err := s.deps.Workflow.Restore(r.Context(), id, n, by(r), body.To == "draft")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if body.To == "draft" {
		s.recordChange(r, "restore_draft", domain.EntityFlow, id, n)
	} else {
		s.recordChange(r, "deploy", domain.EntityFlow, id, v.Version)
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) debugFlow(w http.ResponseWriter, r *http.Request) {
	var req workflow.DebugRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.deps.Workflow.Debug(r.Context(), r.PathValue("id"), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) flowRuns(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.deps.Store.Entities().Get(r.Context(), domain.EntityFlow, id); err != nil {
		s.fail(w, r, err)
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.fail(w, r, invalid("limit", "must be an integer from 1 to 1000"))
			return
		}
		limit = n
	}
	items := s.deps.Workflow.Runs(id, limit)
	writeList(w, len(items), items)
}
