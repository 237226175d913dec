package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// testReports checks storage.Reports on a fixture of events and profiles at known times.
func testReports(t *testing.T, s storage.Store) {
	ctx := context.Background()
	base := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC) // a Monday
	now := time.Now().UTC()
	b := &storage.Batch{}
	ev := func(id, typ, src, session string, at time.Time, device, country string) {
		e := &domain.Event{ID: id, Type: typ, Source: domain.Ref{ID: src}, Profile: domain.Ref{ID: "rp1"}, Session: domain.EventSession{ID: session},
			Properties: map[string]any{}, Device: domain.Device{Type: device}, OS: domain.OS{Name: "iOS"}}
		if country != "" {
			e.Device.Geo = &domain.Geo{Country: country}
		}
		e.Metadata.Channel = "web"
		e.Metadata.Time.Insert = domain.NewTime(at)
		b.Events = append(b.Events, e)
	}
	ev("r1", "page-view", "web", "rs1", base.Add(30*time.Second), "mobile", "GB")
	ev("r2", "page-view", "web", "rs1", base.Add(70*time.Second), "desktop", "GB")
	ev("r3", "purchase", "app", "rs1", base.Add(80*time.Second), "mobile", "FR")
	ev("r4", "page-view", "app", "rs2", base.Add(65*time.Minute), "mobile", "")
	ev("r5", "page-view", "web", "rs2", base.Add(48*time.Hour), "", "")
	ev("r6", "page-view", "web", "rs-now1", now.Add(-5*time.Minute), "", "")
	ev("r7", "page-view", "web", "rs-now2", now.Add(-time.Minute), "", "")
	ev("r8", "page-view", "web", "rs-now2", now.Add(-time.Minute), "", "")
	for i, at := range []time.Time{base, base.Add(time.Hour), base.Add(time.Hour + time.Minute)} {
		p := domain.NewProfile(fmt.Sprintf("rp%d", i+1), domain.NewTime(at))
		if i == 2 {
			p.Metadata.MergedInto = "rp2"
		}
		b.Profiles = append(b.Profiles, p)
	}
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	r := s.Reports()
	str := func(bs []storage.Bucket) string {
		out := ""
		for _, b := range bs {
			out += fmt.Sprintf("%s=%d ", b.Start.UTC().Format("01-02T15:04"), b.Count)
		}
		return out
	}
	pageViews, err := query.ParseOptions{DefaultScope: "event"}.Parse(`type == "page-view"`)
	if err != nil {
		t.Fatal(err)
	}
	hist := []struct {
		name string
		q    storage.Histogram
		fn   func(context.Context, storage.Histogram) ([]storage.Bucket, error)
		want string
	}{
		{"events per minute", storage.Histogram{From: base, To: base.Add(2 * time.Hour), Interval: time.Minute}, r.EventHistogram,
			"01-05T10:00=1 01-05T10:01=2 01-05T11:05=1 "},
		{"page views per minute", storage.Histogram{From: base, To: base.Add(2 * time.Hour), Interval: time.Minute, Where: pageViews}, r.EventHistogram,
			"01-05T10:00=1 01-05T10:01=1 01-05T11:05=1 "},
		{"events per day", storage.Histogram{From: base.Add(-24 * time.Hour), To: base.Add(72 * time.Hour), Interval: 24 * time.Hour}, r.EventHistogram,
			"01-05T00:00=4 01-07T00:00=1 "},
		{"events per week", storage.Histogram{From: base.Add(-7 * 24 * time.Hour), To: base.Add(14 * 24 * time.Hour), Interval: storage.Week}, r.EventHistogram,
			"01-05T00:00=5 "},
		{"new profiles per hour", storage.Histogram{From: base, To: base.Add(24 * time.Hour), Interval: time.Hour}, r.NewProfiles,
			"01-05T10:00=1 01-05T11:00=1 "},
	}
	for _, tc := range hist {
		got, err := tc.fn(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if str(got) != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, str(got), tc.want)
		}
	}
	if got := str(storage.FillBuckets([]storage.Bucket{{Start: base.Truncate(time.Hour), Count: 3}}, base.Add(-time.Hour), base.Add(90*time.Minute), time.Hour)); got != "01-05T09:00=0 01-05T10:00=3 01-05T11:00=0 " {
		t.Errorf("FillBuckets: %s", got)
	}

	breakdowns := []struct {
		by    string
		where query.Expr
		want  string
	}{
		{"type", nil, "page-view=3 purchase=1 "},
		{"source", nil, "app=2 web=2 "},
		{"device_type", nil, "mobile=3 desktop=1 "},
		{"country", nil, "GB=2 FR=1 "},
		{"os", nil, "iOS=4 "},
		{"channel", pageViews, "web=3 "},
	}
	for _, tc := range breakdowns {
		got, err := r.EventBreakdown(ctx, storage.Breakdown{From: base, To: base.Add(24 * time.Hour), Field: tc.by, Where: tc.where, Limit: 10})
		if err != nil {
			t.Fatalf("by %s: %v", tc.by, err)
		}
		out := ""
		for _, c := range got {
			out += fmt.Sprintf("%s=%d ", c.Value, c.Count)
		}
		if out != tc.want {
			t.Errorf("by %s: %s, want %s", tc.by, out, tc.want)
		}
	}
	if got, err := r.EventBreakdown(ctx, storage.Breakdown{From: base, To: base.Add(24 * time.Hour), Field: "type", Limit: 1}); err != nil || len(got) != 1 {
		t.Errorf("limit 1: %v, %v", got, err)
	}
	if n, err := r.ActiveSessions(ctx, now.Add(-30*time.Minute)); err != nil || n != 2 {
		t.Errorf("active sessions: %d, %v; want 2", n, err)
	}
}
