package collector

import (
	"errors"
	"reflect"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/pipeline"
)

// TestDecodeTrackWarningsAndFieldErrors: bodies -> the warnings the answer carries for
// unknown fields, or the 400 naming the exact field with its index.
func TestDecodeTrackWarningsAndFieldErrors(t *testing.T) {
	ev := `{"type":"x"}`
	cases := []struct {
		name, body string
		warnings   []string // unknown field paths, in body order
		field      string   // the field a 400 names ("" for success)
	}{
		{"known fields only", `{"source":{"id":"web"},"events":[{"type":"x","properties":{"anything":{"goes":1}}}]}`, nil, ""},
		{"misspelt props", `{"source":{"id":"web"},"events":[{"type":"x","props":{"a":1}}]}`, []string{"events[0].props"}, ""},
		{"unknown at the top and deep", `{"source":{"id":"web","name":"w"},"metadata":{},"events":[` + ev + `,{"type":"y","options":{"save":true,"ttl":3},"time":{"insert":"x"}}]}`,
			[]string{"source.name", "metadata", "events[1].options.ttl", "events[1].time.insert"}, ""},
		{"keys match case-insensitively as encoding/json does", `{"Source":{"ID":"web"},"Events":[{"Type":"x","Properties":{}}]}`, nil, ""},
		{"free-form objects are not checked", `{"source":{"id":"web"},"context":{"whatever":{"x":[1]}},"properties":{"y":2},"events":[{"type":"x","traits":{"z":1},"context":{"w":1}}]}`, nil, ""},
		{"null is allowed anywhere", `{"source":{"id":"web"},"profile":null,"options":null,"events":[{"type":"x","time":null,"tags":null,"properties":null}]}`, nil, ""},
		{"time of the third event", `{"source":{"id":"web"},"events":[` + ev + `,` + ev + `,{"type":"x","time":{"create":"soon"}}]}`, nil, "events[2].time.create"},
		{"time as a number", `{"source":{"id":"web"},"events":[{"type":"x","time":{"create":17}}]}`, nil, "events[0].time.create"},
		{"time not an object", `{"source":{"id":"web"},"events":[{"type":"x","time":"2024-01-01"}]}`, nil, "events[0].time"},
		{"event not an object", `{"source":{"id":"web"},"events":[` + ev + `,"page-view"]}`, nil, "events[1]"},
		{"tag not a string", `{"source":{"id":"web"},"events":[{"type":"x","tags":["a",2]}]}`, nil, "events[0].tags[1]"},
		{"save not a boolean", `{"source":{"id":"web"},"events":[` + ev + `,{"type":"x","options":{"save":"no"}}]}`, nil, "events[1].options.save"},
		{"source id a number", `{"source":{"id":7},"events":[` + ev + `]}`, nil, "source.id"},
		{"properties an array", `{"source":{"id":"web"},"events":[{"type":"x","properties":[1]}]}`, nil, "events[0].properties"},
		{"an unknown field does not hide an error", `{"source":{"id":"web"},"x":1,"events":[{"type":"x","props":1,"name":false}]}`, nil, "events[0].name"},
		{"syntax errors stay body errors", `{"source":{"id":"web"},"events":[{"type":"x","props":}]}`, nil, "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeTrack([]byte(tc.body), Limits{})
			if tc.field != "" {
				var pe *pipeline.Error
				if !errors.As(err, &pe) || pe.Kind != pipeline.Invalid || pe.Field != tc.field {
					t.Fatalf("err = %#v, want an Invalid error naming %q", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			var want []string
			for _, p := range tc.warnings {
				want = append(want, unknownWarning(p))
			}
			if !reflect.DeepEqual(req.Warnings, want) {
				t.Fatalf("warnings = %q, want %q", req.Warnings, want)
			}
		})
	}
}

// The fast decoder still takes every body without unknown fields, times or nulls.
func TestFastDecoderKeepsKnownBodies(t *testing.T) {
	body := `{"source":{"id":"web"},"session":{"id":"s"},"profile":{"id":"p"},"context":{"page":{"url":"u"}},"properties":{},` +
		`"options":{"saveSession":true},"events":[{"id":"e","type":"page-view","name":"n","properties":{"a":[1,"b"]},"context":{},"traits":{},"options":{"save":true},"tags":["t"]}]}`
	var req TrackRequest
	if !decodeTrackFast([]byte(body), &req) {
		t.Fatal("the fast decoder refused a body of known fields only")
	}
	if decodeTrackFast([]byte(`{"source":{"id":"web"},"events":[{"type":"x","props":{}}]}`), &TrackRequest{}) {
		t.Fatal("the fast decoder took a body with an unknown field (its warning would be lost)")
	}
}
