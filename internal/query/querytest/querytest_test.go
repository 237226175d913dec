package querytest

import (
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/query"
)

func TestCorpus(t *testing.T) {
	cs := Cases()
	if len(cs) < 150 {
		t.Errorf("corpus has %d cases, want at least 150", len(cs))
	}
	if err := CheckCorpus(cs); err != nil {
		t.Error(err)
	}
}

// TestCoverage fails when an operator or function of the language has no
// case in the corpus.
func TestCoverage(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Cases() {
		e, err := c.Parse()
		if err != nil {
			continue
		}
		query.Inspect(e, func(n query.Node) bool {
			switch n := n.(type) {
			case *query.Binary:
				seen[n.Op.String()] = true
			case *query.Not:
				seen["NOT"] = true
			case *query.Compare:
				seen[n.Op.String()] = true
			case *query.Between:
				seen["BETWEEN"] = true
			case *query.Check:
				seen[n.Op.String()] = true
			case *query.CaseFunc:
				if n.Upper {
					seen["upper"] = true
				} else {
					seen["lower"] = true
				}
			case *query.Now:
				if n.HasOffset {
					seen["now.offset"] = true
				} else {
					seen["now"] = true
				}
			case *query.DateTime:
				seen["datetime"] = true
			case *query.List:
				seen["list"] = true
			case *query.Literal:
				seen[n.Kind.String()] = true
			}
			return true
		})
	}
	for _, want := range []string{"AND", "OR", "NOT", "==", "!=", ">", ">=", "<", "<=", "CONTAINS",
		"STARTS WITH", "ENDS WITH", "BETWEEN", "EXISTS", "NOT EXISTS", "EMPTY", "NOT EMPTY", "IS NULL",
		"IS NOT NULL", "upper", "lower", "now", "now.offset", "datetime", "list", "string", "number",
		"boolean", "null"} {
		if !seen[want] {
			t.Errorf("no case uses %s", want)
		}
	}
}
