package collector_test

import (
	"context"
	"encoding/json"
	"errors"
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

// flakyStore fails every Commit while failing is set, as a full disk or a lost
// cluster would.
type flakyStore struct {
	storage.Store
	failing atomic.Bool
}

var errInjected = errors.New("injected commit failure")

func (s *flakyStore) Commit(ctx context.Context, b *storage.Batch) error {
	if s.failing.Load() {
		return errInjected
	}
	return s.Store.Commit(ctx, b)
}

func newFlakyCollector(t *testing.T) (*collector.Collector, *flakyStore) {
	t.Helper()
	inner, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	doc, _ := json.Marshal(domain.Source{Meta: domain.Meta{ID: "web", Name: "Web", Enabled: true}, Type: domain.SourceREST, Trusted: true})
	if _, err := inner.Entities().Put(context.Background(), &storage.Entity{Kind: domain.EntitySource, ID: "web", Doc: doc}, 0); err != nil {
		t.Fatal(err)
	}
	store := &flakyStore{Store: inner}
	c, err := collector.New(collector.Config{CacheSize: 1000}, store, local.NewLocker(), collector.NewSourceCache(inner.Entities(), time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return c, store
}

func trackErr(c *collector.Collector, body string) (*collector.TrackResponse, error) {
	ctx := context.Background()
	req, err := collector.DecodeTrack([]byte(body), c.Limits())
	if err != nil {
		return nil, err
	}
	src, err := c.CheckSource(ctx, req.Source.ID, collector.RouteTrack, "")
	if err != nil {
		return nil, err
	}
	return c.Track(ctx, src, req, collector.RequestMeta{IP: "192.0.2.1"})
}

// TestFailedCommitForgetsCachedState: the pipeline changes the cached profile and
// session in place, so a commit that fails must drop them from the cache: otherwise the
// next request would build on changes that were never stored (a page view counted
// twice, a visit that never happened).
func TestFailedCommitForgetsCachedState(t *testing.T) {
	const view = `{"source":{"id":"web"},"profile":{"id":"p1"},"session":{"id":"s1"},"events":[{"type":"page-view"}]}`
	tests := []struct {
		name string
		fail []bool // per request: does its commit fail?
		// what the store holds in the end
		views, visits int64
	}{
		{"one failure between successes", []bool{false, true, false}, 2, 1},
		{"failures in a row", []bool{false, true, true, true, false}, 2, 1},
		{"the first request fails", []bool{true, false}, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, store := newFlakyCollector(t)
			for i, fail := range tc.fail {
				store.failing.Store(fail)
				_, err := trackErr(c, view)
				if !fail {
					if err != nil {
						t.Fatalf("request %d: %v", i, err)
					}
					continue
				}
				var pe *pipeline.Error
				if !errors.As(err, &pe) || pe.Kind != pipeline.Unavailable || !errors.Is(err, errInjected) || pe.RetryAfter <= 0 {
					t.Fatalf("request %d: err = %#v, want Unavailable caused by the commit failure", i, err)
				}
			}
			store.failing.Store(false)
			// Mutate reads through the same cache as the pipeline.
			var cached domain.Profile
			if err := c.Mutate(context.Background(), "p1", func(w *pipeline.Work) error {
				cached = *w.Profile
				return errors.New("read only")
			}); err == nil {
				t.Fatal("Mutate stored although fn failed")
			}
			stored, err := store.Profiles().Get(context.Background(), "p1")
			if err != nil {
				t.Fatal(err)
			}
			for name, p := range map[string]*domain.Profile{"stored": stored, "cached": &cached} {
				if p.Stats.Views != tc.views || p.Stats.Visits != tc.visits {
					t.Errorf("%s profile: views %d, visits %d; want %d, %d", name, p.Stats.Views, p.Stats.Visits, tc.views, tc.visits)
				}
			}
		})
	}
}

// TestFailedMutateForgetsCachedState: the same for changes made outside /track.
func TestFailedMutateForgetsCachedState(t *testing.T) {
	c, store := newFlakyCollector(t)
	ctx := context.Background()
	if _, err := trackErr(c, `{"source":{"id":"web"},"profile":{"id":"p1"},"events":[{"type":"page-view"}]}`); err != nil {
		t.Fatal(err)
	}
	addVIP := func(w *pipeline.Work) error {
		w.Profile.Segments = append(w.Profile.Segments, "vip")
		return nil
	}
	store.failing.Store(true)
	if err := c.Mutate(ctx, "p1", addVIP); !errors.Is(err, errInjected) {
		t.Fatalf("Mutate with a failing commit: %v", err)
	}
	store.failing.Store(false)
	if err := c.Mutate(ctx, "p1", func(w *pipeline.Work) error {
		if len(w.Profile.Segments) != 0 {
			t.Errorf("a failed Mutate left segments %v in the cache", w.Profile.Segments)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
