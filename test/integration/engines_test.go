package integration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query/esdsl/estest"
	"github.com/thamesthrive/thamesthrive/internal/query/querytest"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/elastic"
	"github.com/thamesthrive/thamesthrive/internal/storage/redis"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

// eachEngine runs fn as a subtest per engine in the environment, or skips.
func eachEngine(t *testing.T, fn func(t *testing.T, e engine)) {
	es := engines()
	if len(es) == 0 {
		t.Skip("no ELASTIC_HOST, OPENSEARCH3_HOST, ELASTIC9_HOST or ELASTIC8_HOST set")
	}
	for _, e := range es {
		t.Run(e.name, func(t *testing.T) { fn(t, e) })
	}
}

// migrated creates a fresh prefix on e and drops it when the test ends.
func migrated(t *testing.T, e engine, cfg func(*elastic.Config)) elastic.Config {
	t.Helper()
	c := elasticConfig(e.url, uniquePrefix("st"))
	if cfg != nil {
		cfg(&c)
	}
	if err := elastic.Migrate(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := elastic.Drop(context.Background(), c); err != nil {
			t.Errorf("dropping %s: %v", c.IndexPrefix, err)
		}
	})
	return c
}

func openStore(t *testing.T, c elastic.Config) *elastic.Store {
	t.Helper()
	s, err := elastic.Open(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStoreConformance runs the storage conformance suite on every engine.
func TestStoreConformance(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		storagetest.Run(t, func(t *testing.T) storage.Store { return openStore(t, migrated(t, e, nil)) })
	})
}

// TestQueryCorpus runs the condition language's shared corpus on the query DSL back
// end against every engine.
func TestQueryCorpus(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		b := &estest.Backend{Client: &http.Client{Timeout: 30 * time.Second}, BaseURL: strings.TrimRight(e.url, "/"),
			Username: os.Getenv("ELASTIC_HTTP_AUTH_USERNAME"), Password: os.Getenv("ELASTIC_HTTP_AUTH_PASSWORD"),
			APIKey: os.Getenv("ELASTIC_API_KEY"), IndexPrefix: uniquePrefix("qt")}
		t.Cleanup(func() {
			if err := b.Close(context.Background()); err != nil {
				t.Errorf("deleting corpus indices: %v", err)
			}
		})
		querytest.Run(t, b)
	})
}

func profileWithEmail(id, email string) *domain.Profile {
	p := domain.NewProfile(id, domain.Now())
	p.Data["contact"] = map[string]any{"email": map[string]any{"main": email}}
	return p
}

// TestFencing: a process that writes back a profile someone else wrote since it read
// it (as a lock holder that stalled past its lock's expiry would) gets a conflict.
func TestFencing(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		c := migrated(t, e, nil)
		a, b := openStore(t, c), openStore(t, c)
		ctx := context.Background()
		if err := a.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{domain.NewProfile("f1", domain.Now())}}); err != nil {
			t.Fatal(err)
		}
		pa, err := a.Profiles().Get(ctx, "f1")
		if err != nil {
			t.Fatal(err)
		}
		pb, _ := b.Profiles().Get(ctx, "f1")
		pb.Stats.Views = 7
		if err := b.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{pb}}); err != nil {
			t.Fatal(err)
		}
		pa.Stats.Views = 1
		if err := a.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{pa}}); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("stale write: %v, want a conflict", err)
		}
		if got, _ := b.Profiles().Get(ctx, "f1"); got.Stats.Views != 7 {
			t.Fatalf("the stale write overwrote the newer one: views %d", got.Stats.Views)
		}
		// Read again, write again: fine.
		pa, _ = a.Profiles().Get(ctx, "f1")
		pa.Stats.Views++
		if err := a.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{pa}}); err != nil {
			t.Fatal(err)
		}
		// Two processes both creating one new profile: only the first wins.
		if _, err := a.Profiles().Get(ctx, "f2"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		if _, err := b.Profiles().Get(ctx, "f2"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		if err := b.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{domain.NewProfile("f2", domain.Now())}}); err != nil {
			t.Fatal(err)
		}
		if err := a.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{domain.NewProfile("f2", domain.Now())}}); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("second create: %v, want a conflict", err)
		}
	})
}

