package eval_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/eval"
	"github.com/thamesthrive/thamesthrive/internal/query/querytest"
)

// backend evaluates a case over its documents, as given or after a JSON
// round trip (float64 or json.Number numbers).
type backend struct {
	json, useNumber bool
}

func (b backend) Match(t *testing.T, c querytest.Case) ([]string, error) {
	e, err := c.Parse()
	if err != nil {
		return nil, err
	}
	p, err := eval.Compile(e)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, d := range c.Docs {
		if b.json {
			d = roundTrip(t, d, b.useNumber)
		}
		docs := eval.Maps{c.DocScope(): d}
		got := p.Eval(docs, querytest.Now)
		if got != eval.Eval(e, docs, querytest.Now) {
			t.Errorf("Eval and Program.Eval disagree on %v", d["id"])
		}
		if got {
			ids = append(ids, d["id"].(string))
		}
	}
	return ids, nil
}

func roundTrip(t *testing.T, d map[string]any, useNumber bool) map[string]any {
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if useNumber {
		dec.UseNumber()
	}
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCorpus(t *testing.T) {
	t.Run("go-values", func(t *testing.T) { querytest.Run(t, backend{}) })
	t.Run("json", func(t *testing.T) { querytest.Run(t, backend{json: true}) })
	t.Run("json-number", func(t *testing.T) { querytest.Run(t, backend{json: true, useNumber: true}) })
}

func TestGoTypes(t *testing.T) {
	now := querytest.Now
	doc := map[string]any{
		"i":      int64(7),
		"u":      uint8(3),
		"f32":    float32(1.5),
		"when":   now.Add(-time.Hour),
		"list":   []string{"a", "b"},
		"nums":   []int{1, 2, 3},
		"objs":   []map[string]any{{"k": "v"}},
		"strmap": map[string]string{"k": "v"},
		"num":    json.Number("12.5"),
		"bad":    json.Number("x"),
		"bytes":  []byte("raw"),
	}
	tests := []struct {
		cond string
		want bool
	}{
		{`profile@i == 7`, true},
		{`profile@u < 4`, true},
		{`profile@f32 == 1.5`, true},
		{`profile@when < now.offset("-30m")`, true},
		{`profile@when > now.offset("-30m")`, false},
		{`profile@when STARTS WITH "2024-06-15T11:00:00"`, true},
		{`profile@list == "b"`, true},
		{`profile@list.1 == "b"`, true},
		{`profile@nums > 2`, true},
		{`profile@nums.0 == 1`, true},
		{`profile@objs.k == "v"`, true},
		{`profile@objs.0.k == "v"`, true},
		{`profile@strmap.k == "v"`, true},
		{`profile@strmap EXISTS`, true},
		{`profile@num BETWEEN 12 AND 13`, true},
		{`profile@bad EXISTS`, true},
		{`profile@bad == 1`, false},
		{`profile@bytes == "raw"`, false},
	}
	for _, tc := range tests {
		e := query.MustParse(tc.cond)
		if got := eval.Eval(e, eval.Maps{"profile": doc}, now); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.cond, got, tc.want)
		}
	}
}

func TestMaps(t *testing.T) {
	m := eval.Maps{"profile": {"a": map[string]any{"b": 1}}, "event": nil}
	if v, ok := m.Lookup("profile", []string{"a", "b"}); !ok || v != 1 {
		t.Errorf("Lookup a.b = %v, %v", v, ok)
	}
	if _, ok := m.Lookup("profile", []string{"a", "b", "c"}); ok {
		t.Error("Lookup below a scalar succeeded")
	}
	if _, ok := m.Lookup("event", nil); ok {
		t.Error("Lookup in a nil document succeeded")
	}
	if _, ok := m.Lookup("session", nil); ok {
		t.Error("Lookup in a missing scope succeeded")
	}
	if v, ok := m.Lookup("profile", nil); !ok || v.(map[string]any)["a"] == nil {
		t.Errorf("Lookup of the root = %v, %v", v, ok)
	}
}

