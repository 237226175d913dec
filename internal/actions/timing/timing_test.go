package timing_test

import (
	"strings"
	"testing"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/timing"
	"github.com/thamesthrive/thamesthrive/internal/workflow/workflowtest"
)

func logged(want string) func(t *testing.T, r *workflowtest.Result) {
	return func(t *testing.T, r *workflowtest.Result) {
		t.Helper()
		if len(r.Node.Logs) == 0 || !strings.Contains(r.Node.Logs[0], want) {
			t.Fatalf("logs = %q, want %q", r.Node.Logs, want)
		}
	}
}

// The nodes' runs against the queue are tested end to end (test/e2e/later_test.go);
// here: their configs, and what they do in a run that has no queue.
func TestNodes(t *testing.T) {
	workflowtest.Run(t, workflowtest.Env{}, []workflowtest.Case{
		{Name: "sleep needs a duration", Node: "sleep", Config: `{}`, ConfigErr: "config.duration: is required"},
		{Name: "sleep at most 90 days", Node: "sleep", Config: `{"duration": "2161h"}`, ConfigErr: "duration"},
		{Name: "sleep not 0", Node: "sleep", Config: `{"duration": "0s"}`, ConfigErr: "duration"},
		{Name: "sleep not a duration", Node: "sleep", Config: `{"duration": "tomorrow"}`, ConfigErr: "duration"},
		{Name: "the debugger does not sleep", Node: "sleep", Config: `{"duration": "2160h"}`, Properties: map[string]any{"a": 1.0},
			Output: map[string]any{"a": 1}, Check: logged("would sleep 2160h0m0s")},

		{Name: "schedule needs delay or at", Node: "schedule-event", Config: `{"type": "x"}`, ConfigErr: "give delay or at"},
		{Name: "schedule not both", Node: "schedule-event", Config: `{"type": "x", "delay": "1h", "at": "{{profile@traits.t}}"}`, ConfigErr: "not both"},
		{Name: "schedule at most 90 days", Node: "schedule-event", Config: `{"type": "x", "delay": "2161h"}`, ConfigErr: "delay"},
		{Name: "schedule needs a type", Node: "schedule-event", Config: `{"delay": "1h"}`, ConfigErr: "config.type: is required"},
		{Name: "the debugger only reports", Node: "schedule-event", Config: `{"type": "reminder", "delay": "1h", "to": "memory@id"}`,
			Check: logged("would schedule a reminder event for")},
		{Name: "at must be a time", Node: "schedule-event", Config: `{"type": "reminder", "at": "{{event@properties.when}}"}`,
			Properties: map[string]any{"when": "next tuesday"}, Err: "not an RFC 3339 time"},
		{Name: "at too far", Node: "schedule-event", Config: `{"type": "reminder", "at": "{{event@properties.when}}"}`,
			Properties: map[string]any{"when": "2999-01-01T00:00:00Z"}, Err: "more than 90 days ahead"},
	})
}
