package elastic_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/eval"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// TestPlainKeywordFieldsAgreeWithEval: the strings schema 3 maps without the date
// sub-field (device, OS, app, addresses, statuses, URLs, user agents) are searched as
// keywords as before, and compared with a date they match nothing, as query/eval says of
// a value that is not a date; a free-form string beside them keeps its date sub-field.
func TestPlainKeywordFieldsAgreeWithEval(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	now := domain.Now()
	ev := &domain.Event{ID: "pk1", Type: "page-view", Profile: domain.Ref{ID: "p1"}, Session: domain.EventSession{ID: "s1"},
		Source:     domain.Ref{ID: "web"},
		Properties: map[string]any{"when": "2026-01-02T03:04:05Z"},
		Context: map[string]any{"page": map[string]any{"url": "https://shop.example.com/a", "referer": map[string]any{"host": "example.org"}},
			"browser": map[string]any{"local": map[string]any{"browser": map[string]any{"userAgent": "Mozilla/5.0", "language": "pl-PL"}}}},
		Hit:    domain.Hit{URL: "https://shop.example.com/a", Referer: "example.org"},
		Device: domain.Device{Type: "mobile", IP: "10.0.0.1", Resolution: "1536x864"},
		OS:     domain.OS{Name: "iOS", Version: "18.1"},
		App:    domain.App{Type: "browser", Name: "Safari", Version: "18.1", Language: "pl-PL"}}
	ev.Metadata.Time.Insert, ev.Metadata.Time.Create = now, now
	ev.Metadata.IP, ev.Metadata.Status = "10.0.0.1", domain.EventProcessed
	ev.Metadata.ProcessedBy.Rules = []string{"r1"}
	if err := s.Commit(ctx, &storage.Batch{Events: []*domain.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(ev)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	conds := []string{
		`device.type == "mobile"`, `device.type > now()`, `device.type < now()`, `device.type != now()`,
		`device.ip STARTS WITH "10."`, `metadata.ip == "10.0.0.1"`, `metadata.ip < datetime("2030-01-01")`,
		`os.name == "iOS"`, `app.version > "18"`, `app.version < now()`, `hit.url CONTAINS "shop"`,
		`hit.url > datetime("2000-01-01")`, `context.page.url ENDS WITH "/a"`, `context.page.url < now()`,
		`lower(context.browser.local.browser.userAgent) CONTAINS "mozilla"`, `metadata.status == "processed"`,
		`metadata.status != datetime("2026-01-01")`, `metadata.processed_by.rules == "r1"`, `source.id == "web"`,
		`app.language BETWEEN "a" AND "z"`, `device.resolution EXISTS`,
		`properties.when < now()`, `properties.when > datetime("2026-01-01")`, `properties.when == datetime("2026-01-02T03:04:05Z")`,
	}
	matched := 0
	for _, src := range conds {
		e, err := query.ParseOptions{DefaultScope: "event"}.Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		want := eval.Eval(e, eval.Maps{"event": doc}, at)
		_, total, err := s.Events().Search(ctx, storage.Query{Where: e, Now: at, Page: storage.Page{Limit: 1}})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := total == 1; got != want {
			t.Errorf("%s: search says %v, eval says %v", src, got, want)
		}
		if want {
			matched++
		}
	}
	if matched < 10 || matched == len(conds) {
		t.Fatalf("the cases are not telling: %d of %d match", matched, len(conds))
	}
}
