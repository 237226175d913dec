package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/all"
	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/storage/local"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// newFlowServer is the access server (one user per role) with the workflow engine
// wired in, as the composition root does.
func newFlowServer(t *testing.T) *accessServer {
	t.Helper()
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	e, err := workflow.New(workflow.Config{}, workflow.Deps{Store: a.store, Secrets: a.box,
		Outbound: netguard.New(netguard.Config{AllowPrivate: true})})
	if err != nil {
		t.Fatal(err)
	}
	sources := collector.NewSourceCache(a.store.Entities(), time.Minute)
	col, err := collector.New(collector.Config{}, a.store, local.NewLocker(), sources, e)
	if err != nil {
		t.Fatal(err)
	}
	a.srv = New(Options{ExposeGUIAPI: true, MaxBodyBytes: 1 << 20}, Deps{Store: a.store, Collector: col, Sources: sources,
		Auth: a.auth, Secrets: a.box, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(), Workflow: e})
	return a
}

func decodeBody(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %s", b)
	}
	return m
}

var purchaseFlow = map[string]any{
	"id": "big-spender", "name": "Big spender",
	"draft": map[string]any{
		"nodes": []any{
			map[string]any{"id": "n1", "type": "start", "position": map[string]any{"x": 0, "y": 0}},
			map[string]any{"id": "n2", "type": "if", "config": map[string]any{"condition": "event@properties.price > 100"}},
			map[string]any{"id": "n3", "type": "add-segment", "config": map[string]any{"segment": "big-spender"}},
			map[string]any{"id": "n4", "type": "tracker-response", "config": map[string]any{"response": map[string]any{"vip": true}}},
		},
		"edges": []any{
			map[string]any{"source": "n1", "source_port": "payload", "target": "n2", "target_port": "payload"},
			map[string]any{"source": "n2", "source_port": "true", "target": "n3", "target_port": "payload"},
			map[string]any{"source": "n3", "source_port": "payload", "target": "n4", "target_port": "payload"},
		},
	},
}

