package collector_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/local"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

func newCollector(t testing.TB) (*collector.Collector, storage.Store) {
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	doc, _ := json.Marshal(domain.Source{Meta: domain.Meta{ID: "web", Name: "Web", Enabled: true}, Type: domain.SourceREST, Trusted: true})
	if _, err := store.Entities().Put(context.Background(), &storage.Entity{Kind: domain.EntitySource, ID: "web", Doc: doc}, 0); err != nil {
		t.Fatal(err)
	}
	c, err := collector.New(collector.Config{CacheSize: 1000}, store, local.NewLocker(), collector.NewSourceCache(store.Entities(), time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return c, store
}

func track(t testing.TB, c *collector.Collector, body string) *collector.TrackResponse {
	ctx := context.Background()
	req, err := collector.DecodeTrack([]byte(body), c.Limits())
	if err != nil {
		t.Fatal(err)
	}
	src, err := c.CheckSource(ctx, req.Source.ID, collector.RouteTrack, "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Track(ctx, src, req, collector.RequestMeta{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestMutate(t *testing.T) {
	c, store := newCollector(t)
	ctx := context.Background()
	track(t, c, `{"source":{"id":"web"},"profile":{"id":"p1"},"events":[{"type":"page-view"}]}`)
	err := c.Mutate(ctx, "p1", func(w *pipeline.Work) error {
		w.Profile.Segments = append(w.Profile.Segments, "vip")
		w.Events = append(w.Events, &domain.Event{ID: "seg-1", Type: "segment-entered", Profile: domain.Ref{ID: w.Profile.ID}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := store.Profiles().Get(ctx, "p1")
	if len(p.Segments) != 1 || p.Stats.Views != 1 {
		t.Fatalf("profile after Mutate: %+v", p)
	}
	if _, err := store.Events().Get(ctx, "seg-1"); err != nil {
		t.Fatalf("event of Mutate not stored: %v", err)
	}
	// A failing fn stores nothing, and the pipeline does not see its half-done change.
	boom := errors.New("boom")
	err = c.Mutate(ctx, "p1", func(w *pipeline.Work) error {
		w.Profile.Stats.Views = 1000
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	track(t, c, `{"source":{"id":"web"},"profile":{"id":"p1"},"events":[{"type":"page-view"}]}`)
	if p, _ := store.Profiles().Get(ctx, "p1"); p.Stats.Views != 2 {
		t.Fatalf("views = %d after a failed Mutate and one more view", p.Stats.Views)
	}
	if err := c.Mutate(ctx, "nope", func(*pipeline.Work) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown profile: %v", err)
	}
}

// BenchmarkTrackReturningVisitors runs the whole pipeline into a real SQLite file from
// many goroutines (as many concurrent requests), so that group commit shares fsyncs.
func BenchmarkTrackReturningVisitors(b *testing.B) {
	c, _ := newCollector(b)
	bodies := make([]string, 512)
	for i := range bodies {
		bodies[i] = fmt.Sprintf(`{"source":{"id":"web"},"profile":{"id":"bench-%d"},"session":{"id":"bench-s-%d"},"context":{"page":{"url":"https://shop.example.com/p/1","title":"P1"},"browser":{"local":{"browser":{"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36"}}}},"events":[{"type":"page-view"}]}`, i, i)
		track(b, c, bodies[i])
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			track(b, c, bodies[next.Add(1)%int64(len(bodies))])
		}
	})
}

func BenchmarkDecodeTrack(b *testing.B) {
	body := []byte(`{"source":{"id":"web"},"profile":{"id":"bench"},"session":{"id":"bench-s"},"context":{"page":{"url":"https://shop.example.com/p/1","title":"P1"},"browser":{"local":{"browser":{"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36"}}}},"events":[{"type":"page-view"}]}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := collector.DecodeTrack(body, collector.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
