package main

import (
	"io"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The server's /metrics is read with the Prometheus project's own parser of its text
// format (expfmt, from the module client_golang already brings in), not by hand.

// parseMetrics parses Prometheus text into its metric families (nil when it does not
// parse: numbers read from a broken exposition would be wrong).
func parseMetrics(r io.Reader) map[string]*dto.MetricFamily {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil
	}
	return fams
}

// readCounter sums a Prometheus counter's samples (all label sets) from /metrics. ok is
// false when the server has no /metrics or no such counter.
func readCounter(base, name string) (v float64, ok bool) {
	resp, err := apiClient.Get(base + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return 0, false
	}
	return parseCounter(resp.Body, name)
}

// parseCounter sums the samples of name in Prometheus text, all label sets: a counter's,
// gauge's or untyped value, or a histogram's sum or count when name ends in _sum or
// _count.
func parseCounter(r io.Reader, name string) (v float64, ok bool) {
	fams := parseMetrics(r)
	if mf := fams[name]; mf != nil {
		for _, m := range mf.GetMetric() {
			v += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
		}
		return v, len(mf.GetMetric()) > 0
	}
	for suffix, part := range map[string]func(*dto.Histogram) float64{
		"_sum":   (*dto.Histogram).GetSampleSum,
		"_count": sampleCount,
	} {
		base, found := strings.CutSuffix(name, suffix)
		if mf := fams[base]; found && mf.GetType() == dto.MetricType_HISTOGRAM {
			for _, m := range mf.GetMetric() {
				v += part(m.GetHistogram())
			}
			return v, len(mf.GetMetric()) > 0
		}
	}
	return 0, false
}

// sampleCount is a histogram's count, however the exposition wrote it.
func sampleCount(h *dto.Histogram) float64 {
	return float64(h.GetSampleCount()) + h.GetSampleCountFloat()
}

// labelValue is the value of a sample's label name ("" without it).
func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
