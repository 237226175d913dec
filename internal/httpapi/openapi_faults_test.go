package httpapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesAnswers holds the fixes of what Schemathesis found
// (scripts/schemathesis): values answered as null are documented as nullable, and the
// error statuses routes answer are listed.
func TestOpenAPIMatchesAnswers(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	doc, err := a.srv.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(doc)
	var d map[string]any
	json.Unmarshal(b, &d)
	schemas := at(d, "components", "schemas").(map[string]any)
	for _, tc := range []struct{ schema, prop string }{
		{"Event", "data"},     // GET /api/v1/events/{id}, /events/search, /profiles/{id}/events, /export
		{"VisitTime", "last"}, // a first visit has no last one: /profiles/{id}, /profiles/search, /export
	} {
		t.Run(tc.schema+"."+tc.prop, func(t *testing.T) {
			typ := at(schemas, tc.schema, "properties", tc.prop, "type")
			if s, ok := typ.([]any); !ok || !slices.Contains(s, any("null")) {
				t.Fatalf("%s.%s has type %v; the answer holds null when unset", tc.schema, tc.prop, typ)
			}
		})
	}
	ops := collectOps(d["paths"].(map[string]any))
	for name, op := range ops { // a malformed flow version number answers 400
		if strings.Contains(name, "{version}") && at(op, "responses", "400") == nil {
			t.Errorf("%s does not list 400", name)
		}
	}
	for _, tc := range []struct {
		op     string
		status int
	}{
		{"POST /api/v1/auth/token", 401},
		{"POST /api/v1/install", 403},
		{"POST /api/v1/conditions/check", 404},
		{"DELETE /api/v1/users/{id}", 409},
		{"POST /track", 401},
		{"POST /track", 403},
		{"POST /track", 413},
		{"POST /track", 503},
		{"POST /collect/{event_type}/{source_id}", 401},
		{"GET /api/v1/profiles/{id}", 503},
	} {
		t.Run(fmt.Sprint(tc.op, " ", tc.status), func(t *testing.T) {
			op, ok := ops[tc.op]
			if !ok {
				t.Fatalf("no operation %s", tc.op)
			}
			if at(op, "responses", fmt.Sprint(tc.status)) == nil {
				t.Fatalf("%s does not list %d", tc.op, tc.status)
			}
		})
	}
}
