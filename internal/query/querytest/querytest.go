// Package querytest holds the shared corpus of the condition language:
// conditions, documents and the ids each condition must match. Every back
// end of the language (in-memory evaluation, SQL, the search DSL) runs the
// same cases through Run, so that a segment counted in search and the same
// segment evaluated in a workflow always agree.
package querytest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query"
)

// Now is the instant now() stands for in every case. Dates in the
// documents are relative to it.
var Now = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

// Case is one condition run against a set of documents.
type Case struct {
	Name      string
	Condition string
	// DefaultScope is passed to the parser (search boxes); empty means
	// every field names its scope.
	DefaultScope string
	// Scope is the scope of Docs; empty means DefaultScope, or "profile".
	Scope string
	// Docs are documents of Scope, each with a string "id". Within a case
	// a given path holds the same JSON type in every document (null
	// aside, and an array counts as its elements' type), as a search
	// index maps each field once.
	Docs []map[string]any
	// Want lists the ids of the documents the condition matches.
	Want []string
	// NoSearch marks conditions a search back end may reject with an
	// error wrapping query.ErrUnsupported (comparisons between two
	// fields, array positions in paths). If it answers, it must answer
	// right.
	NoSearch bool
}

// DocScope returns the scope the case's documents belong to.
func (c Case) DocScope() string {
	switch {
	case c.Scope != "":
		return c.Scope
	case c.DefaultScope != "":
		return c.DefaultScope
	}
	return "profile"
}

// Parse parses the case's condition with its default scope.
func (c Case) Parse() (query.Expr, error) {
	return query.ParseOptions{DefaultScope: c.DefaultScope}.Parse(c.Condition)
}

// Backend runs one case and returns the ids of the matching documents,
// in any order.
type Backend interface {
	Match(t *testing.T, c Case) ([]string, error)
}

// BackendFunc adapts a function to Backend.
type BackendFunc func(t *testing.T, c Case) ([]string, error)

// Match implements Backend.
func (f BackendFunc) Match(t *testing.T, c Case) ([]string, error) { return f(t, c) }

// Run runs every case of the corpus against b, each as a subtest. A case
// fails when b's ids differ from Want, or when b fails (except that a
// NoSearch case may be answered with query.ErrUnsupported, which skips it).
func Run(t *testing.T, b Backend) {
	t.Helper()
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			got, err := b.Match(t, c)
			if err != nil {
				if c.NoSearch && errors.Is(err, query.ErrUnsupported) {
					t.Skipf("unsupported here: %v", err)
				}
				t.Fatalf("condition %s: %v", c.Condition, err)
			}
			got = slices.Clone(got)
			slices.Sort(got)
			want := slices.Clone(c.Want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("condition %s\n got: [%s]\nwant: [%s]", c.Condition, strings.Join(got, " "), strings.Join(want, " "))
			}
		})
	}
}

// CheckCorpus verifies the corpus's own rules: unique names, conditions
// that parse, ids on every document, wanted ids that exist and one JSON
// type per path within a case.
func CheckCorpus(cases []Case) error {
	var errs []error
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.Name] {
			errs = append(errs, fmt.Errorf("case %q: duplicate name", c.Name))
		}
		names[c.Name] = true
		if _, err := c.Parse(); err != nil {
			errs = append(errs, fmt.Errorf("case %q: %w", c.Name, err))
		}
		ids := map[string]bool{}
		types := map[string]string{}
		for _, d := range c.Docs {
			id, ok := d["id"].(string)
			if !ok || id == "" || ids[id] {
				errs = append(errs, fmt.Errorf("case %q: document without a unique string id: %v", c.Name, d))
			}
			ids[id] = true
			if err := collectTypes("", d, types); err != nil {
				errs = append(errs, fmt.Errorf("case %q: document %s: %w", c.Name, id, err))
			}
		}
		for _, w := range c.Want {
			if !ids[w] {
				errs = append(errs, fmt.Errorf("case %q: wanted id %q is not a document", c.Name, w))
			}
		}
	}
	return errors.Join(errs...)
}

func collectTypes(path string, v any, types map[string]string) error {
	var t string
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		for _, e := range x {
			if err := collectTypes(path, e, types); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		t = "object"
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if err := collectTypes(p, e, types); err != nil {
				return err
			}
		}
	case string:
		t = "string"
	case bool:
		t = "boolean"
	case float64, int, int64:
		t = "number"
	default:
		return fmt.Errorf("%s: unexpected Go type %T", path, v)
	}
	if path == "" {
		return nil
	}
	if old, ok := types[path]; ok && old != t {
		return fmt.Errorf("%s is both %s and %s", path, old, t)
	}
	types[path] = t
	return nil
}
