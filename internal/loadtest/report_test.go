package loadtest

import (
	"strings"
	"testing"
)

func sampleReport(stored int64) *Report {
	srv := func(us float64) *ProcUsage { return &ProcUsage{CPUMicrosPerReq: us, Utilization: 1} }
	m := 1300.0
	profiles := int64(1200)
	return &Report{
		Config: Config{Backend: "embedded", WarmupProfiles: 100000, Duration: "20s", Concurrency: 32},
		Warmup: &WarmupFile{Profiles: 1000, Result: &Result{Name: "warmup", EventsAcked: 1000, OK: 1000, Responses: 1000}},
		Track: &RunFile{
			Closed: &Result{Name: "track-closed", OKRPS: 10000, EventsAcked: 200, OK: 200, Responses: 200, Server: srv(90),
				ByKind: map[string]*KindResult{"returning": {Requests: 150, OK: 150}, "new": {Requests: 40, OK: 40}, "sign-in": {Requests: 10, OK: 10}}},
			Open: &Result{Name: "track-open", OKRPS: 5000, TargetRate: 5000, EventsAcked: 100, OK: 100, Responses: 102, Statuses: map[string]int64{"200": 100, "503": 2}, Latency: Latency{Count: 102, P99Ms: 3.2}, Server: srv(110),
				ByKind: map[string]*KindResult{"returning": {Requests: 80, OK: 80}, "new": {Requests: 22, OK: 20, Statuses: map[string]int64{"503": 2}}}},
			PeakRSSKiB:          80 * 1024,
			MetricsEventsStored: &m,
		},
		Baseline: &RunFile{
			Closed: &Result{Name: "baseline-closed", OKRPS: 25000, Server: srv(40)},
			Open:   &Result{Name: "baseline-open", OKRPS: 12500, Server: srv(50)},
		},
		Stored: &StoredCounts{Events: stored, Profiles: &profiles,
			EventsByType: map[string]int64{"page-view": stored - 10, "sign-in": 10}},
	}
}

func TestEvaluate(t *testing.T) {
	r := sampleReport(1300)
	// closed: 90 µs against 20 + 3×40 = 140 → PASS; open: 110 µs against 0 + 3×50 = 150 → PASS
	r.Floor = &Floor{Closed: &FloorAt{Batch: 20, CPUMicrosPerReq: 20}, Open: &FloorAt{Batch: 2, CPUMicrosPerReq: 0}}
	r.Evaluate(true)
	if *r.Ratios.RPS != 0.4 || *r.Ratios.CPUPerRequest != 2.25 || *r.Ratios.OpenCPU != 2.2 {
		t.Fatalf("ratios %v %v %v", *r.Ratios.RPS, *r.Ratios.CPUPerRequest, *r.Ratios.OpenCPU)
	}
	if r.NothingLost.Status != "PASS" || r.NothingLost.Acked != 1300 {
		t.Fatalf("%+v", r.NothingLost)
	}
	want := map[string]string{
		"CPU µs per request, closed loop":           "PASS",
		"CPU µs per request, open loop":             "PASS",
		"p99 latency, open loop at half saturation": "PASS",
		"peak RSS of serve":                         "PASS",
		"nothing lost, nothing doubled":             "PASS",
	}
	for _, tg := range r.Targets {
		if want[tg.Name] != tg.Status {
			t.Errorf("%s: %s (%s), want %s", tg.Name, tg.Status, tg.Got, want[tg.Name])
		}
		delete(want, tg.Name)
	}
	if len(want) > 0 {
		t.Errorf("targets missing: %v", want)
	}
	// Over the floor plus three baselines fails; without a floor the target is not judged.
	r.Floor.Closed.CPUMicrosPerReq = 60
	r.Track.Closed.Server.CPUMicrosPerReq = 181
	r.Evaluate(true)
	for _, tg := range r.Targets {
		if tg.Name == "CPU µs per request, closed loop" && tg.Status != "FAIL" {
			t.Errorf("181 µs against 60 + 3×40: %s", tg.Status)
		}
	}
	r.Track.Closed.Server.CPUMicrosPerReq = 90
	r.Floor = nil
	r.Evaluate(true)
	for _, tg := range r.Targets {
		if strings.HasPrefix(tg.Name, "CPU µs per request") && tg.Status != "n/a" {
			t.Errorf("%s without a floor: %s", tg.Name, tg.Status)
		}
	}
	md := r.Markdown()
	for _, s := range []string{"| closed loop: requests/s answered 200 | 10,000 | 25,000 | 40.0% |", "2.25×", "**Nothing lost: PASS**", "503×2", "1,200 profiles",
		"1,300 events (page-view 1,290, sign-in 10)", "track-open: only 20 of 22 new requests were answered 200"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}
}

func TestEvaluateFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		stored   int64
		noDB     bool
		embedded bool
		internal int64 // internal events counted apart (elastic)
		want     string
	}{
		{"lost", 1299, false, true, 0, "FAIL"},
		{"doubled", 1301, false, true, 0, "FAIL"},
		{"no count on the embedded store", 0, true, true, 0, "FAIL"},
		{"elastic falls back to the metrics counter", 0, true, false, 0, "PASS"},
		{"elastic: internal events are not counted as /track events", 0, true, false, 40, "PASS"},
		{"elastic: internal events do not hide a loss", 0, true, false, 41, "FAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleReport(tc.stored)
			if tc.noDB {
				r.Stored = nil
			}
			if tc.internal > 0 {
				m := *r.Track.MetricsEventsStored + 40 // 40 segment events on top of 1,300
				r.Track.MetricsEventsStored = &m
				r.Track.InternalEventsStored = &tc.internal
			}
			r.Evaluate(tc.embedded)
			if r.NothingLost.Status != tc.want {
				t.Fatalf("%s: %s", r.NothingLost.Status, r.NothingLost.Detail)
			}
		})
	}
	r := sampleReport(1299)
	r.Evaluate(true)
	if !strings.Contains(r.NothingLost.Detail, "page-view 1,289 stored / 1,290 acknowledged") {
		t.Errorf("detail should name the type that differs: %s", r.NothingLost.Detail)
	}
	r = sampleReport(1300)
	r.Track.MetricsEventsStored = nil
	r.Stored = nil
	r.Evaluate(false)
	if r.NothingLost.Status != "SKIP" {
		t.Fatalf("no way to count: %s", r.NothingLost.Status)
	}
	r = sampleReport(1300)
	r.Config.WarmupProfiles = 2000
	r.Track.PeakRSSKiB = 200 * 1024
	r.Baseline.Closed.OKRPS = 100000
	r.Evaluate(true)
	for _, tg := range r.Targets {
		switch tg.Name {
		case "peak RSS":
			if tg.Status != "n/a" {
				t.Errorf("peak RSS with a small warm-up: %s", tg.Status)
			}
		case "/track requests/s ÷ baseline (closed loop)":
			if tg.Status != "FAIL" {
				t.Errorf("10%% of baseline: %s", tg.Status)
			}
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// The markdown says where the store's writes waited in each loop when the server reported
// it, and nothing about it when it did not (the baseline, an older server).
func TestMarkdownStorePhases(t *testing.T) {
	r := sampleReport(1300)
	r.Evaluate(true)
	if md := r.Markdown(); strings.Contains(md, "Where a store write waited") {
		t.Errorf("a report without phases mentions them:\n%s", md)
	}
	r.Track.Closed.StorePhases = map[string]PhaseWait{"queued": {Count: 9, MeanMs: 1.5, P99Ms: 7.25}, "write": {Count: 9, MeanMs: 1, P99Ms: 2}, "answer": {Count: 9, MeanMs: 0.1, P99Ms: 204.8, P99AtLeast: true}}
	r.Track.Open.StorePhases = map[string]PhaseWait{"write": {Count: 3, MeanMs: 0.5, P99Ms: 0.75}}
	want := "Where a store write waited (thamesthrive_store_commit_phase_seconds), mean / p99 ms: closed loop queued 1.50 / 7.25, write 1.00 / 2.00, answer 0.10 / ≥ 204.80; open loop write 0.50 / 0.75."
	if md := r.Markdown(); !strings.Contains(md, want) {
		t.Errorf("markdown lacks %q:\n%s", want, md)
	}
}
