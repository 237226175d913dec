package collector

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"unicode/utf8"
)

// fastDecodeBodies are /track bodies in the usual shape and in shapes the fast decoder
// must hand to encoding/json (nulls, escapes, unknown and differently-cased keys,
// repeated keys, times, bad syntax, odd numbers).
var fastDecodeBodies = []string{
	`{"source":{"id":"web"},"events":[{"type":"page-view"}]}`,
	`{"source":{"id":"web"},"session":{"id":"s1"},"profile":{"id":"p1"},"context":{"page":{"url":"u","n":[1,2.5,-0.5e-3,true,false,null,{},[]]}},"properties":{"a":1},"options":{"saveSession":false,"saveEvents":true},"events":[{"id":"e1","type":"Sign In","name":"n","properties":{"email":{"main":"a@b.c"}},"traits":{},"context":{"x":"y"},"options":{"save":false},"tags":["x","y"]},{"type":"b","tags":[]}]}`,
	` { "source" : { "id" : "web" } , "events" : [ { "type" : "x" } ] } ` + "\n",
	`{"source":{"id":"web"},"session":null,"profile":null,"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"events":[{"type":"x","time":{"create":"2024-01-02T03:04:05Z"}}]}`,
	`{"Source":{"id":"web"},"events":[{"type":"x"}]}`,
	`{"source":{"ID":"web"},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"unknown":1,"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":{"a":1},"context":{"b":2},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":{"a":1,"a":2},"events":[{"type":"x"}]}`,
	`{"source":{"id":"we\"b"},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":{"u":"a\u00e9\/b"},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"events":[{"type":1}]}`,
	`{"source":{"id":"web"},"events":"x"}`,
	`{"source":{"id":"web"},"events":[]}`,
	`{"source":{"id":"web"},"events":[null]}`,
	`{"source":{"id":"web"},"events":[{"type":"x","tags":null}]}`,
	`{"source":{"id":"web"},"events":[{"type":"x","tags":[1]}]}`,
	`{"source":{"id":"web"},"options":{"saveSession":null},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"options":{"saveSession":1},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":{"n":01},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":{"n":1.},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":{"n":-},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":{"n":1e400},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":{"n":1E+2},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":{"n":+1},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":{"a":1,},"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"events":[{"type":"x"},]}`,
	`{"source":{"id":"web"},"events":[{"type":"x"}]} x`,
	`{"source":{"id":"web"},"events":[{"type":"x"}]}{}`,
	`{"source":{"id":"web"},"context":nul,"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"context":[],"events":[{"type":"x"}]}`,
	`{"source":{"id":"web"},"events":[{"type":"x","id":"a","id":"b"}]}`,
	`{"source":{"id":"web"},"events":[{"type":"x","options":{"save":true,"other":1}}]}`,
	"{\"source\":{\"id\":\"w\teb\"},\"events\":[{\"type\":\"x\"}]}",
	`{"source":{"id":"wéb ✓"},"events":[{"type":"x","properties":{"ü":"🎉"}}]}`,
	`[]`, `{}`, `null`, `"x"`, `{"source":{"id":"web"}`,
}

// TestDecodeTrackFastMatchesEncodingJSON checks that whenever the fast decoder accepts
// a body, encoding/json accepts it too and gives the same TrackRequest, on the bodies
// above and on random cuts and byte changes of them.
func TestDecodeTrackFastMatchesEncodingJSON(t *testing.T) {
	check := func(body string) (fast bool) {
		var got, want TrackRequest
		fast = decodeTrackFast([]byte(body), &got)
		if !fast {
			return false
		}
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatalf("fast decoder accepted %q, encoding/json did not: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("body %q:\nfast %#v\njson %#v", body, got, want)
		}
		return true
	}
	accepted := 0
	for _, b := range fastDecodeBodies {
		if check(b) {
			accepted++
		}
	}
	if accepted < 4 {
		t.Fatalf("the fast decoder accepted only %d of the usual bodies", accepted)
	}
	r := rand.New(rand.NewPCG(7, 8))
	const alphabet = `{}[]":,. -+eE0123456789tfnulx\ab`
	for range 200000 {
		b := []byte(fastDecodeBodies[r.IntN(len(fastDecodeBodies))])
		switch r.IntN(3) {
		case 0:
			b = b[:r.IntN(len(b)+1)]
		case 1:
			if len(b) > 0 {
				b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
			}
		default:
			i := r.IntN(len(b) + 1)
			b = append(b[:i:i], append([]byte{alphabet[r.IntN(len(alphabet))]}, b[i:]...)...)
		}
		if utf8.Valid(b) { // DecodeTrack rejects invalid UTF-8 before decoding
			check(string(b))
		}
	}
}

// TestDecodeTrackSameAnswers checks DecodeTrack against the same steps on the slow
// path only (the field walk and encoding/json): the same request or the same error.
func TestDecodeTrackSameAnswers(t *testing.T) {
	slow := func(body []byte, lim Limits) (*TrackRequest, error) {
		lim = lim.withDefaults()
		if err := checkJSONShape(body, lim); err != nil {
			return nil, err
		}
		var req TrackRequest
		if err := decodeTrackSlow(body, &req); err != nil {
			return nil, err
		}
		if err := req.validate(lim); err != nil {
			return nil, err
		}
		return &req, nil
	}
	for _, b := range fastDecodeBodies {
		got, err := DecodeTrack([]byte(b), Limits{})
		want, werr := slow([]byte(b), Limits{})
		if fmt.Sprint(err) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %v, %v; want %v, %v", b, got, err, want, werr)
		}
	}
}
