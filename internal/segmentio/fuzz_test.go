package segmentio

import (
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
)

// FuzzDecode: no body makes the decoder or the translation panic, and whatever they
// accept is a request the collector's own validation accepts.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"track","event":"E","anonymousId":"a","messageId":"m","timestamp":"2024-01-01T00:00:00Z","sentAt":"2024-01-01T00:00:01Z"}`,
		`{"batch":[{"type":"identify","userId":"u","traits":{"email":"a@b.c","address":{"city":"x"}}},{"type":"page","anonymousId":1,"context":{"page":{"referrer":"http://x/y"},"campaign":{"name":"c"}}}],"writeKey":"k"}`,
		`{"type":"group","userId":"u","groupId":"g"}`, `{"type":"alias","userId":"u","previousId":"p"}`,
		`{"type":"screen","anonymousId":"a","name":"S","context":{"sessionId":12,"screen":{"width":1}}}`,
		`{"batch":[{}]}`, `[]`, `{"event":"\u0000","anonymousId":"a"}`,
	} {
		f.Add([]byte(s), uint8(0))
	}
	kinds := []string{"", Track, Identify, Page, Screen, Group, Alias}
	src := &domain.Source{Meta: domain.Meta{ID: "s"}}
	f.Fuzz(func(t *testing.T, body []byte, k uint8) {
		b, err := Decode(body, kinds[int(k)%len(kinds)])
		if err != nil {
			if _, ok := err.(*pipeline.Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for i := range b.Messages {
			req, _ := b.Messages[i].Request(src, time.Unix(1700000000, 0))
			if req.Apply != nil {
				req.Apply(domain.NewProfile("p", domain.Now()))
			}
			if err := collector.ValidateRequest(req, collector.Limits{}); err != nil {
				if ce, ok := err.(*pipeline.Error); !ok || ce.Kind != pipeline.Invalid {
					t.Fatalf("validation: %v", err)
				}
			}
		}
	})
}
