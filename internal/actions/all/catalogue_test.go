package all_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

var update = flag.Bool("update", false, "rewrite the catalogue in docs/workflows.md")

const (
	docPath   = "../../../docs/workflows.md"
	beginMark = "<!-- BEGIN CATALOGUE: generated from the node specs, do not edit by hand -->\n"
	endMark   = "<!-- END CATALOGUE -->"
)

// TestCatalogueDoc keeps the catalogue in docs/workflows.md equal to the node specs.
func TestCatalogueDoc(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, beginMark), strings.Index(doc, endMark)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the catalogue markers", docPath)
	}
	want := workflow.Default.Catalogue()
	got := doc[i+len(beginMark) : j]
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("the catalogue in %s is stale; run: go test ./internal/actions/all -run TestCatalogueDoc -update", docPath)
	}
	fresh := doc[:i+len(beginMark)] + want + doc[j:]
	if err := os.WriteFile(docPath, []byte(fresh), 0o644); err != nil {
		t.Fatal(err)
	}
}
