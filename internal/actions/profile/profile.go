// Package profile holds node types that change what the profile says about a
// customer: segments, interests, consents, and merging with other profiles.
package profile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

const (
	category = "Profile"
	namePat  = `[A-Za-z0-9_-]{1,100}`
)

func init() {
	workflow.Register(workflow.Spec{
		ID: "add-segment", Name: "Add segment", Category: category,
		Description: "Adds the profile to a segment (profile.segments), unless it is in it already.",
		Doc: "Segments added here are kept by segmentation unless a segment with the same name is defined " +
			"with a condition the profile no longer meets.",
		Fields: []workflow.Field{
			workflow.StringField("segment", "The segment's name.").Req().Range(1, 200).Ex("big-spender"),
		},
		Examples: []workflow.Example{{Title: "Big spenders", Config: `{"segment": "big-spender"}`}},
		New:      func() workflow.Action { return &Segment{add: true} },
	})
	workflow.Register(workflow.Spec{
		ID: "remove-segment", Name: "Remove segment", Category: category,
		Description: "Removes the profile from a segment.",
		Fields: []workflow.Field{
			workflow.StringField("segment", "The segment's name.").Req().Range(1, 200).Ex("trial"),
		},
		Examples: []workflow.Example{{Title: "Trial is over", Config: `{"segment": "trial"}`}},
		New:      func() workflow.Action { return &Segment{} },
	})
	workflow.Register(workflow.Spec{
		ID: "add-interest", Name: "Add interest", Category: category,
		Description: "Sets an interest of the profile (profile.interests) to a value.",
		Fields: []workflow.Field{
			workflow.StringField("interest", "The interest.").Req().Match(namePat).Ex("running"),
			workflow.NumberField("value", "Its value.").Def(1.0),
		},
		Examples: []workflow.Example{{Title: "Likes running", Config: `{"interest": "running", "value": 1}`}},
		New:      func() workflow.Action { return new(SetInterest) },
	})
	for _, d := range []struct {
		id, name, verb string
		sign           float64
	}{
		{"increase-interest", "Increase interest", "Increases", 1},
		{"decrease-interest", "Decrease interest", "Decreases", -1},
	} {
		sign := d.sign
		workflow.Register(workflow.Spec{
			ID: d.id, Name: d.name, Category: category,
			Description: d.verb + " an interest of the profile (profile.interests) by an amount, from 0 when it is new.",
			Fields: []workflow.Field{
				workflow.StringField("interest", "The interest.").Req().Match(namePat).Ex("running"),
				workflow.NumberField("by", "The amount.").Def(1.0).Ex(0.5),
			},
			Examples: []workflow.Example{{Title: "Viewed a running shoe", Config: `{"interest": "running", "by": 0.5}`}},
			New:      func() workflow.Action { return &ChangeInterest{sign: sign} },
		})
	}
	workflow.Register(workflow.Spec{
		ID: "remove-interest", Name: "Remove interest", Category: category,
		Description: "Removes an interest from the profile.",
		Fields: []workflow.Field{
			workflow.StringField("interest", "The interest.").Req().Match(namePat).Ex("running"),
		},
		Examples: []workflow.Example{{Title: "Forget running", Config: `{"interest": "running"}`}},
		New:      func() workflow.Action { return new(RemoveInterest) },
	})
	workflow.Register(workflow.Spec{
		ID: "add-consent", Name: "Add consent", Category: category,
		Description: "Records the profile's answer to a consent type (profile.consents), with an optional revocation date.",
		Fields: []workflow.Field{
			workflow.StringField("consent", "The consent type's id.").Req().Match(namePat).Ex("marketing-email"),
			workflow.BoolField("granted", "Whether it is granted.").Def(true),
			workflow.TemplateField("revoke", "When it lapses: an RFC 3339 date; a template; empty for never.").Def("").
				Ex("{{event@properties.consent_until}}"),
		},
		Examples: []workflow.Example{{Title: "Marketing e-mails", Config: `{"consent": "marketing-email", "granted": true}`}},
		New:      func() workflow.Action { return new(Consent) },
	})
	workflow.Register(workflow.Spec{
		ID: "merge-profiles", Name: "Merge profiles", Category: category,
		Description: "Asks identity resolution to merge this profile with every other profile holding the same value at one of the given profile paths.",
		Doc: "The merge itself happens after the flows of the request, in the identity stage of the pipeline, " +
			"under the same rules as merges on the configured merge keys (the oldest profile survives). Keys are " +
			"profile paths of lower-case letters, digits and underscores, such as `data.contact.email.main`.",
		Fields: []workflow.Field{
			workflow.ListField("keys", workflow.TypeString, "Profile paths to merge on.").Req().Range(1, 20).
				Ex([]any{"data.contact.email.main"}),
		},
		Examples: []workflow.Example{{Title: "Merge on e-mail and phone", Config: `{"keys": ["data.contact.email.main", "data.contact.phone.main"]}`}},
		New:      func() workflow.Action { return new(Merge) },
	})
}

