package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
)

// expectation is something a fixture should leave in the database after a run: a rule or
// flow that processed events, profiles in a segment or holding a counter, interest, trait
// or consent. A fixture that silently does nothing fails one.
type expectation struct {
	File string // the fixture that asks for it
	Kind string // rule, flow, segment, counter, interest, trait, consent
	Name string
}

// what tells where the expectation is counted and how it reads in the report.
func (e expectation) count(ef *effects) (n int64, unit string) {
	m := map[string]map[string]int64{
		"rule": ef.RuleEvents, "flow": ef.FlowEvents, "segment": ef.Segments, "counter": ef.Counters,
		"interest": ef.Interests, "trait": ef.Traits, "consent": ef.Consents,
	}[e.Kind]
	unit = "profiles"
	if e.Kind == "rule" || e.Kind == "flow" {
		unit = "events"
	}
	return m[e.Name], unit
}

// fixtureExpectations reads the fixtures of dir (as applyFixtures does) and tells what they
// should do: every rule with an id and every deployed flow should process events, every
// enabled segment should hold profiles, and every counter, interest, consent, segment and
// profile trait a deployed flow's nodes write should be on profiles.
func fixtureExpectations(dir string) ([]expectation, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	type flowDraft struct {
		ID    string `json:"id"`
		Draft struct {
			Nodes []struct {
				Type   string          `json:"type"`
				Config json.RawMessage `json:"config"`
			} `json:"nodes"`
		} `json:"draft"`
	}
	drafts := map[string]flowDraft{}
	var out []expectation
	for _, f := range files {
		var fx fixture
		if err := readJSON(f, &fx); err != nil {
			return nil, fmt.Errorf("fixture %s: %w", f, err)
		}
		method := strings.ToUpper(fx.Method)
		if method == "" {
			method = "POST"
		}
		base := filepath.Base(f)
		path := strings.TrimSuffix(fx.Path, "/")
		switch {
		case method == "POST" && path == "/api/v1/flows", method == "PUT" && strings.HasPrefix(path, "/api/v1/flows/") && strings.Count(path, "/") == 4:
			var d flowDraft
			if err := json.Unmarshal(fx.Body, &d); err != nil {
				return nil, fmt.Errorf("fixture %s: %w", f, err)
			}
			if d.ID == "" {
				d.ID = strings.TrimPrefix(path, "/api/v1/flows/")
			}
			drafts[d.ID] = d
		case method == "POST" && strings.HasPrefix(path, "/api/v1/flows/") && strings.HasSuffix(path, "/deploy"):
			id := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v1/flows/"), "/deploy")
			out = append(out, expectation{base, "flow", id})
			for _, n := range drafts[id].Draft.Nodes {
				out = append(out, nodeExpectations(base, n.Type, n.Config)...)
			}
		case method == "POST" && path == "/api/v1/rules":
			var r struct {
				ID      string `json:"id"`
				Enabled *bool  `json:"enabled"`
			}
			if err := json.Unmarshal(fx.Body, &r); err != nil {
				return nil, fmt.Errorf("fixture %s: %w", f, err)
			}
			if r.ID != "" && (r.Enabled == nil || *r.Enabled) {
				out = append(out, expectation{base, "rule", r.ID})
			}
		case method == "POST" && path == "/api/v1/segments":
			var s struct {
				Name    string `json:"name"`
				Enabled *bool  `json:"enabled"`
			}
			if err := json.Unmarshal(fx.Body, &s); err != nil {
				return nil, fmt.Errorf("fixture %s: %w", f, err)
			}
			if s.Enabled == nil || *s.Enabled {
				out = append(out, expectation{base, "segment", machineName(s.Name)})
			}
		}
	}
	// One expectation per thing: two flows writing one counter need it once.
	var uniq []expectation
	for _, e := range out {
		if !slices.ContainsFunc(uniq, func(u expectation) bool { return u.Kind == e.Kind && u.Name == e.Name }) {
			uniq = append(uniq, e)
		}
	}
	return uniq, nil
}

// nodeExpectations tells what a node of a deployed flow leaves on profiles.
func nodeExpectations(file, typ string, config json.RawMessage) []expectation {
	var c struct {
		Counter  string            `json:"counter"`
		Interest string            `json:"interest"`
		Consent  string            `json:"consent"`
		Segment  string            `json:"segment"`
		Set      map[string]any    `json:"set"`
		Copy     map[string]string `json:"copy"`
	}
	if len(config) > 0 && json.Unmarshal(config, &c) != nil {
		return nil
	}
	var out []expectation
	switch typ {
	case "increment-counter", "decrement-counter":
		out = append(out, expectation{file, "counter", c.Counter})
	case "add-interest", "increase-interest":
		out = append(out, expectation{file, "interest", c.Interest})
	case "add-consent":
		out = append(out, expectation{file, "consent", c.Consent})
	case "add-segment":
		out = append(out, expectation{file, "segment", c.Segment})
	case "set-data", "copy-data":
		targets := slices.Collect(func(yield func(string) bool) {
			for k := range c.Set {
				yield(k)
			}
			for k := range c.Copy {
				yield(k)
			}
		})
		slices.Sort(targets)
		for _, t := range targets {
			if rest, ok := strings.CutPrefix(t, "profile@traits."); ok && rest != "" {
				name, _, _ := strings.Cut(rest, ".")
				out = append(out, expectation{file, "trait", name})
			}
		}
	}
	return out
}

// machineName is a segment's machine name, as the server derives it from its name: lower
// case, every run of characters other than letters and digits one '-', none at the ends.
func machineName(name string) string {
	var sb strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && sb.Len() > 0 {
				sb.WriteByte('-')
			}
			dash = false
			sb.WriteRune(r)
		} else {
			dash = true
		}
	}
	return sb.String()
}

// fixtureNotes checks the expectations against what the database held and returns the
// report's notes, with failed set when some fixture left nothing behind.
func fixtureNotes(dir string, exp []expectation, st *storedFile) (notes []string, failed bool) {
	if st != nil && (st.InternalEvents > 0 || len(st.InternalEventsByType) > 0) {
		var parts []string
		for _, t := range sortedKeys(st.InternalEventsByType) {
			parts = append(parts, t+" "+thousands(st.InternalEventsByType[t]))
		}
		notes = append(notes, fmt.Sprintf("internal events stored besides the /track events (not acknowledged, outside the nothing-lost count): %s (%s)",
			thousands(st.InternalEvents), strings.Join(parts, ", ")))
	}
	if dir == "" {
		return notes, false
	}
	if len(exp) == 0 {
		return append(notes, "fixtures "+dir+": nothing in them can be checked"), false
	}
	if st == nil || st.Effects == nil {
		return append(notes, "fixtures "+dir+": their effects were not checked (no database to read)"), false
	}
	var done, none []string
	for _, e := range exp {
		n, unit := e.count(st.Effects)
		if n == 0 {
			none = append(none, fmt.Sprintf("%s %s (%s)", e.Kind, e.Name, e.File))
			continue
		}
		done = append(done, fmt.Sprintf("%s %s %s %s", e.Kind, e.Name, thousands(n), unit))
	}
	notes = append(notes, "fixtures "+dir+" in effect: "+strings.Join(done, "; "))
	if len(none) > 0 {
		notes = append(notes, "FIXTURES WITHOUT EFFECT (nothing stored shows them): "+strings.Join(none, "; "))
		failed = true
	}
	return notes, failed
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// thousands writes n with comma separators, as the report does.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var sb strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(r)
	}
	if neg {
		return "-" + sb.String()
	}
	return sb.String()
}