// TestFindByKeyAcrossProcesses: a profile committed by one process is found by key by
// another at once, even when search cannot see it yet (refresh switched off).
func TestFindByKeyAcrossProcesses(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		c := migrated(t, e, nil)
		a, b := openStore(t, c), openStore(t, c)
		ctx := context.Background()
		setRefresh(t, e, c.IndexPrefix+"-profiles", "-1")
		for i := 0; i < 20; i++ {
			email := fmt.Sprintf("u%d@example.com", i)
			if err := a.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{profileWithEmail(fmt.Sprint("k", i), email)}}); err != nil {
				t.Fatal(err)
			}
			got, err := b.Profiles().FindByKey(ctx, "data.contact.email.main", email, 10)
			if err != nil || len(got) != 1 || got[0].ID != fmt.Sprint("k", i) {
				t.Fatalf("FindByKey(%s) right after another process's commit = %v, %v", email, got, err)
			}
		}
		// The value changes: the old key no longer finds the profile.
		p, _ := a.Profiles().Get(ctx, "k0")
		p.Data["contact"] = map[string]any{"email": map[string]any{"main": "new@example.com"}}
		if err := a.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{p}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.Profiles().FindByKey(ctx, "data.contact.email.main", "u0@example.com", 10); len(got) != 0 {
			t.Fatalf("old value still finds %v", got)
		}
		if got, _ := b.Profiles().FindByKey(ctx, "data.contact.email.main", "new@example.com", 10); len(got) != 1 {
			t.Fatalf("new value finds %v", got)
		}
		setRefresh(t, e, c.IndexPrefix+"-profiles", "1s")
	})
}

