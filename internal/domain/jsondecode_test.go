package domain_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/domain/domaintest"
)

// Typical stored documents, as the bench writes them.
const (
	typicalProfile = `{"id":"01a21ad1-15d2-7b0e-9c42-729bc07c7b87","ids":["01a21ad1-15d2-7b0e-9c42-729bc07c7b87"],"metadata":{"time":{"insert":"2026-11-27T02:23:59.954707Z","create":"2026-11-27T02:23:59.954707Z","update":"2026-11-27T02:24:04.986029Z","visit":{"last":null,"current":"2026-11-27T02:23:59.954707Z","count":1}}},"stats":{"visits":1,"views":5,"counters":{}},"traits":{},"data":{},"segments":[],"interests":{},"consents":{},"active":true,"aux":{}}`
	typicalSession = `{"id":"01a21ad1-15d2-7ae1-8751-05b84784958a","profile":{"id":"01a21ad1-15d2-7b0e-9c42-729bc07c7b87"},"metadata":{"time":{"insert":"2026-11-27T02:23:59.954707Z","timestamp":"2026-11-27T02:23:59.954707Z","duration":5.031322},"status":"active"},"device":{"type":"desktop","ip":"127.0.0.1","resolution":"1920x1080"},"os":{"name":"Windows"},"app":{"type":"browser","name":"Firefox","version":"133.0","language":"en-GB","bot":false},"utm":{},"context":{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"},"properties":{}}`
	// A profile with the parts other cases carry: contact data, pii, merges, consents,
	// interests, counters and nested traits.
	richProfile = `{"id":"p1","ids":["p1","p0"],"metadata":{"time":{"insert":"2026-11-27T02:23:59.954707Z","create":"2026-11-27T02:23:59.954707Z","update":"2026-11-27T02:24:04.986029Z","visit":{"last":"2026-11-26T02:23:59.000001Z","current":"2026-11-27T02:23:59.954707Z","count":12}},"merges":[{"profile_id":"p0","key":"data.contact.email.main","value":"a@example.com","time":"2026-11-27T02:23:59.954707Z","by":"identity"}],"applied":[{"id":"e1","t":1764210239954},{"id":"e2","t":1764210244986}]},"stats":{"visits":12,"views":40,"counters":{"ltv":129.5,"orders":3}},"traits":{"plan":"pro","scores":[1,2.5,-3e-7],"nested":{"a":{"b":null,"c":true}}},"data":{"contact":{"email":{"main":"a@example.com"},"phone":{"main":"+44 20 7946 0000"}},"pii":{"name":"Ann \u003cAnn\u003e \u0026 co","firstname":"Ann"}},"segments":["buyers","vip"],"interests":{"shoes":0.75,"hats":2},"consents":{"marketing":{"granted":true,"revoke":"2027-01-01T00:00:00.000000Z"},"stats":{"granted":false}},"active":true,"aux":{"geo":{"country":"GB"}}}`
)

// checkDoc decodes data into a new value of typ with encoding/json, with the fast
// decoder alone and with DecodeDoc: DecodeDoc must give what encoding/json gives
// (value and error), and the fast decoder may decline but never disagree. It reports
// whether the fast decoder handled data.
func checkDoc(t testing.TB, typ reflect.Type, data []byte) bool {
	t.Helper()
	want := reflect.New(typ).Interface()
	werr := json.Unmarshal(data, want)
	var got any
	var err error
	switch typ {
	case profileType:
		got, err = domain.DecodeDoc[domain.Profile](data)
	case sessionType:
		got, err = domain.DecodeDoc[domain.Session](data)
	case eventType:
		got, err = domain.DecodeDoc[domain.Event](data)
	}
	if fmt.Sprint(err) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s %q:\nDecodeDoc %v %#v\njson      %v %#v", typ, data, err, got, werr, want)
	}
	fast := reflect.New(typ).Interface()
	if !domain.FastDecode(data, fast) {
		return false
	}
	if werr != nil {
		t.Fatalf("%s %q: the fast decoder accepted it, encoding/json did not: %v", typ, data, werr)
	}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("%s %q:\nfast %#v\njson %#v", typ, data, fast, want)
	}
	return true
}

var (
	profileType = reflect.TypeFor[domain.Profile]()
	sessionType = reflect.TypeFor[domain.Session]()
	eventType   = reflect.TypeFor[domain.Event]()
)

