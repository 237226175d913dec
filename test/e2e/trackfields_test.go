package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The /track contract over HTTP: unknown fields are answered as warnings (still 200,
// the known fields recorded); a mistyped field is a 400 naming it with its index.
func TestTrackUnknownFieldsAndFieldErrors(t *testing.T) {
	s := start(t, "")
	s.source("web")
	cases := []struct {
		name, body string
		status     int
		want       string // a warning containing it (200) or the error's field (400)
	}{
		{"misspelt props", `{"source":{"id":"web"},"events":[{"type":"page-view","props":{"a":1}}]}`, 200, "events[0].props"},
		{"unknown top-level field", `{"source":{"id":"web"},"debug":true,"events":[{"type":"page-view"}]}`, 200, "debug"},
		{"no unknown fields", `{"source":{"id":"web"},"events":[{"type":"page-view","properties":{"a":1}}]}`, 200, ""},
		{"third event's time", `{"source":{"id":"web"},"events":[{"type":"a"},{"type":"b"},{"type":"c","time":{"create":"tomorrow"}}]}`, 400, "events[2].time.create"},
		{"tag not a string", `{"source":{"id":"web"},"events":[{"type":"a","tags":["x",1]}]}`, 400, "events[0].tags[1]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("POST", "/track", tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			var out struct {
				Warnings []string `json:"warnings"`
				Field    string   `json:"field"`
				Profile  struct{ ID string }
			}
			if err := json.Unmarshal(r.Body, &out); err != nil {
				t.Fatal(err)
			}
			if tc.status != http.StatusOK {
				if out.Field != tc.want {
					t.Fatalf("error names %q, want %q: %s", out.Field, tc.want, r.Body)
				}
				return
			}
			found := tc.want == "" && len(out.Warnings) == 0
			for _, w := range out.Warnings {
				found = found || (tc.want != "" && strings.Contains(w, tc.want))
			}
			if !found {
				t.Fatalf("warnings %q, want one naming %q", out.Warnings, tc.want)
			}
			if out.Profile.ID == "" {
				t.Fatal("no profile id in the answer")
			}
		})
	}
}
