package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md")

const docPath = "../../docs/configuration.md"

// TestConfigurationDoc fails when docs/configuration.md is not what the table of
// variables generates (`make generate` rewrites it).
func TestConfigurationDoc(t *testing.T) {
	want := Markdown()
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatal("docs/configuration.md is stale: run `make generate`")
	}
}

// TestEveryVariableIsDeclaredOnce: names are unique, documented, and each parses into
// Config (a value that does not parse names the variable).
func TestEveryVariableIsDeclaredOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range Vars() {
		if seen[v.Name] || v.Doc == "" || v.parse == nil {
			t.Errorf("%s: declared twice, undocumented or without a parser", v.Name)
		}
		seen[v.Name] = true
		if strings.Contains(v.Doc, "|") {
			t.Errorf("%s: a | in the documentation breaks the table", v.Name)
		}
	}
}
