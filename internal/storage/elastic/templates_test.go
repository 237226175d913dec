package elastic

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateTemplates = flag.Bool("update-templates", false, "write testdata/templates-v<SchemaVersion>.json when it does not exist")

// TestTemplatesMatchSchemaVersion ties the index templates to SchemaVersion: the
// templates of each version are kept in testdata/templates-v<N>.json, and a change to
// template() or mapping() without a new version fails here. After a change: bump
// SchemaVersion, say what changed in schemaHistory, make migrate take earlier clusters
// to it, run this test with -update-templates, and add the integration fixture of the
// new version (docs/reliability.md, "Upgrades").
func TestTemplatesMatchSchemaVersion(t *testing.T) {
	got, err := json.MarshalIndent(Templates("@PREFIX@"), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	file := filepath.Join("testdata", fmt.Sprintf("templates-v%d.json", SchemaVersion))
	want, err := os.ReadFile(file)
	if os.IsNotExist(err) && *updateTemplates {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", file)
		return
	}
	if err != nil {
		t.Fatalf("%v: the templates of schema %d are not recorded; run `go test ./internal/storage/elastic -run TestTemplatesMatchSchemaVersion -update-templates`", err, SchemaVersion)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the index templates differ from %s, the templates of schema %d: a template or mapping change bumps SchemaVersion "+
			"(internal/storage/elastic/schema.go), says what it changed in schemaHistory and keeps migrate able to bring "+
			"older clusters to it; then run this test with -update-templates. Recorded versions are never rewritten.", file, SchemaVersion)
	}
	for v := 1; v <= SchemaVersion; v++ {
		if schemaHistory[v] == "" {
			t.Errorf("schemaHistory has no entry for version %d", v)
		}
	}
}