// TestDecodeDocTypical checks that the usual documents take the fast path.
func TestDecodeDocTypical(t *testing.T) {
	ev, err := domaintest.Gen{R: rand.New(rand.NewPCG(1, 1))}.Event().AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	ev = []byte(strings.ReplaceAll(string(ev), `\ufffd`, "")) // surrogates are not the usual case
	for _, tc := range []struct {
		typ  reflect.Type
		data string
	}{
		{profileType, typicalProfile},
		{sessionType, typicalSession},
		{profileType, richProfile},
		{eventType, string(ev)},
	} {
		if !checkDoc(t, tc.typ, []byte(tc.data)) {
			t.Errorf("%s %s: not decoded by the fast path", tc.typ, tc.data)
		}
	}
}

// trickyDocs are edits of the typical documents that the fast decoder must either decode
// exactly as encoding/json does or hand over to it.
var trickyDocs = []struct {
	typ       reflect.Type
	old, new_ string // replaced once in the typical document of typ
}{
	{profileType, `"id":"01a`, `"ID":"01a`},
	{profileType, `"id":"01a`, `"i\u0064":"01a`},
	{profileType, `"active":true`, `"active":true,"active":false`},
	{profileType, `"active":true`, `"active":null`},
	{profileType, `"active":true`, `"active":1`},
	{profileType, `"active":true`, `"unknown":1,"active":true`},
	{profileType, `"traits":{}`, `"traits":{"a":1,"a":{"b":2}}`},
	{profileType, `"traits":{}`, `"traits":{"a":1},"traits":{"b":2}`},
	{profileType, `"traits":{}`, `"traits":null`},
	{profileType, `"traits":{}`, `"traits":[]`},
	{profileType, `"traits":{}`, `"traits":{"n":[01]}`},
	{profileType, `"traits":{}`, `"traits":{"n":1.}`},
	{profileType, `"traits":{}`, `"traits":{"n":-0}`},
	{profileType, `"traits":{}`, `"traits":{"n":-0.0e0}`},
	{profileType, `"traits":{}`, `"traits":{"n":1e400}`},
	{profileType, `"traits":{}`, `"traits":{"n":1E+2,"m":-12345678901234567890,"o":123456789012345}`},
	{profileType, `"traits":{}`, `"traits":{"s":"\ud83c\udf89 \ud800 \udc00 \u00e9\/\b\f\n\r\t\"\\"}`},
	{profileType, `"traits":{}`, `"traits":{"s":"\u00e9\/\b\f\n\r\t\"\\\u2028 \u003cb\u003e","\u00e9":"k"}`},
	{profileType, `"traits":{}`, `"traits":{"s":"\'"}`},
	{profileType, `"traits":{}`, `"traits":{"s":"\u00zz"}`},
	{profileType, `"traits":{}`, "\"traits\":{\"s\":\"bad \xff\"}"},
	{profileType, `"traits":{}`, "\"traits\":{\"s\":\"bad \xff \\n\"}"},
	{profileType, `"traits":{}`, "\"traits\":{\"s\":\"tab\there\"}"},
	{profileType, `"traits":{}`, `"traits":{"s":"héllo ✓ 🎉"}`},
	{profileType, `"traits":{}`, `"traits":{"a":[1,[2,[3,{}]],null,true,false,"x"]}`},
	{profileType, `"traits":{}`, `"traits":{"a":1,}`},
	{profileType, `"segments":[]`, `"segments":null`},
	{profileType, `"segments":[]`, `"segments":["a",null]`},
	{profileType, `"segments":[]`, `"segments":["a",]`},
	{profileType, `"interests":{}`, `"interests":{"a":null}`},
	{profileType, `"interests":{}`, `"interests":{"a":"1"}`},
	{profileType, `"interests":{}`, `"interests":{"a":1,"a":2}`},
	{profileType, `"consents":{}`, `"consents":{"m":null}`},
	{profileType, `"consents":{}`, `"consents":{"m":{"granted":true,"revoke":null}}`},
	{profileType, `"consents":{}`, `"consents":{"m":{"granted":true},"m":{"revoke":"2027-01-01T00:00:00.000000Z"}}`},
	{profileType, `"count":1`, `"count":1.0`},
	{profileType, `"count":1`, `"count":1e2`},
	{profileType, `"count":1`, `"count":9223372036854775808`},
	{profileType, `"count":1`, `"count":-9223372036854775808`},
	{profileType, `"count":1`, `"count":null`},
	{profileType, `"last":null`, `"last":""`},
	{profileType, `"last":null`, `"last":"2026-02-29T00:00:00.000000Z"`},
	{profileType, `"last":null`, `"last":"2024-02-29T23:59:59.999999Z"`},
	{profileType, `"last":null`, `"last":"2024-04-31T00:00:00.000000Z"`},
	{profileType, `"last":null`, `"last":"2024-04-30T24:00:00.000000Z"`},
	{profileType, `"last":null`, `"last":"2024-04-30T23:60:00.000000Z"`},
	{profileType, `"last":null`, `"last":"2024-04-30T23:00:60.000000Z"`},
	{profileType, `"last":null`, `"last":"0000-01-01T00:00:00.000000Z"`},
	{profileType, `"last":null`, `"last":"2024-04-30T23:00:00Z"`},
	{profileType, `"last":null`, `"last":"2024-04-30T23:00:00.123456+01:00"`},
	{profileType, `"last":null`, `"last":"2024-04-30t23:00:00.123456z"`},
	{profileType, `"last":null`, `"last":"2024-04-30"`},
	{profileType, `"last":null`, `"last":"2024\u002d04-30T23:00:00.123456Z"`},
	{profileType, `"last":null`, `"last":"+024-04-30T23:00:00.123456Z"`},
	{profileType, `"last":null`, `"last":1`},
	{profileType, `"metadata":{`, `"metadata":{"merges":null,"merged_into":"x",`},
	{profileType, `"metadata":{`, `"metadata":{"merges":[],`},
	{profileType, `"metadata":{`, `"metadata":{"merges":[{},{"by":"w"}],`},
	{profileType, `"metadata":{`, `"metadata":{"merges":[null],`},
	{profileType, `"stats":{`, `"stats":null,"x":{`},
	{profileType, `{"id"`, ` { "id" `},
	{profileType, `"aux":{}}`, "\"aux\":{ }\t}\r\n "},
	{profileType, `"aux":{}}`, `"aux":{}}}`},
	{profileType, `"aux":{}}`, `"aux":{}} {}`},
	{sessionType, `"device":{`, `"device":{"geo":null,`},
	{sessionType, `"device":{`, `"device":{"geo":{"country":"GB","latitude":51.5,"longitude":-0.12},`},
	{sessionType, `"device":{`, `"device":{"geo":{"latitude":null},`},
	{sessionType, `"duration":5.031322`, `"duration":1e-7`},
	{sessionType, `"duration":5.031322`, `"duration":4.9406564584124654e-324`},
	{sessionType, `"duration":5.031322`, `"duration":1.7976931348623159e308`},
	{sessionType, `"duration":5.031322`, `"duration":null`},
	{sessionType, `"status":"active"`, `"status":"active","channel":"web"`},
	{sessionType, `"bot":false`, `"bot":false,"Bot":true`},
	{sessionType, `"utm":{}`, `"utm":{"source":"g","medium":"cpc","campaign":"c","term":"t","content":"x"}`},
	{sessionType, `"profile":{"id"`, `"profile":{"id":"a","id"`},
}

