package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Catalogue renders the node types as Markdown, by category: what each does, its
// ports, its config fields and its examples. docs/workflows.md embeds it; a test keeps
// that copy fresh.
func (r *Registry) Catalogue() string {
	var b strings.Builder
	specs := r.All()
	b.WriteString("| node | category | what it does |\n|---|---|---|\n")
	for _, s := range specs {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", s.ID, s.ID, s.Category, cell(s.Description))
	}
	cat := ""
	for _, s := range specs {
		if s.Category != cat {
			cat = s.Category
			fmt.Fprintf(&b, "\n### %s\n", cat)
		}
		fmt.Fprintf(&b, "\n#### %s\n\n**%s.** %s\n", s.ID, s.Name, s.Description)
		if s.Doc != "" {
			fmt.Fprintf(&b, "\n%s\n", s.Doc)
		}
		fmt.Fprintf(&b, "\nInputs: %s. Outputs: %s.\n", portList(s.InputPorts()), portList(s.OutputPorts()))
		if len(s.Fields) > 0 {
			b.WriteString("\n| field | type | default | description |\n|---|---|---|---|\n")
			for _, f := range s.Fields {
				typ := string(f.Type)
				switch f.Type {
				case TypeList:
					typ = "list of " + string(f.Elem)
				case TypeMap:
					key := f.Key
					if key == "" {
						key = TypeString
					}
					typ = fmt.Sprintf("map %s → %s", key, f.Elem)
				}
				def := ""
				switch {
				case f.Required:
					def = "required"
				case f.Default != nil:
					def = "`" + compact(f.Default) + "`"
				}
				desc := f.Description
				if len(f.Enum) > 0 {
					desc += " One of: " + strings.Join(f.Enum, ", ") + "."
				}
				if f.Advanced {
					desc += " (advanced)"
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Name, typ, def, cell(desc))
			}
		}
		for _, ex := range s.Examples {
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, []byte(ex.Config), "", "  ")
			fmt.Fprintf(&b, "\n%s:\n\n```json\n%s\n```\n", ex.Title, pretty.String())
		}
	}
	return b.String()
}

func portList(ps []Port) string {
	if len(ps) == 0 {
		return "none"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = "`" + p.Name + "`"
	}
	return strings.Join(names, ", ")
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func compact(v any) string {
	b, err := json.Marshal(toJSON(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.ReplaceAll(string(b), "|", `\|`)
}
