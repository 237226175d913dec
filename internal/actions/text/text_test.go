package text_test

import (
	"testing"
	"time"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/text"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/workflow/workflowtest"
)

func TestNodes(t *testing.T) {
	now := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	props := map[string]any{"email": "  Ann@Example.COM ", "tags": "a; b;c", "price": 100.0, "url": "https://shop.example.com:8443/p/order-42?x=1&y=2&y=3#top"}
	workflowtest.Run(t, workflowtest.Env{Now: now}, []workflowtest.Case{
		{Name: "lower", Node: "string-operation", Config: `{"value": "{{event@properties.email}}", "operation": "lower"}`, Properties: props, Output: "  ann@example.com "},
		{Name: "upper", Node: "string-operation", Config: `{"value": "abc", "operation": "upper"}`, Output: "ABC"},
		{Name: "trim to profile", Node: "string-operation", Config: `{"value": "{{event@properties.email}}", "operation": "trim", "to": "profile@data.contact.email.main"}`,
			Properties: props, Output: "Ann@Example.COM", Check: func(t *testing.T, r *workflowtest.Result) {
				if v, _ := domain.GetPath(r.Profile.Data, "contact.email.main"); v != "Ann@Example.COM" {
					t.Fatalf("data = %v", r.Profile.Data)
				}
			}},
		{Name: "capitalize", Node: "string-operation", Config: `{"value": "éva", "operation": "capitalize"}`, Output: "Éva"},
		{Name: "length", Node: "string-operation", Config: `{"value": "héllo", "operation": "length"}`, Output: 5},
		{Name: "split", Node: "string-operation", Config: `{"value": "{{event@properties.tags}}", "operation": "split", "separator": ";"}`, Properties: props, Output: []any{"a", "b", "c"}},
		{Name: "replace", Node: "string-operation", Config: `{"value": "a-b-c", "operation": "replace", "old": "-", "new": "+"}`, Output: "a+b+c"},
		{Name: "replace needs old", Node: "string-operation", Config: `{"value": "a", "operation": "replace"}`, ConfigErr: "config.old: is required for replace"},
		{Name: "unknown operation", Node: "string-operation", Config: `{"value": "a", "operation": "reverse"}`, ConfigErr: "config.operation: must be one of"},

		{Name: "match", Node: "regex", Config: `{"value": "{{event@properties.url}}", "pattern": "order-[0-9]+"}`, Properties: props, Output: true},
		{Name: "extract named", Node: "regex", Config: `{"value": "{{event@properties.url}}", "pattern": "order-(?P<id>[0-9]+)", "operation": "extract", "to": "memory@order"}`,
			Properties: props, Output: map[string]any{"id": "42"}},
		{Name: "extract groups", Node: "regex", Config: `{"value": "a1b2", "pattern": "([a-z])([0-9])", "operation": "extract"}`, Output: []any{"a", "1"}},
		{Name: "find-all", Node: "regex", Config: `{"value": "a1b2c3", "pattern": "[0-9]", "operation": "find-all"}`, Output: []any{"1", "2", "3"}},
		{Name: "replace", Node: "regex", Config: `{"value": "a1b2", "pattern": "[0-9]", "operation": "replace", "replacement": "#"}`, Output: "a#b#"},
		{Name: "bad pattern", Node: "regex", Config: `{"value": "x", "pattern": "("}`, ConfigErr: "config.pattern: error parsing regexp"},

		{Name: "parts", Node: "url-parse", Config: `{"url": "{{event@properties.url}}"}`, Properties: props,
			Output: map[string]any{"scheme": "https", "host": "shop.example.com:8443", "hostname": "shop.example.com", "port": "8443",
				"path": "/p/order-42", "query": map[string]any{"x": "1", "y": []any{"2", "3"}}, "raw_query": "x=1&y=2&y=3", "fragment": "top"}},
		{Name: "default is the hit", Node: "url-parse", Err: "the URL is empty"},

		{Name: "format now", Node: "date-operation", Config: `{"layout": "date"}`, Output: "2024-05-01"},
		{Name: "add", Node: "date-operation", Config: `{"value": "2024-05-01T10:00:00Z", "operation": "add", "offset": "-1d", "layout": "rfc3339"}`, Output: "2024-04-30T10:00:00Z"},
		{Name: "unix in", Node: "date-operation", Config: `{"value": "86400", "layout": "unix_ms"}`, Output: 86400000},
		{Name: "parts", Node: "date-operation", Config: `{"value": "2024-05-01T10:30:00Z", "operation": "parts"}`,
			Output: map[string]any{"year": 2024, "month": 5, "day": 1, "hour": 10, "minute": 30, "second": 0, "weekday": "Wednesday", "iso_year": 2024, "iso_week": 18, "unix": 1714559400}},
		{Name: "since", Node: "date-operation", Config: `{"value": "2024-05-01T09:00:00Z", "operation": "since"}`, Output: 3600},
		{Name: "not a date", Node: "date-operation", Config: `{"value": "soon"}`, Err: `"soon" is not a date`},
		{Name: "add needs an offset", Node: "date-operation", Config: `{"operation": "add"}`, ConfigErr: "config.offset: is required"},

		{Name: "multiply", Node: "math", Config: `{"operation": "multiply", "a": "{{event@properties.price}}", "b": 1.2}`, Properties: props, Output: 120},
		{Name: "strings hold numbers", Node: "math", Config: `{"operation": "add", "a": "2", "b": " 3.5 ", "to": "profile@data.metrics.ltv"}`, Output: 5.5,
			Check: func(t *testing.T, r *workflowtest.Result) {
				if v, _ := domain.GetPath(r.Profile.Data, "metrics.ltv"); v != 5.5 {
					t.Fatalf("ltv = %v", v)
				}
			}},
		{Name: "round", Node: "math", Config: `{"operation": "round", "a": 2.345, "precision": 2}`, Output: 2.35},
		{Name: "modulo", Node: "math", Config: `{"operation": "modulo", "a": 7, "b": 3}`, Output: 1},
		{Name: "divide by zero", Node: "math", Config: `{"operation": "divide", "a": 7, "b": 0}`, Err: "division by zero"},
		{Name: "not a number", Node: "math", Config: `{"operation": "abs", "a": "{{event@properties.none}}"}`, Err: "not a number"},
		{Name: "b required", Node: "math", Config: `{"operation": "add", "a": 1}`, ConfigErr: "config.b: is required for add"},

		{Name: "sha256", Node: "hash-data", Config: `{"refs": ["event@properties.email", "event@properties.none"]}`,
			Properties: map[string]any{"email": "a@b.c"}, Check: func(t *testing.T, r *workflowtest.Result) {
				if r.Event.Properties["email"] != "d648b243a3e817eaa3309e00e183483f2867baadf522099f0c2121770536b25a" {
					t.Fatalf("email = %v", r.Event.Properties["email"])
				}
				if _, ok := r.Event.Properties["none"]; ok {
					t.Fatal("a missing value was created")
				}
			}},
		{Name: "md5 with salt", Node: "hash-data", Config: `{"refs": ["payload@v"], "algorithm": "md5", "salt": "s"}`,
			Payload: map[string]any{"v": "x"}, Output: map[string]any{"v": "2c38b9e45cec1b324dde4e3d5b22c648"}},
		{Name: "cannot hash ids", Node: "hash-data", Config: `{"refs": ["event@id"]}`, Err: "read-only"},

		{Name: "mask", Node: "mask-data", Config: `{"refs": ["payload@card"], "keep_last": 4}`,
			Payload: map[string]any{"card": "4111111111111111"}, Output: map[string]any{"card": "************1111"}},
		{Name: "email", Node: "mask-data", Config: `{"refs": ["payload@email"], "mode": "email"}`,
			Payload: map[string]any{"email": "annabel@example.com"}, Output: map[string]any{"email": "a******@example.com"}},
		{Name: "remove", Node: "mask-data", Config: `{"refs": ["payload@email"], "mode": "remove"}`,
			Payload: map[string]any{"email": "a@b.c", "k": 1}, Output: map[string]any{"k": 1}},
		{Name: "mode enum", Node: "mask-data", Config: `{"refs": ["payload@x"], "mode": "blur"}`, ConfigErr: "config.mode: must be one of"},
	})
}
