package mapping_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/mapping"
)

func TestCompileSchema(t *testing.T) {
	for _, tc := range []struct {
		schema, onInvalid, want string
	}{
		{`{"type": "object"}`, "", ""},
		{`true`, "store", ""},
		{`{"$defs": {"p": {"type": "number"}}, "properties": {"price": {"$ref": "#/$defs/p"}}}`, "reject", ""},
		{`"object"`, "", "schema: must be a JSON Schema"},
		{`{"type": "no-such-type"}`, "", "schema: is not a valid JSON Schema"},
		{`{"$ref": "file:///etc/passwd"}`, "", "schema: is not a valid JSON Schema"},
		{`{"$ref": "https://example.com/s.json"}`, "", "schema: is not a valid JSON Schema"},
		{`{"type": "object"}`, "drop", "on_invalid: must be"},
	} {
		_, err := mapping.Compile(&domain.EventType{Schema: json.RawMessage(tc.schema), OnInvalid: tc.onInvalid})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s (%s): err = %v, want %q", tc.schema, tc.onInvalid, err, tc.want)
		}
	}
}