func TestFlowsAndRulesAPI(t *testing.T) {
	a := newFlowServer(t)
	admin, dev, marketer, maint := a.tokens[domain.RoleAdmin], a.tokens[domain.RoleDeveloper], a.tokens[domain.RoleMarketer], a.tokens[domain.RoleMaintainer]
	badFlow := func(mutate func(d map[string]any)) map[string]any {
		b, _ := json.Marshal(purchaseFlow)
		var f map[string]any
		json.Unmarshal(b, &f)
		f["id"] = "bad"
		mutate(f["draft"].(map[string]any))
		return f
	}
	node := func(d map[string]any, i int) map[string]any { return d["nodes"].([]any)[i].(map[string]any) }
	edge := func(d map[string]any, i int) map[string]any { return d["edges"].([]any)[i].(map[string]any) }
	type step struct {
		name   string
		method string
		path   string
		token  string
		body   any
		status int
		want   []string
	}
	steps := []step{
		{"node catalogue for any role", "GET", "/api/v1/flow-nodes", maint, nil, 200, []string{`"id":"webhook"`, `"config_schema"`, `"additionalProperties":false`, `"outputs":[{"name":"true"`}},
		{"create flow", "POST", "/api/v1/flows", dev, purchaseFlow, 201, []string{`"id":"big-spender"`, `"draft"`}},
		{"unknown node type", "POST", "/api/v1/flows", admin, badFlow(func(d map[string]any) { node(d, 2)["type"] = "add-segmant" }), 400,
			[]string{`"field":"draft.nodes[n3].type"`, `unknown node type \"add-segmant\"`}},
		{"bad config", "POST", "/api/v1/flows", admin, badFlow(func(d map[string]any) { node(d, 1)["config"] = map[string]any{"condition": "price >"} }), 400,
			[]string{`"field":"draft.nodes[n2].config.condition"`, "line 1, col"}},
		{"unknown config field", "POST", "/api/v1/flows", admin, badFlow(func(d map[string]any) { node(d, 2)["config"].(map[string]any)["colour"] = "red" }), 400,
			[]string{`"field":"draft.nodes[n3].config.colour"`, "unknown field"}},
		{"edge to a missing port", "POST", "/api/v1/flows", admin, badFlow(func(d map[string]any) { edge(d, 1)["source_port"] = "yes" }), 400,
			[]string{`"field":"draft.edges[1].source_port"`, `node \"n2\" (if) has no output port \"yes\"; its output ports: true, false`}},
		{"cycle", "POST", "/api/v1/flows", admin, badFlow(func(d map[string]any) {
			d["edges"] = append(d["edges"].([]any), map[string]any{"source": "n4", "source_port": "payload", "target": "n2", "target_port": "payload"})
		}), 400, []string{`"field":"draft.edges[3]"`, "closes a cycle"}},
		{"maintainer may not edit flows", "POST", "/api/v1/flows", maint, purchaseFlow, 403, []string{"may not"}},
		{"runs before any", "GET", "/api/v1/flows/big-spender/runs", marketer, nil, 200, []string{`"total":0`}},
		{"runs of an unknown flow", "GET", "/api/v1/flows/nope/runs", admin, nil, 404, nil},
		{"versions before deploy", "GET", "/api/v1/flows/big-spender/versions", admin, nil, 200, []string{`"current":0`, `"items":[]`}},
		{"rule needs an existing flow", "POST", "/api/v1/rules", marketer, map[string]any{"name": "r", "event_type": "purchase", "flow_id": "nope"}, 400,
			[]string{`"field":"flow_id"`}},
		{"rule condition checked", "POST", "/api/v1/rules", marketer, map[string]any{"name": "r", "event_type": "purchase", "flow_id": "big-spender", "condition": "event@x >"}, 400,
			[]string{`"field":"condition"`, "line 1, col"}},
		{"rule source checked", "POST", "/api/v1/rules", admin, map[string]any{"name": "r", "event_type": "purchase", "flow_id": "big-spender", "source_id": "nope"}, 400,
			[]string{`"field":"source_id"`}},
		{"create rule", "POST", "/api/v1/rules", marketer, map[string]any{"id": "r1", "name": "Purchases", "event_type": "Purchase", "flow_id": "big-spender"}, 201,
			[]string{`"event_type":"purchase"`, `"enabled":true`}},
		{"list rules", "GET", "/api/v1/rules", admin, nil, 200, []string{`"total":1`}},
		{"maintainer may not read rules", "GET", "/api/v1/rules", maint, nil, 403, nil},
		{"deploy", "POST", "/api/v1/flows/big-spender/deploy", dev, nil, 200, []string{`"version":1`, `"deployed_by":"developer@example.com"`}},
		{"deploy unknown flow", "POST", "/api/v1/flows/nope/deploy", dev, nil, 404, nil},
		{"track runs the flow", "POST", "/track", "", map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "p1"},
			"events": []any{map[string]any{"type": "purchase", "properties": map[string]any{"price": 150}}}}, 200, []string{`"response":{"vip":true}`}},
		{"runs after", "GET", "/api/v1/flows/big-spender/runs", marketer, nil, 200, []string{`"total":1`, `"status":"ok"`, `"rule_id":"r1"`, `"node_id":"n3"`}},
		{"deploy again", "POST", "/api/v1/flows/big-spender/deploy", admin, nil, 200, []string{`"version":2`}},
		{"versions", "GET", "/api/v1/flows/big-spender/versions", admin, nil, 200, []string{`"current":2`, `"total":2`, `"version":2,`}},
		{"one version", "GET", "/api/v1/flows/big-spender/versions/1", admin, nil, 200, []string{`"graph":{"nodes"`}},
		{"missing version", "GET", "/api/v1/flows/big-spender/versions/7", admin, nil, 404, nil},
		{"bad version", "GET", "/api/v1/flows/big-spender/versions/x", admin, nil, 400, []string{`"field":"version"`}},
		{"restore", "POST", "/api/v1/flows/big-spender/versions/1/restore", admin, nil, 200, []string{`"version":3`, `"restored_from":1`}},
		{"restore to draft", "POST", "/api/v1/flows/big-spender/versions/1/restore", admin, map[string]any{"to": "draft"}, 200, []string{`"version":1`}},
		{"restore somewhere else", "POST", "/api/v1/flows/big-spender/versions/1/restore", admin, map[string]any{"to": "moon"}, 400, []string{`"field":"to"`}},
		{"debug", "POST", "/api/v1/flows/big-spender/debug", marketer, map[string]any{"event": map[string]any{"type": "purchase", "properties": map[string]any{"price": 500}}, "profile_id": "p1"}, 200,
			[]string{`"node_id":"n2"`, `"ports":["true"]`, `"input":{"price":500}`, `"profile_diff":[]`, `"response":{"vip":true}`}},
		{"debug needs an event", "POST", "/api/v1/flows/big-spender/debug", admin, map[string]any{}, 400, []string{`"field":"event"`}},
		{"resource", "POST", "/api/v1/resources", dev, map[string]any{"id": "mail", "name": "Mail", "type": "smtp",
			"config": map[string]any{"host": "smtp.example.com", "from": "shop@example.com"}, "secrets": map[string]any{"password": "hunter2"}}, 201,
			[]string{`"password":"********"`}},
		{"resource checked", "POST", "/api/v1/resources", dev, map[string]any{"name": "Mail", "type": "smtp", "config": map[string]any{"from": "x@y.z"}}, 400,
			[]string{`"field":"config.host"`}},
		{"marketer may not read credentials", "GET", "/api/v1/resources", marketer, nil, 403, nil},
		{"delete flow", "DELETE", "/api/v1/flows/big-spender", admin, nil, 204, nil},
		{"versions gone", "GET", "/api/v1/flows/big-spender/versions", admin, nil, 404, nil},
	}
	if rec := a.do("POST", "/api/v1/event-sources", admin, map[string]any{"id": "web", "name": "Web", "trusted": true}); rec.Code != http.StatusCreated {
		t.Fatalf("creating the source: %d %s", rec.Code, rec.Body)
	}
	for _, st := range steps {
		rec := a.do(st.method, st.path, st.token, st.body)
		body := rec.Body.String()
		if rec.Code != st.status {
			t.Fatalf("%s: %s %s: %d %s; want %d", st.name, st.method, st.path, rec.Code, body, st.status)
		}
		for _, w := range st.want {
			if !strings.Contains(body, w) {
				t.Fatalf("%s: answer lacks %s:\n%s", st.name, w, body)
			}
		}
	}
	// The stored profile got the segment; the debug run changed nothing more.
	p, err := a.store.Profiles().Get(t.Context(), "p1")
	if err != nil || len(p.Segments) != 1 || p.Segments[0] != "big-spender" {
		t.Fatalf("profile %+v %v", p, err)
	}
	ev := a.do("GET", "/api/v1/profiles/p1/events", admin, nil)
	if !strings.Contains(ev.Body.String(), `"processed_by":{"rules":["r1"],"flows":["big-spender"]}`) {
		t.Fatalf("events: %s", ev.Body.String())
	}
}

