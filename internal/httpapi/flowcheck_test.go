package httpapi

import (
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

func TestFlowNodeCheck(t *testing.T) {
	a := newFlowServer(t)
	marketer, maint := a.tokens[domain.RoleMarketer], a.tokens[domain.RoleMaintainer]
	cases := []struct {
		name   string
		typ    string
		token  string
		body   any
		status int
		want   []string
	}{
		{"valid condition", "if", marketer, map[string]any{"config": map[string]any{"condition": "event@properties.price > 100"}}, 200, []string{`{"valid":true}`}},
		{"condition with its position", "if", marketer, map[string]any{"config": map[string]any{"condition": "event@properties.price >"}}, 400,
			[]string{`"field":"config.condition"`, "line 1, col 25"}},
		{"required field", "add-segment", marketer, map[string]any{"config": map[string]any{}}, 400, []string{`"field":"config.segment"`}},
		{"no config at all", "add-segment", marketer, map[string]any{}, 400, []string{`"field":"config.segment"`}},
		{"unknown field", "add-segment", marketer, map[string]any{"config": map[string]any{"segment": "a", "colour": "red"}}, 400, []string{`"field":"config.colour"`}},
		{"out of range", "math", marketer, map[string]any{"config": map[string]any{"operation": "round", "a": 1, "precision": 99}}, 400, []string{`"field":"config.precision"`}},
		{"not in the enum", "math", marketer, map[string]any{"config": map[string]any{"operation": "sqrt", "a": 1}}, 400, []string{`"field":"config.operation"`}},
		{"unclosed placeholder with its position", "template", marketer, map[string]any{"config": map[string]any{"template": "Hello\n  {{profile@x"}}, 400,
			[]string{`"field":"config.template"`, `line 2, col 3: `, "has no closing }}"}},
		{"unknown scope with its position", "template", marketer, map[string]any{"config": map[string]any{"template": "Hi {{bogus@x}}"}}, 400,
			[]string{`"field":"config.template"`, `line 1, col 6: `, "unknown scope"}},
		{"template in a value keeps the message", "math", marketer, map[string]any{"config": map[string]any{"operation": "add", "a": "{{bogus@x}}", "b": 1}}, 400,
			[]string{`"field":"config.a"`, "unknown scope"}},
		{"valid template", "template", marketer, map[string]any{"config": map[string]any{"template": "Hi {{profile@data.pii.firstname}}"}}, 200, []string{`"valid":true`}},
		{"config not an object", "if", marketer, map[string]any{"config": []any{1}}, 400, []string{`"field":"config`}},
		{"unknown type", "nope", marketer, map[string]any{"config": map[string]any{}}, 404, nil},
		{"not JSON", "if", marketer, "{", 400, nil},
		{"maintainer may not", "if", maint, map[string]any{"config": map[string]any{"condition": "1 == 1"}}, 403, nil},
		{"no token", "if", "", map[string]any{"config": map[string]any{}}, 401, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := a.do("POST", "/api/v1/flow-nodes/"+c.typ+"/check", c.token, c.body)
			body := rec.Body.String()
			if rec.Code != c.status {
				t.Fatalf("%d %s; want %d", rec.Code, body, c.status)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("answer lacks %s: %s", w, body)
				}
			}
		})
	}
	// Nothing was stored.
	if rec := a.do("GET", "/api/v1/flows", marketer, nil); !strings.Contains(rec.Body.String(), `"total":0`) {
		t.Fatalf("flows: %s", rec.Body.String())
	}
}
