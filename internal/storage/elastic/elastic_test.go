package elastic_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/elastic"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

var seq atomic.Int64

// writers lets benchmarks try other numbers of concurrent _bulk requests.
var writers, _ = strconv.Atoi(os.Getenv("TT_BENCH_WRITERS"))

// testConfig returns a configuration for the cluster named by ELASTIC_HOST with an
// index prefix of its own, or skips the test when ELASTIC_HOST is unset.
func testConfig(t testing.TB) elastic.Config {
	t.Helper()
	host := os.Getenv("ELASTIC_HOST")
	if host == "" {
		t.Skip("ELASTIC_HOST is not set: no Elasticsearch/OpenSearch to test against")
	}
	return elastic.Config{
		Hosts:       strings.Split(host, ","),
		Username:    os.Getenv("ELASTIC_HTTP_AUTH_USERNAME"),
		Password:    os.Getenv("ELASTIC_HTTP_AUTH_PASSWORD"),
		APIKey:      os.Getenv("ELASTIC_API_KEY"),
		IndexPrefix: fmt.Sprintf("tt-unit-%d-%d", time.Now().UnixNano()%1e9, seq.Add(1)),
		KeyPaths:    []string{"data.contact.email.main"},
		Writers:     writers,
	}
}

func open(t *testing.T) storage.Store { return openTB(t) }

func openB(b *testing.B) *elastic.Store { return openTB(b) }

func openTB(t testing.TB) *elastic.Store { return openWith(t, testConfig(t)) }

// openWith creates cfg's indices, opens a store on them and drops them after the test.
func openWith(t testing.TB, cfg elastic.Config) *elastic.Store {
	ctx := context.Background()
	if err := elastic.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := elastic.Drop(context.Background(), cfg); err != nil {
			t.Errorf("dropping test indices: %v", err)
		}
	})
	s, err := elastic.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) { storagetest.Run(t, open) }

func TestCommitPhases(t *testing.T) {
	storagetest.CommitPhases(t, func(t *testing.T, onCommit func(storage.CommitPhases)) storage.Store {
		cfg := testConfig(t)
		cfg.OnCommit = onCommit
		return openWith(t, cfg)
	})
}

// TestLingerGathersCommits: with Linger, Commit calls that arrive while the writer waits
// share one _bulk (here eight commits 20 ms apart, which without it go in bulks of one or
// two), and each is stored and readable once it returns.
func TestLingerGathersCommits(t *testing.T) {
	cfg := testConfig(t)
	cfg.Linger = 300 * time.Millisecond
	var mu sync.Mutex
	largest := 0
	cfg.OnBatch = func(commits, _ int) {
		mu.Lock()
		largest = max(largest, commits)
		mu.Unlock()
	}
	ctx := context.Background()
	s := openWith(t, cfg)
	defer s.Close()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		time.Sleep(20 * time.Millisecond)
		go func() {
			defer wg.Done()
			p := domain.NewProfile(fmt.Sprint("linger", i), domain.Now())
			errs[i] = s.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{p}})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		if p, err := s.Profiles().Get(ctx, fmt.Sprint("linger", i)); err != nil || p == nil {
			t.Fatalf("profile linger%d after its commit: %v %v", i, p, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if largest < n-2 {
		t.Errorf("the largest _bulk carried %d commits; with a linger of %s, %d commits 20 ms apart should share one", largest, cfg.Linger, n)
	}
}