func setRefresh(t *testing.T, e engine, index, interval string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", strings.TrimRight(e.url, "/")+"/"+index+"/_settings",
		strings.NewReader(`{"index":{"refresh_interval":"`+interval+`"}}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("setting refresh_interval: %d", res.StatusCode)
	}
}

// TestMappingClashKeepsDocument: a free-form value whose type clashes with the mapping
// (an object where a string was) is stored whole rather than refused.
func TestMappingClashKeepsDocument(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		s := openStore(t, migrated(t, e, nil))
		ctx := context.Background()
		ev := func(id string, x any) *domain.Event {
			e := &domain.Event{ID: id, Type: "t", Profile: domain.Ref{ID: "p"}, Properties: map[string]any{"x": x}}
			e.Metadata.Time.Insert = domain.Now()
			return e
		}
		if err := s.Commit(ctx, &storage.Batch{Events: []*domain.Event{ev("c1", "text")}}); err != nil {
			t.Fatal(err)
		}
		p := domain.NewProfile("cp", domain.Now())
		p.Traits["x"] = "text"
		if err := s.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{p}}); err != nil {
			t.Fatal(err)
		}
		p2 := domain.NewProfile("cp2", domain.Now())
		p2.Traits["x"] = map[string]any{"nested": true}
		if err := s.Commit(ctx, &storage.Batch{Events: []*domain.Event{ev("c2", map[string]any{"nested": 1.0})}, Profiles: []*domain.Profile{p2}}); err != nil {
			t.Fatalf("clashing documents refused: %v", err)
		}
		got, err := s.Events().Get(ctx, "c2")
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := got.Properties["x"].(map[string]any); !ok || m["nested"] != 1.0 {
			t.Fatalf("event read back as %v", got.Properties)
		}
		gp, err := s.Profiles().Get(ctx, "cp2")
		if err != nil || gp.Traits["x"] == nil {
			t.Fatalf("profile read back as %+v, %v", gp, err)
		}
		_, total, err := s.Events().ListByProfile(ctx, []string{"p"}, storage.Page{Limit: 10})
		if err != nil || total != 2 {
			t.Fatalf("events of p: %d %v", total, err)
		}
	})
}

// TestSchemaCheck: serve refuses indices that migrate did not make, saying what to run.
func TestSchemaCheck(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		c := elasticConfig(e.url, uniquePrefix("none"))
		_, err := elastic.Open(context.Background(), c)
		if !errors.Is(err, elastic.ErrSchema) || !strings.Contains(err.Error(), "thamesthrive migrate") {
			t.Fatalf("open without migrate: %v", err)
		}
	})
}

// flaky is a proxy to a cluster that can answer _bulk with an error status.
type flaky struct {
	fail  atomic.Int32 // bulk requests still to fail
	code  atomic.Int32
	bulks atomic.Int32
	proxy *httputil.ReverseProxy
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/_bulk") {
		f.bulks.Add(1)
		if f.fail.Add(-1) >= 0 {
			w.WriteHeader(int(f.code.Load()))
			fmt.Fprint(w, `{"error":{"type":"es_rejected_execution_exception","reason":"busy"},"status":429}`)
			return
		}
	}
	f.proxy.ServeHTTP(w, r)
}

// TestBusyAndUnreachableCluster: a cluster answering 429/503 is retried with backoff;
// one that keeps failing, or is gone, makes Commit fail with ErrUnavailable (the
// collector's 503) within the write timeout.
func TestBusyAndUnreachableCluster(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		c := migrated(t, e, nil)
		target, _ := url.Parse(e.url)
		f := &flaky{proxy: httputil.NewSingleHostReverseProxy(target)}
		srv := httptest.NewServer(f)
		defer srv.Close()
		c.Hosts = []string{srv.URL}
		c.WriteTimeout = 2 * time.Second
		s := openStore(t, c)
		ctx := context.Background()
		f.code.Store(429)
		f.fail.Store(3)
		batch := func(id string) *storage.Batch {
			ev := &domain.Event{ID: id, Type: "t"}
			ev.Metadata.Time.Insert = domain.Now()
			return &storage.Batch{Events: []*domain.Event{ev}}
		}
		if err := s.Commit(ctx, batch("b1")); err != nil {
			t.Fatalf("commit through three 429s: %v", err)
		}
		if f.bulks.Load() < 4 {
			t.Fatalf("%d bulk requests, want retries", f.bulks.Load())
		}
		f.code.Store(503)
		f.fail.Store(1000)
		start := time.Now()
		if err := s.Commit(ctx, batch("b2")); !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("commit to a failing cluster: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("gave up after %v", d)
		}
		srv.Close()
		start = time.Now()
		if err := s.Commit(ctx, batch("b3")); !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("commit to a cluster that is gone: %v", err)
		}
		if err := s.Ping(ctx); !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("ping of a cluster that is gone: %v", err)
		}
	})
}

// memCache is an in-process storage.DocCache for tests without Redis.
type memCache struct {
	mu sync.Mutex
	m  map[string]storage.CachedDoc
}

func (c *memCache) Get(_ context.Context, k string) (storage.CachedDoc, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[k]
	return d, ok, nil
}

func (c *memCache) Set(_ context.Context, docs []storage.CachedDoc) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range docs {
		if cur, ok := c.m[d.Key]; !ok || cur.Term < d.Term || cur.Term == d.Term && cur.SeqNo < d.SeqNo {
			c.m[d.Key] = d
		}
	}
	return nil
}

func (c *memCache) Delete(_ context.Context, keys ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		delete(c.m, k)
	}
	return nil
}

// TestDocCache: processes sharing the document cache (Redis when REDIS_HOST is set)
// read each other's latest writes; a stale entry makes the next write conflict once
// and is then dropped.
func TestDocCache(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		var cache storage.DocCache = &memCache{m: map[string]storage.CachedDoc{}}
		if h := os.Getenv("REDIS_HOST"); h != "" {
			rc, err := redis.New(redis.Config{Addrs: []string{h + ":" + envOr("REDIS_PORT", "6379")}, Password: os.Getenv("REDIS_PASSWORD"),
				KeyPrefix: uniquePrefix("cache")})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rc.Drop(context.Background()); rc.Close() })
			cache = rc.DocCache(time.Minute)
		}
		c := migrated(t, e, func(c *elastic.Config) { c.Cache = cache })
		a, b := openStore(t, c), openStore(t, c)
		ctx := context.Background()
		for i := 1; i <= 5; i++ {
			s1, s2 := a, b
			if i%2 == 0 {
				s1, s2 = b, a
			}
			p, err := s1.Profiles().Get(ctx, "dc")
			if errors.Is(err, storage.ErrNotFound) {
				p = domain.NewProfile("dc", domain.Now())
			} else if err != nil {
				t.Fatal(err)
			}
			p.Stats.Views = int64(i)
			if err := s1.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{p}}); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
			got, err := s2.Profiles().Get(ctx, "dc")
			if err != nil || got.Stats.Views != int64(i) {
				t.Fatalf("read after write %d by the other process: %+v %v", i, got, err)
			}
		}
		// A stale entry (as a failed cache write could leave) is healed by the conflict.
		d, _, _ := cache.Get(ctx, "profiles:dc")
		cache.Delete(ctx, "profiles:dc")
		stale := d
		stale.SeqNo, stale.Source = d.SeqNo-1, []byte(`{"id":"dc","stats":{"views":1}}`)
		cache.Set(ctx, []storage.CachedDoc{stale})
		p, _ := a.Profiles().Get(ctx, "dc")
		if err := a.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{p}}); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("write based on a stale cache entry: %v, want a conflict", err)
		}
		if p, _ := a.Profiles().Get(ctx, "dc"); p.Stats.Views != 5 {
			t.Fatalf("after the conflict the cache still answers views %d", p.Stats.Views)
		}
	})
}
