package all_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/all"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// catalogue is what the rest of the product relies on (issue 4 and docs/workflows.md).
var catalogue = []string{
	"start", "end", "if", "copy-data", "set-data", "append-data", "delete-data", "increment-counter", "decrement-counter",
	"add-segment", "remove-segment", "add-interest", "increase-interest", "decrease-interest", "remove-interest", "add-consent",
	"merge-profiles", "template", "string-operation", "regex", "url-parse", "date-operation", "math", "hash-data", "mask-data",
	"user-agent", "geo-ip", "webhook", "send-email", "inject-event", "tracker-response", "log", "throw-error",
}

// testedNodes collects the node ids named in the Node field of workflowtest.Case
// literals in the test files of the workflow and actions packages.
func testedNodes(t *testing.T) map[string]bool {
	t.Helper()
	tested := map[string]bool{}
	fset := token.NewFileSet()
	for _, root := range []string{"..", "../../workflow"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				kv, ok := n.(*ast.KeyValueExpr)
				if !ok {
					return true
				}
				if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "Node" {
					if lit, ok := kv.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						tested[s] = true
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return tested
}

// TestRegistryWalk fails for a node type without a description, documentation
// examples that pass its own spec and JSON Schema, config fields that match its
// decoded struct, or a table-driven test of its own.
func TestRegistryWalk(t *testing.T) {
	specs := workflow.Default.All()
	ids := make([]string, len(specs))
	for i, s := range specs {
		ids[i] = s.ID
	}
	for _, id := range catalogue {
		if !slices.Contains(ids, id) {
			t.Errorf("node type %q is missing from the catalogue", id)
		}
	}
	tested := testedNodes(t)
	for _, s := range specs {
		t.Run(s.ID, func(t *testing.T) {
			if len(strings.TrimSpace(s.Description)) < 20 {
				t.Errorf("description %q is too short", s.Description)
			}
			if !slices.Contains(workflow.Categories, s.Category) {
				t.Errorf("category %q is not one of %v", s.Category, workflow.Categories)
			}
			if len(s.Examples) == 0 {
				t.Error("no examples")
			}
			if !tested[s.ID] {
				t.Errorf("no test: add a workflowtest.Case{Node: %q, …} to the family's tests", s.ID)
			}
			for _, f := range s.Fields {
				if strings.TrimSpace(f.Description) == "" {
					t.Errorf("field %q has no description", f.Name)
				}
				if f.Required && f.Example == nil {
					t.Errorf("required field %q has no example", f.Name)
				}
			}
			checkStructMatchesSpec(t, s)

			info := s.Info()
			raw, _ := json.Marshal(info.ConfigSchema)
			schemaDoc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			c := jsonschema.NewCompiler()
			if err := c.AddResource("node.json", schemaDoc); err != nil {
				t.Fatal(err)
			}
			schema, err := c.Compile("node.json")
			if err != nil {
				t.Fatalf("config schema does not compile: %v\n%s", err, raw)
			}
			for _, ex := range s.Examples {
				if _, err := s.Decode(context.Background(), json.RawMessage(ex.Config), nil); err != nil {
					t.Errorf("example %q is rejected by the spec: %v", ex.Title, err)
				}
				inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(ex.Config))
				if err := schema.Validate(inst); err != nil {
					t.Errorf("example %q is rejected by the JSON Schema: %v", ex.Title, err)
				}
			}
			bogus := map[string]any{"no_such_field": 1}
			if err := schema.Validate(bogus); err == nil {
				t.Error("the JSON Schema accepts unknown fields")
			}
		})
	}
}

// checkStructMatchesSpec makes the spec the one source of truth: the decoded struct
// has exactly the spec's fields.
func checkStructMatchesSpec(t *testing.T, s *workflow.Spec) {
	t.Helper()
	typ := reflect.TypeOf(s.New()).Elem()
	var structFields []string
	for _, f := range reflect.VisibleFields(typ) {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			t.Errorf("exported field %s has no json name", f.Name)
			continue
		}
		structFields = append(structFields, name)
	}
	var specFields []string
	for _, f := range s.Fields {
		specFields = append(specFields, f.Name)
	}
	slices.Sort(structFields)
	slices.Sort(specFields)
	if !slices.Equal(structFields, specFields) {
		t.Errorf("config struct fields %v differ from spec fields %v", structFields, specFields)
	}
}
