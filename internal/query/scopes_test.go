package query

import "testing"

func TestParseRestrictsScopes(t *testing.T) {
	tests := []struct {
		name string
		opts ParseOptions
		src  string
		want string // error text; "" for none
	}{
		{"allowed", ParseOptions{Scopes: []string{"event", "profile"}}, `event@type == "x" AND profile@stats.visits > 1`, ""},
		{"default scope allowed", ParseOptions{DefaultScope: "profile", Scopes: []string{"profile"}}, `stats.visits > 1`, ""},
		{"default wording", ParseOptions{Scopes: []string{"profile", "event"}}, `profile@a == 1 OR session@b == 2`,
			"line 1, col 19: only profile@ and event@ fields can be used here, not session@"},
		{"own wording", ParseOptions{DefaultScope: "profile", Scopes: []string{"profile"}, ScopeMessage: "a segment condition can only use profile fields"},
			`a == 1 AND event@type == "x"`, "line 1, col 12: a segment condition can only use profile fields, not event@"},
		{"first offending field in source order", ParseOptions{Scopes: []string{"profile"}}, `NOT (flow@x == 1) OR memory@y == 2`,
			"line 1, col 6: only profile@ fields can be used here, not flow@"},
		{"a syntax error is reported as before", ParseOptions{Scopes: []string{"profile"}}, `event@x ==`, "syntax"},
		{"no restriction", ParseOptions{}, `memory@x == 1`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.Parse(tc.src)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.want == "syntax":
				if _, ok := err.(*Error); !ok || err == nil {
					t.Fatalf("Parse = %v, want a syntax *Error", err)
				}
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("Parse = %v, want %q", err, tc.want)
			}
		})
	}
}
