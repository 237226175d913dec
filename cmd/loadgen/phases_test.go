package main

import (
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scrape returns what a registry holding the server's phase histogram answers on /metrics
// after observe has run.
func scrape(t *testing.T, observe func(*prometheus.HistogramVec)) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: phaseMetric, Buckets: prometheus.ExponentialBuckets(0.0001, 2, 12)}, []string{"phase"})
	reg.MustRegister(h)
	observe(h)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestPhaseWaits(t *testing.T) {
	obs := func(h *prometheus.HistogramVec, phase string, d time.Duration, n int) {
		for range n {
			h.WithLabelValues(phase).Observe(d.Seconds())
		}
	}
	// Before the loop: 100 queued waits of 1 ms.
	before := parsePhases(strings.NewReader(scrape(t, func(h *prometheus.HistogramVec) {
		obs(h, "queued", time.Millisecond, 100)
	})))
	// After: the same 100, then 990 of 0.15 ms and 10 of 5 ms queued; 1,000 writes of
	// 1 ms; 1,000 answers of 1 s (past the largest bound, 0.2048 s).
	after := parsePhases(strings.NewReader(scrape(t, func(h *prometheus.HistogramVec) {
		obs(h, "queued", time.Millisecond, 100)
		obs(h, "queued", 150*time.Microsecond, 990)
		obs(h, "queued", 5*time.Millisecond, 10)
		obs(h, "write", time.Millisecond, 1000)
		obs(h, "answer", time.Second, 1000)
	})))
	if len(after) != 3 {
		t.Fatalf("parsed phases %v, want queued, write and answer", after)
	}
	q := after["queued"].since(before["queued"]).wait()
	if q.Count != 1000 {
		t.Fatalf("queued: %d waits in the loop, want 1,000 (the 100 before it subtracted)", q.Count)
	}
	if want := (990*0.15 + 10*5) / 1000; math.Abs(q.MeanMs-want) > 1e-6 {
		t.Errorf("queued mean %.4f ms, want %.4f", q.MeanMs, want)
	}
	// The 990th wait is the last of the 0.1–0.2 ms bucket: the p99 is its upper bound.
	if q.P99Ms < 0.1 || q.P99Ms > 0.2 || q.P99AtLeast {
		t.Errorf("queued p99 %.3f ms (at least: %v), want within the 0.1–0.2 ms bucket", q.P99Ms, q.P99AtLeast)
	}
	w := after["write"].since(nil).wait()
	if w.Count != 1000 || w.P99Ms < 0.8 || w.P99Ms > 1.6 {
		t.Errorf("write %+v, want 1,000 waits with a p99 in the 0.8–1.6 ms bucket", w)
	}
	a := after["answer"].since(nil).wait()
	if !a.P99AtLeast || math.Abs(a.P99Ms-204.8) > 1e-6 {
		t.Errorf("answer %+v, want p99 at least the largest bound, 204.8 ms", a)
	}
	// Lines of other shapes are skipped, not fatal.
	odd := "thamesthrive_store_commit_phase_seconds_bucket{phase=\"queued\",le=\"0.1\"} \nthamesthrive_store_commit_phase_seconds_sum{} 3\nthamesthrive_store_commit_phase_seconds_count{phase=\"write\"} x\n"
	if got := parsePhases(strings.NewReader(odd)); len(got) != 0 {
		t.Errorf("malformed lines parsed as %v", got)
	}
	if got := (&phaseHist{}).wait(); got.Count != 0 || got.P99Ms != 0 {
		t.Errorf("an empty histogram summarised as %+v", got)
	}
}
