package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// TestOpenAPIDescribesEveryRoute fails when any registered route (collector, ops and
// GUI API) is missing from the document or has no Doc, and checks that the document
// hangs together: every $ref resolves, every path parameter is declared, operation
// ids are unique, and every GUI API operation lists the roles of the permission table.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	for _, opt := range []Options{{ExposeGUIAPI: true, Pprof: true}, {ExposeGUIAPI: false}} {
		a := newAccessServer(t, opt)
		doc, err := a.srv.OpenAPI()
		if err != nil {
			t.Fatal(err)
		}
		// Round-trip through JSON, as clients see it.
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		json.Unmarshal(b, &d)
		paths := d["paths"].(map[string]any)
		perms := map[string]perm{}
		for _, rt := range a.srv.Routes() {
			perms[rt.Pattern] = rt.Perm
		}
		n := 0
		for _, pattern := range a.srv.AllRoutes() {
			if undocumented(pattern) {
				continue
			}
			n++
			method, path, _ := strings.Cut(pattern, " ")
			path = pathParam.ReplaceAllString(strings.TrimSuffix(path, "{$}"), "{$1}")
			op, ok := at(paths, path, strings.ToLower(method)).(map[string]any)
			if !ok {
				t.Errorf("route %s is missing from the document", pattern)
				continue
			}
			if p, authed := perms[pattern]; authed {
				var roles []string
				for _, r := range op["x-roles"].([]any) {
					roles = append(roles, r.(string))
				}
				for _, role := range []string{domain.RoleAdmin, domain.RoleDeveloper, domain.RoleMarketer, domain.RoleMaintainer} {
					if slices.Contains(roles, role) != allows(p, []string{role}) {
						t.Errorf("%s: x-roles %v disagree with the permission table for %s", pattern, roles, role)
					}
				}
			} else if len(op["security"].([]any)) != 0 {
				t.Errorf("%s is public but documented as needing a token", pattern)
			}
		}
		if !opt.ExposeGUIAPI && n != len(collectOps(paths)) {
			t.Errorf("collector-only document has %d operations, server %d routes", len(collectOps(paths)), n)
		}
		for _, want := range []string{"/track", "/collect/{event_type}/{source_id}", "/healthz", "/readyz", "/metrics"} {
			if paths[want] == nil {
				t.Errorf("%s missing", want)
			}
		}
		checkRefs(t, d, d)
		ids := map[string]bool{}
		for path, ops := range collectOps(paths) {
			method, p, _ := strings.Cut(path, " ")
			id := ops["operationId"].(string)
			if ids[id] {
				t.Errorf("operationId %s used twice", id)
			}
			ids[id] = true
			declared := map[string]bool{}
			for _, prm := range asSlice(ops["parameters"]) {
				pm := prm.(map[string]any)
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
				}
			}
			for _, m := range pathParam.FindAllStringSubmatch(p, -1) {
				if !declared[m[1]] {
					t.Errorf("%s %s: path parameter %s not declared", method, p, m[1])
				}
			}
			if ops["responses"] == nil || ops["summary"] == "" {
				t.Errorf("%s %s: no responses or summary", method, p)
			}
		}
	}
}

func collectOps(paths map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			out[strings.ToUpper(m)+" "+p] = op.(map[string]any)
		}
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func at(doc any, keys ...string) any {
	for _, k := range keys {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[k]
	}
	return doc
}

func checkRefs(t *testing.T, root, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			keys := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
			if at(root, keys...) == nil {
				t.Errorf("$ref %s does not resolve", ref)
			}
		}
		for _, e := range x {
			checkRefs(t, root, e)
		}
	case []any:
		for _, e := range x {
			checkRefs(t, root, e)
		}
	}
}

