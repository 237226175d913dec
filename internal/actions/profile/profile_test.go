package profile_test

import (
	"slices"
	"testing"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/profile"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/workflow/workflowtest"
)

func profile(f func(p *domain.Profile)) *domain.Profile {
	p := domain.NewProfile("p1", domain.Now())
	f(p)
	return p
}

func TestNodes(t *testing.T) {
	segs := func(want ...string) func(t *testing.T, r *workflowtest.Result) {
		return func(t *testing.T, r *workflowtest.Result) {
			if !slices.Equal(r.Profile.Segments, want) {
				t.Fatalf("segments = %v, want %v", r.Profile.Segments, want)
			}
		}
	}
	interests := func(want map[string]float64) func(t *testing.T, r *workflowtest.Result) {
		return func(t *testing.T, r *workflowtest.Result) {
			if !workflowtest.JSONEqual(r.Profile.Interests, want) {
				t.Fatalf("interests = %v, want %v", r.Profile.Interests, want)
			}
		}
	}
	withSeg := profile(func(p *domain.Profile) { p.Segments = []string{"a", "big-spender"} })
	withInt := func() *domain.Profile { return profile(func(p *domain.Profile) { p.Interests["running"] = 2 }) }
	workflowtest.Run(t, workflowtest.Env{}, []workflowtest.Case{
		{Name: "add", Node: "add-segment", Config: `{"segment": "big-spender"}`, Check: segs("big-spender")},
		{Name: "add twice is once", Node: "add-segment", Config: `{"segment": "big-spender"}`, Profile: withSeg, Check: segs("a", "big-spender")},
		{Name: "name required", Node: "add-segment", Config: `{"segment": ""}`, ConfigErr: "config.segment: must be 1 to 200 characters"},
		{Name: "remove", Node: "remove-segment", Config: `{"segment": "a"}`,
			Profile: profile(func(p *domain.Profile) { p.Segments = []string{"a", "b"} }), Check: segs("b")},
		{Name: "remove missing", Node: "remove-segment", Config: `{"segment": "zzz"}`, Check: segs()},

		{Name: "set", Node: "add-interest", Config: `{"interest": "running", "value": 0.5}`, Profile: withInt(), Check: interests(map[string]float64{"running": 0.5})},
		{Name: "increase from nothing", Node: "increase-interest", Config: `{"interest": "yoga"}`, Check: interests(map[string]float64{"yoga": 1})},
		{Name: "increase", Node: "increase-interest", Config: `{"interest": "running", "by": 0.5}`, Profile: withInt(), Check: interests(map[string]float64{"running": 2.5})},
		{Name: "decrease", Node: "decrease-interest", Config: `{"interest": "running", "by": 3}`, Profile: withInt(), Check: interests(map[string]float64{"running": -1})},
		{Name: "remove", Node: "remove-interest", Config: `{"interest": "running"}`, Profile: withInt(), Check: interests(map[string]float64{})},
		{Name: "bad name", Node: "increase-interest", Config: `{"interest": "a b"}`, ConfigErr: "config.interest: must match"},

		{Name: "granted with revoke", Node: "add-consent", Config: `{"consent": "marketing", "revoke": "{{event@properties.until}}"}`,
			Properties: map[string]any{"until": "2030-01-01"}, Check: func(t *testing.T, r *workflowtest.Result) {
				c, ok := r.Profile.Consents["marketing"]
				if !ok || !c.Granted || c.Revoke == nil || c.Revoke.Year() != 2030 {
					t.Fatalf("consents = %+v", r.Profile.Consents)
				}
			}},
		{Name: "refused", Node: "add-consent", Config: `{"consent": "marketing", "granted": false}`, Check: func(t *testing.T, r *workflowtest.Result) {
			if c, ok := r.Profile.Consents["marketing"]; !ok || c.Granted || c.Revoke != nil {
				t.Fatalf("consents = %+v", r.Profile.Consents)
			}
		}},
		{Name: "bad date", Node: "add-consent", Config: `{"consent": "m", "revoke": "soon"}`, Err: "revoke"},

		{Name: "asks for a merge", Node: "merge-profiles", Config: `{"keys": ["profile@data.contact.email.main", "data.identifier.id"]}`,
			Check: func(t *testing.T, r *workflowtest.Result) {
				if !slices.Equal(r.Effects.MergeKeys, []string{"data.contact.email.main", "data.identifier.id"}) {
					t.Fatalf("merge keys = %v", r.Effects.MergeKeys)
				}
			}},
		{Name: "bad key", Node: "merge-profiles", Config: `{"keys": ["Data.Email"]}`, ConfigErr: "config.keys[0]"},
		{Name: "keys required", Node: "merge-profiles", Config: `{"keys": []}`, ConfigErr: "between 1 and 20 items"},
	})
}
