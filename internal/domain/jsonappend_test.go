package domain_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/domain/domaintest"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		for _, v := range []interface {
			AppendJSON([]byte) ([]byte, error)
		}{domaintest.Gen{R: r}.Profile(), domaintest.Gen{R: r}.Session(), domaintest.Gen{R: r}.Event()} {
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
	s := &domain.Session{Metadata: domain.SessionMetadata{Time: domain.SessionTime{Duration: math.NaN()}}}
	if _, err := s.AppendJSON(nil); err == nil {
		t.Fatal("NaN encoded")
	}
	e := &domain.Event{Properties: map[string]any{"x": math.Inf(1)}}
	if _, err := e.AppendJSON(nil); err == nil {
		t.Fatal("Inf encoded")
	}
}

func TestTimeTextMatchesFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		tm := domain.NewTime(time.Unix(r.Int64N(5e10)-1e10, r.Int64N(1e9)))
		if got, want := tm.String(), tm.UTC().Format(domain.TimeLayout); got != want {
			t.Fatalf("got %s want %s", got, want)
		}
	}
}

func BenchmarkEncodeDocs(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	p, s, e := domain.NewProfile("0195f0b2-7c3e-7a00-8000-000000000001", domain.Now()), domaintest.Gen{R: r}.Session(), domaintest.Gen{R: r}.Event()
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
		if v.Type() == reflect.TypeFor[domain.Time]() {
			v.Set(reflect.ValueOf(domain.NewTime(time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC))))
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
	}{new(domain.Profile), new(domain.Session), new(domain.Event)} {
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
