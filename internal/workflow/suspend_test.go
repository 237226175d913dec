package workflow_test

import (
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

func TestContinuationCodec(t *testing.T) {
	ev := &domain.Event{ID: "e1", Type: "signup", Profile: domain.Ref{ID: "p1"}, Properties: map[string]any{"plan": "gold"}}
	c := &workflow.Continuation{Key: "run:wait", FlowID: "f", Version: 3, RuleID: "r", Node: "wait", Port: "payload",
		Payload: map[string]any{"a": 1.0}, Memory: map[string]any{"m": []any{"x"}}, Event: ev, ProfileID: "p1", SessionID: "s1",
		Suspended: domain.Now(), Due: domain.Now()}
	b, err := workflow.EncodeContinuation(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := workflow.DecodeContinuation(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != c.Key || got.FlowID != "f" || got.Version != 3 || got.RuleID != "r" || got.Node != "wait" || got.ProfileID != "p1" ||
		got.SessionID != "s1" || got.Payload.(map[string]any)["a"] != 1.0 || got.Memory["m"].([]any)[0] != "x" ||
		got.Event.ID != "e1" || got.Event.Properties["plan"] != "gold" || !got.Due.Time.Equal(c.Due.Time) {
		t.Fatalf("round trip: %+v", got)
	}

	for _, tc := range []struct{ name, in, err string }{
		{"not JSON", `{`, "decoding"},
		{"unknown version", `{"v": 2, "key": "k", "flow_id": "f", "flow_version": 1, "node": "n", "profile_id": "p"}`, "unknown encoding version 2"},
		{"no node", `{"v": 1, "key": "k", "flow_id": "f", "flow_version": 1, "profile_id": "p"}`, "are required"},
		{"no profile", `{"v": 1, "key": "k", "flow_id": "f", "flow_version": 1, "node": "n"}`, "are required"},
		{"a draft", `{"v": 1, "key": "k", "flow_id": "f", "flow_version": 0, "node": "n", "profile_id": "p"}`, "only deployed versions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := workflow.DecodeContinuation([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
	// Defaults: the payload port, an empty memory.
	got, err = workflow.DecodeContinuation([]byte(`{"v": 1, "key": "k", "flow_id": "f", "flow_version": 1, "node": "n", "profile_id": "p"}`))
	if err != nil || got.Port != "payload" || got.Memory == nil {
		t.Fatalf("defaults: %+v, %v", got, err)
	}
}