func TestCompileErrors(t *testing.T) {
	if _, err := eval.Compile(nil); err == nil {
		t.Error("Compile(nil) succeeded")
	}
	bad := &query.Compare{Op: query.Eq, X: &query.Literal{Kind: query.KindNumber}, Y: &query.Literal{Kind: query.KindNumber}}
	if _, err := eval.Compile(bad); err == nil {
		t.Error("Compile of a literal on the left succeeded")
	}
	if eval.Eval(bad, eval.Maps{}, time.Now()) {
		t.Error("Eval of an invalid expression is true")
	}
}

// TestOtherScopes checks conditions over several scopes at once.
func TestOtherScopes(t *testing.T) {
	docs := eval.Maps{
		"profile": {"stats": map[string]any{"visits": 3.0}},
		"event":   {"properties": map[string]any{"visits": 3.0}},
	}
	for cond, want := range map[string]bool{
		`profile@stats.visits == event@properties.visits`: true,
		`session@x EXISTS`:                        false,
		`NOT session@x == 1`:                      true,
		`payload@x NOT EXISTS AND flow@y IS NULL`: true,
	} {
		if got := eval.Eval(query.MustParse(cond), docs, time.Now()); got != want {
			t.Errorf("%s = %v, want %v", cond, got, want)
		}
	}
}

func benchDocs() eval.Maps {
	return eval.Maps{"profile": {
		"stats":    map[string]any{"visits": 12.0},
		"data":     map[string]any{"contact": map[string]any{"email": map[string]any{"main": "ann@example.com"}}},
		"segments": []any{"returning", "vip"},
		"metadata": map[string]any{"time": map[string]any{"visit": map[string]any{"last": "2024-06-15T11:50:00.000000Z"}}},
	}}
}

func bench(b *testing.B, cond string, want bool) {
	p, err := eval.Compile(query.MustParse(cond))
	if err != nil {
		b.Fatal(err)
	}
	var docs eval.Documents = benchDocs()
	now := querytest.Now
	if p.Eval(docs, now) != want {
		b.Fatalf("%s is not %v", cond, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Eval(docs, now)
	}
}

func BenchmarkNumberCompare(b *testing.B) { bench(b, `profile@stats.visits > 10`, true) }
func BenchmarkStringEquals(b *testing.B) {
	bench(b, `profile@data.contact.email.main == "ann@example.com"`, true)
}
func BenchmarkEndsWith(b *testing.B) {
	bench(b, `profile@data.contact.email.main ENDS WITH "@example.com"`, true)
}
func BenchmarkArrayContains(b *testing.B) { bench(b, `profile@segments CONTAINS "vip"`, true) }
func BenchmarkMissing(b *testing.B)       { bench(b, `profile@traits.vip EXISTS`, false) }
func BenchmarkDate(b *testing.B) {
	bench(b, `profile@metadata.time.visit.last > now.offset("-15m")`, true)
}
func BenchmarkCombined(b *testing.B) {
	bench(b, `profile@stats.visits > 10 AND (profile@segments CONTAINS "vip" OR profile@traits.vip EXISTS)`, true)
}

func TestNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts need a normal build")
	}
	docs := eval.Documents(benchDocs())
	for _, cond := range []string{
		`profile@stats.visits > 10`,
		`profile@data.contact.email.main == "ann@example.com"`,
		`profile@segments CONTAINS "vip"`,
		`profile@traits.vip EXISTS`,
		`profile@metadata.time.visit.last > now.offset("-15m")`,
		`profile@stats.visits > 10 AND NOT profile@segments.1 == "x"`,
	} {
		p, _ := eval.Compile(query.MustParse(cond))
		if n := testing.AllocsPerRun(100, func() { p.Eval(docs, querytest.Now) }); n != 0 {
			t.Errorf("%s: %v allocations per Eval, want 0", cond, n)
		}
	}
}
