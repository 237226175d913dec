package domain

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

var awkwardStrings = []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", "héllo wörld ✓ 🎉", "line\u2028sep\u2029", "bad \xff utf8 \xc3", "/path?q=1#frag"}

var awkwardFloats = []float64{0, 1, -1, 0.5, 1e-7, -1e-7, 1e-6, 123456789.125, 1e20, 1e21, 1.5e300, math.SmallestNonzeroFloat64, 3.14159, -0.0}

func randValue(r *rand.Rand, depth int) any {
	switch r.IntN(9) {
	case 0:
		return nil
	case 1:
		return awkwardStrings[r.IntN(len(awkwardStrings))]
	case 2:
		return r.IntN(2) == 0
	case 3:
		return awkwardFloats[r.IntN(len(awkwardFloats))]
	case 4:
		return r.IntN(1000)
	case 5:
		if depth > 3 {
			return "leaf"
		}
		return randMap(r, depth+1)
	case 6:
		if depth > 3 {
			return []any{}
		}
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = randValue(r, depth+1)
		}
		return a
	case 7:
		return []string{"a", "<b>"}
	default:
		return json.Number("12.5")
	}
}

func randMap(r *rand.Rand, depth int) map[string]any {
	switch r.IntN(6) {
	case 0:
		return nil
	case 1:
		return map[string]any{}
	}
	m := map[string]any{}
	for range r.IntN(6) {
		m[awkwardStrings[r.IntN(len(awkwardStrings))]+strings.Repeat("k", r.IntN(3))] = randValue(r, depth)
	}
	return m
}

func randTime(r *rand.Rand) Time {
	if r.IntN(4) == 0 {
		return Time{}
	}
	return NewTime(time.Unix(r.Int64N(4e9), r.Int64N(1e9)))
}

func randStr(r *rand.Rand) string { return awkwardStrings[r.IntN(len(awkwardStrings))] }

func randStrings(r *rand.Rand) []string {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	return []string{randStr(r), randStr(r)}
}

func randDevice(r *rand.Rand) Device {
	d := Device{Name: randStr(r), Brand: randStr(r), Model: randStr(r), Type: randStr(r), IP: randStr(r), Resolution: randStr(r)}
	if r.IntN(2) == 0 {
		d.Geo = &Geo{Country: randStr(r), City: randStr(r), Latitude: awkwardFloats[r.IntN(len(awkwardFloats))], Longitude: awkwardFloats[r.IntN(len(awkwardFloats))]}
	}
	return d
}

func randProfile(r *rand.Rand) *Profile {
	p := NewProfile(randStr(r), randTime(r))
	if r.IntN(3) == 0 {
		p.Normalize()
		p.IDs, p.Segments = randStrings(r), randStrings(r)
		p.Traits, p.Data, p.Aux = randMap(r, 0), randMap(r, 0), randMap(r, 0)
		p.Stats.Counters = nil
		p.Interests = map[string]float64{"b": 1e-9, "a": 2.5}
		p.Consents = nil
	}
	p.Metadata.Time.Visit = VisitTime{Last: randTime(r), Current: randTime(r), Count: r.Int64N(100)}
	p.Metadata.MergedInto = randStr(r)
	if r.IntN(2) == 0 {
		p.Metadata.Merges = []MergeRecord{{ProfileID: randStr(r), Key: "k", Value: randStr(r), Time: randTime(r), By: "identity"}, {}}
	}
	p.Stats.Visits, p.Stats.Views = r.Int64N(1000), -r.Int64N(5)
	if p.Stats.Counters != nil {
		p.Stats.Counters["ltv"] = awkwardFloats[r.IntN(len(awkwardFloats))]
	}
	if p.Consents != nil {
		rt := randTime(r)
		p.Consents["marketing"] = Consent{Granted: true, Revoke: &rt}
		p.Consents["<x>"] = Consent{}
	}
	p.Active = r.IntN(2) == 0
	return p
}

func randSession(r *rand.Rand) *Session {
	return &Session{ID: randStr(r), Profile: Ref{ID: randStr(r)},
		Metadata: SessionMetadata{Time: SessionTime{Insert: randTime(r), Timestamp: randTime(r), Duration: awkwardFloats[r.IntN(len(awkwardFloats))]}, Status: randStr(r), Channel: randStr(r)},
		Device:   randDevice(r), OS: OS{Name: randStr(r), Version: randStr(r)},
		App:     App{Type: randStr(r), Name: randStr(r), Version: randStr(r), Language: randStr(r), Bot: r.IntN(2) == 0},
		UTM:     UTM{Source: randStr(r), Medium: randStr(r), Campaign: randStr(r), Term: randStr(r), Content: randStr(r)},
		Context: randMap(r, 0), Properties: randMap(r, 0)}
}

