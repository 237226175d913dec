package workflow_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
)

// cpuTime is the process's user and system CPU time: on a shared machine, CPU per
// operation drifts less than wall time per operation.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProcessPageViewFlow runs the workflow stage for one page-view with the rule and
// deployed flow of scripts/bench-fixtures (a counter, an if on the page's URL, an interest,
// a trait from the page's title), over a profile and event of realistic size.
func BenchmarkProcessPageViewFlow(b *testing.B) {
	f := newFixture(b)
	f.flow("page-view-profile", true, g([]string{"start:start",
		`count:increment-counter{"counter": "page-views", "by": 1}`,
		`running:if{"condition": "event@hit.url CONTAINS \"shoes\" OR event@hit.url CONTAINS \"runner\""}`,
		`interest:increase-interest{"interest": "running", "by": 1}`,
		`last:set-data{"set": {"profile@traits.last_page": "{{event@hit.name}}"}}`},
		"start>count", "count>running", "running.true>interest", "count>last"))
	f.deploy("page-view-profile")
	f.rule("page-views", "page-view", "", "", "page-view-profile", true)

	p, s, tmpl := richObjects()
	ua := "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
	tmpl.Context = map[string]any{
		"page":    map[string]any{"url": tmpl.Hit.URL, "title": tmpl.Hit.Name, "referer": map[string]any{"host": "www.google.com"}},
		"browser": map[string]any{"local": map[string]any{"browser": map[string]any{"userAgent": ua, "language": "en-GB"}}},
		"screen":  map[string]any{"local": map[string]any{"width": 1920.0, "height": 1080.0}},
	}
	tmpl.Properties = map[string]any{}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		ev := *tmpl
		ev.Metadata.ProcessedBy = domain.ProcessedBy{}
		w := &pipeline.Work{Source: &domain.Source{Meta: domain.Meta{ID: "web"}}, Profile: p, Session: s,
			Events: []*domain.Event{&ev}, Response: map[string]any{}, UX: []any{}, Now: domain.Now()}
		if err := f.e.Process(f.ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	if p.Stats.Counters["page-views"] < 2 || p.Interests["running"] < 2 || p.Traits["last_page"] != tmpl.Hit.Name {
		b.Fatalf("the flow did not run: counters %v interests %v traits %v", p.Stats.Counters, p.Interests, p.Traits)
	}
}
