package main

import (
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/loadtest"
)

func TestClusterFigures(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
	b := clusterSnap{Time: t0, PIDs: map[string]int{"serve": 1, "search": 2, "redis": 3},
		Procs:  map[string]*loadtest.ProcSample{"serve": {CPUTicks: 100}, "search": {CPUTicks: 1000}, "redis": {CPUTicks: 50}},
		Search: map[string]float64{"index_total": 10, "store_bytes": 1e6}, Redis: map[string]float64{"total_commands_processed": 7}}
	a := clusterSnap{Time: t0.Add(10 * time.Second), PIDs: map[string]int{"serve": 1, "search": 2, "redis": 3},
		Procs:  map[string]*loadtest.ProcSample{"serve": {CPUTicks: 150, VmHWMKiB: 81920}, "search": {CPUTicks: 1300}, "redis": {CPUTicks: 60}},
		Search: map[string]float64{"index_total": 3010, "store_bytes": 2e6}, Redis: map[string]float64{"total_commands_processed": 4007}}
	rf := &loadtest.RunFile{Closed: &loadtest.Result{Sent: 600}, Open: &loadtest.Result{Sent: 400}}
	r := clusterFigures(b, a, rf, 100)
	// 50 ticks = 0.5 s over 1,000 requests = 500 µs each; 300 ticks = 3,000 µs; 10 = 100
	want := map[string]float64{"serve": 500, "search": 3000, "redis": 100}
	for k, v := range want {
		if r.CPUPerReq[k] != v {
			t.Errorf("%s: %v CPU-µs per request, want %v", k, r.CPUPerReq[k], v)
		}
	}
	if r.PeakRSSMiB["serve"] != 80 {
		t.Errorf("serve peak RSS %v MiB, want 80", r.PeakRSSMiB["serve"])
	}
	rows := map[string]clusterRow{}
	for _, row := range r.Rows {
		rows[row.What] = row
	}
	if rows["documents indexed"].PerReq != 3 || rows["Redis commands"].PerReq != 4 {
		t.Errorf("rows %+v", r.Rows)
	}
	if got := rows["bytes on disk (now)"]; !got.Absolute || got.Total != 2e6 {
		t.Errorf("bytes on disk row %+v", got)
	}
	md := r.markdown()
	if !strings.Contains(md, "| search + Redis | 3100.0 |") || !strings.Contains(md, "FAIL") {
		t.Errorf("markdown:\n%s", md)
	}
	// idle: search spent 10 ticks/s with no requests; over the 10 s window that is 100
	// ticks = 1,000 µs per request, taken off its 3,000
	i0 := clusterSnap{Time: t0, PIDs: b.PIDs, Procs: map[string]*loadtest.ProcSample{"search": {CPUTicks: 0}}}
	i1 := clusterSnap{Time: t0.Add(5 * time.Second), PIDs: b.PIDs, Procs: map[string]*loadtest.ProcSample{"search": {CPUTicks: 50}}}
	r.subtractIdle(i0, i1, 100)
	if r.CPUPerReq["search"] != 2000 || r.CPUPerReq["serve"] != 500 || !r.IdleSubtracted {
		t.Errorf("net of idle: %v", r.CPUPerReq)
	}
	// a restarted process (another pid) gives no figure rather than a wrong one
	a.PIDs["search"] = 9
	if _, ok := clusterFigures(b, a, rf, 100).CPUPerReq["search"]; ok {
		t.Error("a restarted search process still gave a figure")
	}
}