// TestOpenAPIFailsWithoutDoc: a route registered without a Doc makes the document (and
// so this package's tests) fail, naming the route.
func TestOpenAPIFailsWithoutDoc(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	a.srv.handle("GET /api/v1/undocumented-thing", permSystem, func(w http.ResponseWriter, r *http.Request) {})
	_, err := a.srv.OpenAPI()
	if err == nil || !strings.Contains(err.Error(), "GET /api/v1/undocumented-thing") {
		t.Fatalf("err = %v", err)
	}
}

type schemaProbe struct {
	domain.Meta
	URL     string            `json:"url"`
	APIKey  string            `json:"api_key" secret:"true"`
	Headers map[string]string `json:"headers,omitempty"`
	Retries int               `json:"retries"`
	Next    *schemaProbe      `json:"next,omitempty"`
	Skip    string            `json:"-"`
	hidden  string
}

func TestSchemasFromGoTypes(t *testing.T) {
	g := &schemaGen{schemas: map[string]any{}, names: map[string]reflect.Type{}}
	ref := g.schema(reflect.TypeFor[schemaProbe]())
	if ref["$ref"] != "#/components/schemas/schemaProbe" {
		t.Fatalf("ref = %v", ref)
	}
	props := g.schemas["schemaProbe"].(map[string]any)["properties"].(map[string]any)
	for _, name := range []string{"id", "name", "tags", "version", "created", "url", "api_key", "headers", "retries", "next"} {
		if props[name] == nil {
			t.Errorf("property %s missing", name)
		}
	}
	for _, name := range []string{"Skip", "hidden", "Meta"} {
		if props[name] != nil {
			t.Errorf("property %s present", name)
		}
	}
	if at(props, "api_key", "format") != "password" || at(props, "created", "format") != "date-time" ||
		at(props, "retries", "type") != "integer" || at(props, "next", "$ref") != "#/components/schemas/schemaProbe" ||
		at(props, "headers", "additionalProperties", "type") != "string" || at(props, "tags", "items", "type") != "string" {
		t.Fatalf("properties: %v", props)
	}
}

// The /track body and answer are described field by field, each field with its meaning.
func TestOpenAPITrackContract(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: false})
	doc, err := a.srv.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(doc)
	var d map[string]any
	json.Unmarshal(b, &d)
	schemas := at(d, "components", "schemas").(map[string]any)
	resolve := func(s any) map[string]any {
		m, _ := s.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			return schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		}
		if any, ok := m["anyOf"].([]any); ok {
			return resolveFirst(any, schemas)
		}
		return m
	}
	op := at(d, "paths", "/track", "post").(map[string]any)
	body := resolve(at(op, "requestBody", "content", "application/json", "schema"))
	answer := resolve(at(op, "responses", "200", "content", "application/json", "schema"))
	bprops := body["properties"].(map[string]any)
	for _, f := range []string{"source", "session", "profile", "context", "properties", "options", "events"} {
		if p, ok := bprops[f].(map[string]any); !ok || p["description"] == nil {
			t.Errorf("body field %s missing or undescribed: %v", f, bprops[f])
		}
	}
	event := resolve(at(bprops, "events", "items"))
	eprops := event["properties"].(map[string]any)
	for _, f := range []string{"id", "type", "name", "properties", "context", "traits", "options", "tags", "time"} {
		if p, ok := eprops[f].(map[string]any); !ok || p["description"] == nil {
			t.Errorf("event field %s missing or undescribed: %v", f, eprops[f])
		}
	}
	if at(eprops, "time", "properties", "create", "description") == nil {
		t.Errorf("events[].time.create undescribed: %v", eprops["time"])
	}
	aprops := answer["properties"].(map[string]any)
	for _, f := range []string{"profile", "session", "events", "ux", "response", "errors", "warnings"} {
		if p, ok := aprops[f].(map[string]any); !ok || p["description"] == nil {
			t.Errorf("answer field %s missing or undescribed: %v", f, aprops[f])
		}
	}
}

func resolveFirst(list []any, schemas map[string]any) map[string]any {
	for _, s := range list {
		m := s.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			return schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		}
	}
	return nil
}