func randEvent(r *rand.Rand) *Event {
	return &Event{ID: randStr(r), Type: randStr(r), Name: randStr(r),
		Metadata: EventMetadata{Time: EventTime{Insert: randTime(r), Create: randTime(r), ProcessTime: awkwardFloats[r.IntN(len(awkwardFloats))]},
			IP: randStr(r), Status: randStr(r), Channel: randStr(r), ProcessedBy: ProcessedBy{Rules: randStrings(r), Flows: randStrings(r)}},
		Source: Ref{ID: randStr(r)}, Session: EventSession{ID: randStr(r), Start: randTime(r), Duration: 1.25}, Profile: Ref{ID: randStr(r)},
		Properties: randMap(r, 0), Traits: randMap(r, 0), Context: randMap(r, 0), Data: randMap(r, 0),
		Hit:  Hit{Name: randStr(r), URL: randStr(r), Referer: randStr(r), Query: randStr(r), Extra: map[string]any{"x": 1}},
		UTM:  UTM{Source: randStr(r), Campaign: randStr(r)},
		Tags: Tags{Values: randStrings(r), Count: r.IntN(3)}, Device: randDevice(r), OS: OS{Name: randStr(r)},
		App: App{Name: randStr(r), Bot: r.IntN(2) == 0}, Journey: Journey{State: randStr(r)}}
}

// TestAppendJSONMatchesEncodingJSON checks the hand-written encoders byte for byte
// against encoding/json on varied documents (awkward strings, floats, nil and empty
// collections, nested free-form values), and that they decode back to the same value.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		for _, v := range []interface {
			AppendJSON([]byte) ([]byte, error)
		}{randProfile(r), randSession(r), randEvent(r)} {
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.AppendJSON([]byte("prefix"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[6:], want) {
				t.Fatalf("case %d %T:\n got %s\nwant %s", i, v, got[6:], want)
			}
			back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			if err := json.Unmarshal(got[6:], back); err != nil {
				t.Fatalf("case %d %T: decoding: %v", i, v, err)
			}
			again, _ := json.Marshal(back)
			var w2 []byte
			if w2, err = back.(interface {
				AppendJSON([]byte) ([]byte, error)
			}).AppendJSON(nil); err != nil || !bytes.Equal(again, w2) {
				t.Fatalf("case %d %T: round trip differs:\n%s\n%s", i, v, again, w2)
			}
		}
	}
}

func TestAppendJSONRejectsNaN(t *testing.T) {
	s := &Session{Metadata: SessionMetadata{Time: SessionTime{Duration: math.NaN()}}}
	if _, err := s.AppendJSON(nil); err == nil {
		t.Fatal("NaN encoded")
	}
	e := &Event{Properties: map[string]any{"x": math.Inf(1)}}
	if _, err := e.AppendJSON(nil); err == nil {
		t.Fatal("Inf encoded")
	}
}

func TestTimeTextMatchesFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		tm := NewTime(time.Unix(r.Int64N(5e10)-1e10, r.Int64N(1e9)))
		if got, want := tm.String(), tm.UTC().Format(TimeLayout); got != want {
			t.Fatalf("got %s want %s", got, want)
		}
	}
}

func BenchmarkEncodeDocs(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	p, s, e := NewProfile("0195f0b2-7c3e-7a00-8000-000000000001", Now()), randSession(r), randEvent(r)
	p.Data = map[string]any{"contact": map[string]any{"email": map[string]any{"main": "a@example.com"}}}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, v := range []any{p, s, e} {
				if _, err := json.Marshal(v); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			for _, v := range []interface {
				AppendJSON([]byte) ([]byte, error)
			}{p, s, e} {
				var err error
				if buf, err = v.AppendJSON(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// fill sets every field reachable from v (a pointer) to a non-zero value, so that a field
// added to Profile, Session or Event later shows up in json.Marshal's output; if
// AppendJSON does not write it too, TestAppendJSONCoversEveryField fails.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Time]() {
			v.Set(reflect.ValueOf(NewTime(time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC))))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("x<&>")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	case reflect.Float64, reflect.Float32:
		v.SetFloat(1.5)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e)
		m.SetMapIndex(reflect.ValueOf("k").Convert(v.Type().Key()), e)
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{"nested": []any{"v", 2.5, true, nil}}))
	default:
		panic("fill: unhandled kind " + v.Kind().String() + " in " + v.Type().String())
	}
}

// TestAppendJSONCoversEveryField guards the hand-written encoders against fields added to
// the types later: every field set, the output must still equal encoding/json's.
func TestAppendJSONCoversEveryField(t *testing.T) {
	for _, v := range []interface {
		AppendJSON([]byte) ([]byte, error)
	}{new(Profile), new(Session), new(Event)} {
		fill(reflect.ValueOf(v))
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%T: AppendJSON does not write every field (update domain/jsonappend.go):\n got %s\nwant %s", v, got, want)
		}
	}
}
