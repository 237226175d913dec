package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/pipeline"
)

func TestDecodeTrack(t *testing.T) {
	lim := Limits{MaxEvents: 3}
	cases := []struct {
		name, body, field string // field "" means success
	}{
		{"minimal", `{"source":{"id":"web"},"events":[{"type":"page-view"}]}`, ""},
		{"full", `{"source":{"id":"web"},"session":{"id":"s1"},"profile":{"id":"p1"},"context":{"page":{"url":"u"}},
			"properties":{"a":1},"options":{"saveSession":false,"saveEvents":true},
			"events":[{"id":"e1","type":"Sign In","properties":{"email":{"main":"a@b.c"}},"tags":["x"],"time":{"create":"2024-01-02T03:04:05Z"}}]}`, ""},
		{"null session and profile", `{"source":{"id":"web"},"session":null,"profile":null,"events":[{"type":"x"}]}`, ""},
		{"empty", ``, "body"},
		{"whitespace", "  \n", "body"},
		{"syntax", `{"source":{"id":"web"},`, "body"},
		{"array", `[]`, "body"},
		{"number as type", `{"source":{"id":"web"},"events":[{"type":1}]}`, "events[0].type"},
		{"string as events", `{"source":{"id":"web"},"events":"x"}`, "events"},
		{"no source", `{"events":[{"type":"x"}]}`, "source.id"},
		{"long source", `{"source":{"id":"` + strings.Repeat("s", 200) + `"},"events":[{"type":"x"}]}`, "source.id"},
		{"no events", `{"source":{"id":"web"},"events":[]}`, "events"},
		{"too many events", `{"source":{"id":"web"},"events":[{"type":"a"},{"type":"b"},{"type":"c"},{"type":"d"}]}`, "events"},
		{"blank type", `{"source":{"id":"web"},"events":[{"type":"  "}]}`, "events[0].type"},
		{"id with space", `{"source":{"id":"web"},"events":[{"type":"x","id":"a b"}]}`, "events[0].id"},
		{"session id with slash", `{"source":{"id":"web"},"session":{"id":"a/b"},"events":[{"type":"x"}]}`, "session.id"},
		{"bad utf8", "{\"source\":{\"id\":\"web\"},\"events\":[{\"type\":\"\xc3\x28\"}]}", "body"},
		{"too deep", `{"source":{"id":"web"},"events":[{"type":"x","properties":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}]}`, "body"},
		{"bad time", `{"source":{"id":"web"},"events":[{"type":"x","time":{"create":"soon"}}]}`, "events[0].time.create"},
		{"time not a string", `{"source":{"id":"web"},"events":[{"type":"x","time":{"create":5}}]}`, "events[0].time.create"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeTrack([]byte(tc.body), lim)
			if tc.field == "" {
				if err != nil || req == nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ce *pipeline.Error
			if !errors.As(err, &ce) || ce.Kind != pipeline.Invalid || ce.Field != tc.field {
				t.Fatalf("err = %#v, want an Invalid error naming %q", err, tc.field)
			}
		})
	}
}

func TestDecodeTrackKeyLimit(t *testing.T) {
	props := strings.TrimSuffix(strings.Repeat(`"k":1,`, 30000), ",")
	_, err := DecodeTrack([]byte(`{"source":{"id":"web"},"events":[{"type":"x","properties":{`+props+`}}]}`), Limits{})
	var ce *pipeline.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "values") {
		t.Fatalf("err = %v", err)
	}
}

func TestOriginAllowed(t *testing.T) {
	cases := []struct {
		allowed []string
		origin  string
		want    bool
	}{
		{nil, "https://any.example", true},
		{[]string{"*"}, "https://any.example", true},
		{[]string{"https://shop.example.com"}, "https://shop.example.com", true},
		{[]string{"https://shop.example.com/"}, "https://SHOP.example.com", true},
		{[]string{"https://shop.example.com"}, "http://shop.example.com", false},
		{[]string{"https://*.example.com"}, "https://a.b.example.com", true},
		{[]string{"https://*.example.com"}, "https://example.com", false},
		{[]string{"https://*.example.com"}, "https://evilexample.com", false},
		{[]string{"https://*.example.com"}, "http://a.example.com", false},
	}
	for _, tc := range cases {
		if got := OriginAllowed(tc.allowed, tc.origin); got != tc.want {
			t.Errorf("OriginAllowed(%v, %q) = %v", tc.allowed, tc.origin, got)
		}
	}
}

// FuzzDecodeTrack: no body may panic the decoder, and every rejection is a 400 *Error.
func FuzzDecodeTrack(f *testing.F) {
	for _, s := range []string{
		`{"source":{"id":"web"},"events":[{"type":"page-view"}]}`,
		`{"source":{"id":"web"},"session":{"id":"s"},"profile":{"id":"p"},"events":[{"id":"e","type":"x","properties":{"a":[1,{"b":null}]},"time":{"create":"2024-01-01"}}]}`,
		`{"source":{"id":"web"},"events":[{"type":"x","properties":{"s":"\u00e9\"\\"}}]}`,
		`[`, `{"events":null}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeTrack(body, Limits{})
		if err != nil {
			var ce *pipeline.Error
			if !errors.As(err, &ce) || ce.Kind != pipeline.Invalid {
				t.Fatalf("rejection is not an Invalid *pipeline.Error: %#v", err)
			}
			return
		}
		if req.Source.ID == "" || len(req.Events) == 0 {
			t.Fatalf("accepted an invalid request: %+v", req)
		}
	})
}
