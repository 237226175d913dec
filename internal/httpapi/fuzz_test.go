package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/local"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// newTestServer wires a Server over a real SQLite store in a temp dir, with one
// enabled REST source "web" and one webhook source "hook".
func newTestServer(t testing.TB) *Server {
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, src := range []*domain.Source{
		{Meta: domain.Meta{ID: "web", Name: "Web", Enabled: true}, Type: domain.SourceREST},
		{Meta: domain.Meta{ID: "hook", Name: "Hook", Enabled: true}, Type: domain.SourceWebhook},
	} {
		doc, _ := json.Marshal(src)
		if _, err := store.Entities().Put(context.Background(), &storage.Entity{Kind: domain.EntitySource, ID: src.ID, Doc: doc}, 0); err != nil {
			t.Fatal(err)
		}
	}
	sources := collector.NewSourceCache(store.Entities(), time.Minute)
	col, err := collector.New(collector.Config{CacheSize: 100}, store, local.NewLocker(), sources)
	if err != nil {
		t.Fatal(err)
	}
	authSvc, _ := auth.New(auth.Config{InstallationToken: "fuzz-install-token"}, store.Entities())
	return New(Options{ExposeGUIAPI: true, MaxBodyBytes: 1 << 20}, Deps{Store: store, Collector: col, Sources: sources, Auth: authSvc,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()})
}

// FuzzTrack drives whole requests through the handler and the pipeline into a real
// store: whatever the body, the answer is never a 5xx and never a panic.
func FuzzTrack(f *testing.F) {
	for _, s := range []string{
		`{"source":{"id":"web"},"events":[{"type":"page-view"}]}`,
		`{"source":{"id":"web"},"profile":{"id":"p"},"events":[{"type":"sign-in","properties":{"email":{"main":5},"firstname":["x"]}}]}`,
		`{"source":{"id":"web"},"events":[{"type":"consent-update","properties":{"consents":{"a":{"granted":"yes","revoke":1},"b":true,"c":null}}}]}`,
		`{"source":{"id":"web"},"events":[{"type":"order-completed","properties":{"order":{"total":"12"}}}]}`,
		`{"source":{"id":"web"},"events":[{"type":"profile-update","properties":{"traits":[],"pii":"x","contact":{"email":{"main":{}}}}}]}`,
		`{"source":{"id":"web"},"context":{"page":{"url":"http://x/?utm_source=%zz"},"screen":{"local":{"width":-1,"height":1e308}},"browser":{"local":{"browser":{"userAgent":7}}}},"events":[{"type":"x"}]}`,
		`{"source":{"id":"hook"},"events":[{"type":"x"}]}`,
	} {
		f.Add([]byte(s))
	}
	srv := newTestServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/track", bytes.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
