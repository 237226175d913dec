package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/local"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// TestEveryPipelineErrorKindHasAStatus: the one map from error classes to statuses
// covers every kind, and a kind it does not know is a 500, not a panic.
func TestEveryPipelineErrorKindHasAStatus(t *testing.T) {
	want := map[pipeline.ErrorKind]int{pipeline.Invalid: 400, pipeline.TooLarge: 413, pipeline.Unauthenticated: 401,
		pipeline.Forbidden: 403, pipeline.Rejected: 422, pipeline.Unavailable: 503, pipeline.Unsupported: 415, pipeline.ErrorKind(99): 500}
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for kind, status := range want {
		t.Run(kind.String(), func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.fail(rec, httptest.NewRequest("POST", "/track", nil), &pipeline.Error{Kind: kind, Field: "f", Message: "m"})
			if rec.Code != status {
				t.Fatalf("status = %d, want %d", rec.Code, status)
			}
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Status != status || body.Field != "f" || body.Error != "f m" {
				t.Fatalf("body = %s (%v)", rec.Body, err)
			}
		})
	}
}

// failingCommit is a store whose commits fail as a full disk would make them fail.
type failingCommit struct{ storage.Store }

var errDiskFull = errors.New("database or disk is full")

func (failingCommit) Commit(context.Context, *storage.Batch) error {
	return fmt.Errorf("writing batch: %w: %w", storage.ErrUnavailable, errDiskFull)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestTrackUnavailableLogsItsCause: a /track that fails because the store cannot
// commit answers 503 with Retry-After and the usual message, and the log line says why;
// the cause is not shown to the client.
func TestTrackUnavailableLogsItsCause(t *testing.T) {
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	doc, _ := json.Marshal(domain.Source{Meta: domain.Meta{ID: "web", Name: "Web", Enabled: true}, Type: domain.SourceREST, Trusted: true})
	if _, err := store.Entities().Put(context.Background(), &storage.Entity{Kind: domain.EntitySource, ID: "web", Doc: doc}, 0); err != nil {
		t.Fatal(err)
	}
	failing := failingCommit{store}
	sources := collector.NewSourceCache(store.Entities(), time.Minute)
	col, err := collector.New(collector.Config{CacheSize: 100}, failing, local.NewLocker(), sources)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	srv := New(Options{MaxBodyBytes: 1 << 20}, Deps{Store: failing, Collector: col, Sources: sources,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Registry: prometheus.NewRegistry()})
	req := httptest.NewRequest("POST", "/track", strings.NewReader(`{"source":{"id":"web"},"events":[{"type":"page-view"}]}`))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if got := rec.Body.String(); got != `{"status":503,"error":"storage cannot accept the request now; retry later"}` {
		t.Fatalf("body = %s", got)
	}
	if l := logs.String(); !strings.Contains(l, "service_unavailable") || !strings.Contains(l, errDiskFull.Error()) {
		t.Fatalf("the log does not carry the cause:\n%s", l)
	}
}