func TestDecodeDocTricky(t *testing.T) {
	base := map[reflect.Type]string{profileType: typicalProfile, sessionType: typicalSession}
	for _, tc := range trickyDocs {
		doc := base[tc.typ]
		if !strings.Contains(doc, tc.old) {
			t.Fatalf("%q is not in the %s document", tc.old, tc.typ)
		}
		checkDoc(t, tc.typ, []byte(strings.Replace(doc, tc.old, tc.new_, 1)))
	}
	for _, s := range []string{``, `null`, `{}`, `[]`, `"x"`, `{"id":"x"`, `{"id":"x"}`} {
		for _, typ := range []reflect.Type{profileType, sessionType, eventType} {
			checkDoc(t, typ, []byte(s))
		}
	}
}

// TestDecodeDocMatchesEncodingJSON decodes varied documents written by AppendJSON,
// and random cuts and byte changes of them, with both decoders.
func TestDecodeDocMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	type doc struct {
		typ  reflect.Type
		data []byte
	}
	var docs []doc
	for _, s := range []doc{{profileType, []byte(typicalProfile)}, {sessionType, []byte(typicalSession)}, {profileType, []byte(richProfile)}} {
		docs = append(docs, s)
	}
	accepted, total := 0, 0
	for range 2000 {
		for _, v := range []interface {
			AppendJSON([]byte) ([]byte, error)
		}{domaintest.Gen{R: r}.Profile(), domaintest.Gen{R: r}.Session(), domaintest.Gen{R: r}.Event()} {
			b, err := v.AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			typ := reflect.TypeOf(v).Elem()
			total++
			if checkDoc(t, typ, b) {
				accepted++
			}
			if len(docs) < 300 {
				docs = append(docs, doc{typ, b})
			}
		}
	}
	// Everything AppendJSON writes must take the fast path.
	if accepted != total {
		t.Fatalf("the fast decoder handled only %d of %d generated documents", accepted, total)
	}
	const alphabet = `{}[]":,. -+eE0123456789tfnulx\abTZ`
	for range 30000 {
		d := docs[r.IntN(len(docs))]
		b := append([]byte(nil), d.data...)
		switch r.IntN(4) {
		case 0:
			b = b[:r.IntN(len(b)+1)]
		case 1:
			b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
		case 2:
			b[r.IntN(len(b))] = byte(r.IntN(256))
		default:
			i := r.IntN(len(b) + 1)
			b = append(b[:i:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
		}
		checkDoc(t, d.typ, b)
	}
}

// TestDecodeDocNegativeZero checks the sign of zero, which reflect.DeepEqual does not see.
func TestDecodeDocNegativeZero(t *testing.T) {
	for _, n := range []string{"-0", "-0.0", "0", "-0e5"} {
		doc := strings.Replace(typicalSession, `"duration":5.031322`, `"duration":`+n, 1)
		doc = strings.Replace(doc, `"properties":{}`, `"properties":{"z":`+n+`}`, 1)
		var want domain.Session
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		var got domain.Session
		if !domain.FastDecode([]byte(doc), &got) {
			t.Fatalf("%s: not decoded by the fast path", n)
		}
		if math.Signbit(got.Metadata.Time.Duration) != math.Signbit(want.Metadata.Time.Duration) ||
			math.Signbit(got.Properties["z"].(float64)) != math.Signbit(want.Properties["z"].(float64)) {
			t.Fatalf("%s: sign of zero differs", n)
		}
	}
}

func TestDecodeDocOtherTypes(t *testing.T) {
	m, err := domain.DecodeDoc[map[string]any]([]byte(`{"a":1}`))
	if err != nil || (*m)["a"] != 1.0 {
		t.Fatalf("%v %v", m, err)
	}
	if _, err := domain.DecodeDoc[domain.Ref]([]byte(`{"id":1}`)); err == nil {
		t.Fatal("no error")
	}
}

// FuzzDecodeDoc checks DecodeDoc against encoding/json on arbitrary input, for
// each of the three document types.
func FuzzDecodeDoc(f *testing.F) {
	f.Add([]byte(typicalProfile))
	f.Add([]byte(typicalSession))
	f.Add([]byte(richProfile))
	r := rand.New(rand.NewPCG(11, 12))
	for range 3 {
		for _, v := range []interface {
			AppendJSON([]byte) ([]byte, error)
		}{domaintest.Gen{R: r}.Profile(), domaintest.Gen{R: r}.Session(), domaintest.Gen{R: r}.Event()} {
			b, err := v.AppendJSON(nil)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []reflect.Type{profileType, sessionType, eventType} {
			checkDoc(t, typ, data)
		}
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodeDocs decodes the typical stored profile and session (one op is both)
// with encoding/json and with DecodeDoc.
func BenchmarkDecodeDocs(b *testing.B) {
	p, s := []byte(typicalProfile), []byte(typicalSession)
	for _, bc := range []struct {
		name   string
		decode func() error
	}{
		{"encoding-json", func() error {
			if err := json.Unmarshal(p, new(domain.Profile)); err != nil {
				return err
			}
			return json.Unmarshal(s, new(domain.Session))
		}},
		{"fast", func() error {
			if _, err := domain.DecodeDoc[domain.Profile](p); err != nil {
				return err
			}
			_, err := domain.DecodeDoc[domain.Session](s)
			return err
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if err := bc.decode(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
		})
	}
}
