package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// flowEditorRoutes registers what the GUI's flow editor needs beyond the flow
// routes: checking one node's config as it is typed.
func (s *Server) flowEditorRoutes() {
	s.handle("POST /api/v1/flow-nodes/{type}/check", permFlows, s.checkFlowNode, Doc{
		Summary: "Check a node's config as saving a draft would",
		Description: "Answers 200 when the config is valid for the node type, otherwise 400 naming the field (config.x) as saving " +
			"the draft would; errors in conditions and templates say where: \"line L, col C: message\". Nothing is stored.",
		Tags:    []string{"flows"},
		Params:  []Param{{Name: "type", In: "path", Description: "a node type of GET /api/v1/flow-nodes"}},
		Request: nodeCheckRequest{}, Response: nodeCheckAnswer{}})
}

type nodeCheckRequest struct {
	Config json.RawMessage `json:"config"`
}

type nodeCheckAnswer struct {
	Valid bool `json:"valid"`
}

// checkNodeID is the id the checked node gets in the one-node graph compiled.
const checkNodeID = "node"

func (s *Server) checkFlowNode(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	if _, ok := s.deps.Workflow.Registry().Lookup(typ); !ok {
		s.fail(w, r, fmt.Errorf("node type %q: %w", typ, storage.ErrNotFound))
		return
	}
	var body nodeCheckRequest
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	g := domain.FlowGraph{Nodes: []domain.FlowNode{{ID: checkNodeID, Type: typ, Config: body.Config}}, Edges: []domain.FlowEdge{}}
	err := s.deps.Workflow.ValidateGraph(r.Context(), "", g)
	if err == nil {
		writeJSON(w, http.StatusOK, nodeCheckAnswer{Valid: true})
		return
	}
	var ge *workflow.GraphError
	if !errors.As(err, &ge) {
		s.fail(w, r, err)
		return
	}
	field := strings.TrimPrefix(ge.Field, "draft.nodes["+checkNodeID+"].")
	s.fail(w, r, invalid(field, templateMessage(field, ge.Msg, body.Config)))
}

// templateMessage puts the position of the failing placeholder before a template
// error in a top-level string field, as condition errors have it.
func templateMessage(field, msg string, config json.RawMessage) string {
	key, ok := strings.CutPrefix(field, "config.")
	if !ok || !strings.HasPrefix(msg, "template: ") || strings.ContainsAny(key, ".[") {
		return msg
	}
	var cfg map[string]any
	if json.Unmarshal(config, &cfg) != nil {
		return msg
	}
	src, ok := cfg[key].(string)
	if !ok {
		return msg
	}
	line, col, ok := workflow.TemplateErrorAt(src)
	if !ok {
		return msg
	}
	return fmt.Sprintf("line %d, col %d: %s", line, col, strings.TrimPrefix(msg, "template: "))
}