func TestFlowNodeListingIsJSONSchema(t *testing.T) {
	a := newFlowServer(t)
	rec := a.do("GET", "/api/v1/flow-nodes", a.tokens[domain.RoleMarketer], nil)
	var list struct {
		Total int                 `json:"total"`
		Items []workflow.NodeInfo `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if list.Total < 30 || list.Total != len(list.Items) {
		t.Fatalf("total %d, items %d", list.Total, len(list.Items))
	}
	for _, n := range list.Items {
		sc := n.ConfigSchema
		if sc["$schema"] != "https://json-schema.org/draft/2020-12/schema" || sc["type"] != "object" || sc["additionalProperties"] != false {
			t.Errorf("%s: schema %v", n.ID, sc)
		}
		if n.ID == "webhook" {
			url := sc["properties"].(map[string]any)["url"].(map[string]any)
			if url["type"] != "string" || url["format"] != "template" || url["description"] == "" || url["examples"] == nil {
				t.Errorf("webhook url schema %v", url)
			}
			if req := sc["required"].([]any); len(req) != 1 || req[0] != "url" {
				t.Errorf("webhook required %v", req)
			}
		}
	}
}

func TestWorkflowRoutesAreDocumented(t *testing.T) {
	a := newFlowServer(t)
	doc, err := a.srv.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(doc)
	paths := decodeBody(t, b)["paths"].(map[string]any)
	for _, p := range []string{"/api/v1/rules", "/api/v1/flows/{id}", "/api/v1/flow-nodes", "/api/v1/flows/{id}/deploy",
		"/api/v1/flows/{id}/versions/{version}/restore", "/api/v1/flows/{id}/debug", "/api/v1/flows/{id}/runs", "/api/v1/resources", "/api/v1/flow-nodes/{type}/check"} {
		if paths[p] == nil {
			t.Errorf("%s is not in the OpenAPI document", p)
		}
	}
}
