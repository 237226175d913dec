package main

import (
	"io"
	"math"

	dto "github.com/prometheus/client_model/go"

	"github.com/thamesthrive/thamesthrive/internal/loadtest"
)

// phaseMetric is the server's histogram of where its store writes waited
// (storage.CommitPhases), one series per phase.
const phaseMetric = "thamesthrive_store_commit_phase_seconds"

// phaseNames are the series of phaseMetric, in the order of a request's life.
var phaseNames = []string{"queued", "write", "answer"}

// phaseHist is one phase's histogram as scraped: cumulative counts by upper bound.
type phaseHist struct {
	le    []float64 // bounds in seconds, +Inf last
	cum   []float64
	sum   float64
	count float64
}

// parsePhases reads every phase's histogram from Prometheus text (none when the text
// does not parse).
func parsePhases(r io.Reader) map[string]*phaseHist {
	out := map[string]*phaseHist{}
	mf := parseMetrics(r)[phaseMetric]
	if mf.GetType() != dto.MetricType_HISTOGRAM {
		return out
	}
	for _, m := range mf.GetMetric() {
		phase := labelValue(m, "phase")
		if phase == "" {
			continue
		}
		hist := m.GetHistogram()
		h := &phaseHist{sum: hist.GetSampleSum(), count: sampleCount(hist)}
		for _, b := range hist.GetBucket() { // in increasing order, +Inf last
			h.le = append(h.le, b.GetUpperBound())
			h.cum = append(h.cum, float64(b.GetCumulativeCount())+b.GetCumulativeCountFloat())
		}
		out[phase] = h
	}
	return out
}

// since returns h minus an earlier scrape of the same histogram.
func (h *phaseHist) since(before *phaseHist) *phaseHist {
	d := &phaseHist{le: h.le, cum: make([]float64, len(h.cum)), sum: h.sum, count: h.count}
	copy(d.cum, h.cum)
	if before != nil && len(before.cum) == len(h.cum) {
		for i := range d.cum {
			d.cum[i] -= before.cum[i]
		}
		d.sum -= before.sum
		d.count -= before.count
	}
	return d
}

// wait summarises h: the mean, and the 99th percentile interpolated linearly inside
// its bucket as Prometheus's histogram_quantile does (at least the largest finite bound
// when it falls in the +Inf bucket).
func (h *phaseHist) wait() loadtest.PhaseWait {
	if h.count <= 0 {
		return loadtest.PhaseWait{}
	}
	w := loadtest.PhaseWait{Count: int64(h.count), MeanMs: h.sum / h.count * 1000}
	rank := 0.99 * h.count
	lo, below := 0.0, 0.0
	for i, b := range h.le {
		if h.cum[i] >= rank {
			if math.IsInf(b, 1) {
				w.P99Ms, w.P99AtLeast = lo*1000, true
				return w
			}
			in := h.cum[i] - below
			frac := 1.0
			if in > 0 {
				frac = (rank - below) / in
			}
			w.P99Ms = (lo + (b-lo)*frac) * 1000
			return w
		}
		lo, below = b, h.cum[i]
	}
	return w
}

// storePhases scrapes the server's phase histograms now and returns a function that,
// called after a loop, answers where the store writes made during it waited (nil when
// the server has no such metric, or when on is false).
func storePhases(base string, on bool) func() map[string]loadtest.PhaseWait {
	if !on {
		return func() map[string]loadtest.PhaseWait { return nil }
	}
	before := scrapePhases(base)
	return func() map[string]loadtest.PhaseWait {
		after := scrapePhases(base)
		if len(after) == 0 {
			return nil
		}
		out := map[string]loadtest.PhaseWait{}
		for _, name := range phaseNames {
			if h := after[name]; h != nil {
				if w := h.since(before[name]).wait(); w.Count > 0 {
					out[name] = w
				}
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
}

func scrapePhases(base string) map[string]*phaseHist {
	resp, err := apiClient.Get(base + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil
	}
	return parsePhases(resp.Body)
}