// Segment adds or removes a segment.
type Segment struct {
	Segment string `json:"segment"`
	add     bool
}

var segmentsRef = workflow.Ref{Scope: workflow.ScopeProfile, Path: "segments"}

// Run implements workflow.Action.
func (n *Segment) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	cur, _ := x.Get(segmentsRef)
	list, _ := cur.([]any)
	has := slices.Contains(list, any(n.Segment))
	switch {
	case n.add && !has:
		if err := x.Set(segmentsRef, append(slices.Clone(list), n.Segment)); err != nil {
			return nil, err
		}
	case !n.add && has:
		out := make([]any, 0, len(list))
		for _, s := range list {
			if s != n.Segment {
				out = append(out, s)
			}
		}
		if err := x.Set(segmentsRef, out); err != nil {
			return nil, err
		}
	}
	return workflow.Pass(x), nil
}

func interestRef(name string) workflow.Ref {
	return workflow.Ref{Scope: workflow.ScopeProfile, Path: "interests." + name}
}

// SetInterest sets an interest.
type SetInterest struct {
	Interest string  `json:"interest"`
	Value    float64 `json:"value"`
}

// Run implements workflow.Action.
func (n *SetInterest) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	if err := x.Set(interestRef(n.Interest), n.Value); err != nil {
		return nil, err
	}
	return workflow.Pass(x), nil
}

// ChangeInterest increases or decreases an interest.
type ChangeInterest struct {
	Interest string  `json:"interest"`
	By       float64 `json:"by"`
	sign     float64
}

// Run implements workflow.Action.
func (n *ChangeInterest) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	if err := x.Add(interestRef(n.Interest), n.sign*n.By); err != nil {
		return nil, err
	}
	return workflow.Pass(x), nil
}

// RemoveInterest removes an interest.
type RemoveInterest struct {
	Interest string `json:"interest"`
}

// Run implements workflow.Action.
func (n *RemoveInterest) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	if err := x.Delete(interestRef(n.Interest)); err != nil {
		return nil, err
	}
	return workflow.Pass(x), nil
}

// Consent records a consent.
type Consent struct {
	Consent string            `json:"consent"`
	Granted bool              `json:"granted"`
	Revoke  workflow.Template `json:"revoke"`
}

// Run implements workflow.Action.
func (n *Consent) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	c := map[string]any{"granted": n.Granted}
	if s := strings.TrimSpace(x.Render(n.Revoke)); s != "" {
		t, err := domain.ParseTime(s)
		if err != nil {
			return nil, fmt.Errorf("revoke: %w", err)
		}
		c["revoke"] = t.String()
	}
	if err := x.Set(workflow.Ref{Scope: workflow.ScopeProfile, Path: "consents." + n.Consent}, c); err != nil {
		return nil, err
	}
	return workflow.Pass(x), nil
}

// Merge asks for a merge.
type Merge struct {
	Keys []string `json:"keys"`
}

// Validate implements workflow.Validator.
func (n *Merge) Validate() error {
	for i, k := range n.Keys {
		k = strings.TrimPrefix(k, "profile@")
		if !domain.ValidKeyPath(k) {
			return workflow.FieldErrorf(fmt.Sprintf("keys[%d]", i), "%q is not a profile path of lower-case letters, digits and underscores", k)
		}
		n.Keys[i] = k
	}
	return nil
}

// Run implements workflow.Action.
func (n *Merge) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	x.Effects().MergeOn(n.Keys...)
	return workflow.Pass(x), nil
}

var (
	_ workflow.Action    = (*Segment)(nil)
	_ workflow.Action    = (*SetInterest)(nil)
	_ workflow.Action    = (*ChangeInterest)(nil)
	_ workflow.Action    = (*RemoveInterest)(nil)
	_ workflow.Action    = (*Consent)(nil)
	_ workflow.Action    = (*Merge)(nil)
	_ workflow.Validator = (*Merge)(nil)
)
