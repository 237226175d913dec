package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/loadtest"
)

// TestSoak drives /track with the bench's mix (internal/loadtest: 80% returning
// page-views, 15% new visitors, 5% sign-ins, some of which merge) at half of the
// saturation it measures first, for SOAK_MINUTES minutes (skipped when unset; `make
// soak` runs 30, .ci/run 3), and reports per minute the server's RSS, Go heap,
// goroutines, open files and p99 latency (open loop, measured from when each request was
// due). They must stay flat: the last minute's RSS within 1.5x of the second minute's
// (the first is warm-up), goroutines and open files within 2x plus a margin; and every
// request must be answered 200 and sent (a request still waiting for a connection 5 s
// after its minute ended means the server fell behind). SOAK_RATE=<requests/s> sets a
// fixed rate instead of half the measured saturation; SOAK_PROFILES the warm profiles
// (5,000).
func TestSoak(t *testing.T) {
	minutes, _ := strconv.Atoi(os.Getenv("SOAK_MINUTES"))
	if minutes < 2 {
		t.Skip("set SOAK_MINUTES (at least 2) to run the soak: make soak")
	}
	profiles := 5000
	if n, err := strconv.Atoi(os.Getenv("SOAK_PROFILES")); err == nil && n > 0 {
		profiles = n
	}
	// SOAK_PROFILE_DIR: serve with PPROF=yes and keep heap profiles of minute 2 and of the
	// last minute there (compare: go tool pprof -base heap-2.pb.gz heap-last.pb.gz).
	profDir := os.Getenv("SOAK_PROFILE_DIR")
	var env []string
	if v := os.Getenv("SOAK_SESSION_TIMEOUT"); v != "" {
		env = append(env, "SESSION_TIMEOUT="+v)
	}
	if profDir != "" {
		env = append(env, "PPROF=yes")
	}
	s := start(t, "", env...)
	s.source("web")
	saveHeap := func(name string) {
		if profDir == "" {
			return
		}
		resp, err := client.Get(s.URL + "/debug/pprof/heap?gc=1")
		if err != nil {
			t.Logf("heap profile: %v", err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if err := os.WriteFile(filepath.Join(profDir, name), b, 0o644); err != nil {
			t.Logf("heap profile: %v", err)
		}
	}
	pid := s.Cmd.Process.Pid
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mix := loadtest.DefaultMix("web", u.Host)

	// Warm-up: new visitors, whose answers give the profiles and sessions the mix returns to.
	const warmConns = 16
	pairs := make([][]loadtest.Pair, warmConns)
	warm, err := loadtest.WarmupPool(mix, 2048, 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&loadtest.Phase{Name: "warmup", Addr: u.Host, Requests: warm, Concurrency: warmConns,
		Duration: 10 * time.Minute, Limit: int64(profiles), InspectEvery: 1,
		Inspect: func(w int, _ *loadtest.Request, body []byte) {
			var a struct{ Profile, Session struct{ ID string } }
			if json.Unmarshal(body, &a) == nil && a.Profile.ID != "" && a.Session.ID != "" {
				pairs[w] = append(pairs[w], loadtest.Pair{Profile: a.Profile.ID, Session: a.Session.ID})
			}
		}}).Run(ctx)
	if err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	all := slices.Concat(pairs...)
	if len(all) < profiles*9/10 {
		t.Fatalf("warm-up made %d of %d profiles (statuses %v, errors %v)", len(all), profiles, res.Statuses, res.ErrorKinds)
	}
	pool, err := loadtest.BuildPool(mix, all, 50000)
	if err != nil {
		t.Fatal(err)
	}
	var offset int64
	rate, err := strconv.ParseFloat(os.Getenv("SOAK_RATE"), 64)
	if err != nil || rate <= 0 {
		sat, err := (&loadtest.Phase{Name: "saturation", Addr: u.Host, Requests: pool, Concurrency: 32,
			Duration: 15 * time.Second}).Run(ctx)
		if err != nil {
			t.Fatalf("saturation: %v", err)
		}
		offset += sat.Sent
		rate = sat.OKRPS / 2
		t.Logf("saturation: %.0f requests/s answered 200 (closed loop, 32 connections, statuses %v); the soak runs at half: %.0f/s", sat.OKRPS, sat.Statuses, rate)
		if rate < 10 {
			t.Fatalf("saturation of %.0f requests/s is too low to soak at", sat.OKRPS)
		}
	}

	type minute struct {
		n, bad, missed  int64
		p99             float64
		rssMB, heapMB   float64
		goroutines, fds int
	}
	var rows []minute
	for m := 1; m <= minutes; m++ {
		r, err := (&loadtest.Phase{Name: fmt.Sprintf("minute %d", m), Addr: u.Host, Requests: pool, Offset: offset,
			Concurrency: 64, Duration: time.Minute, Rate: rate}).Run(ctx)
		if err != nil {
			t.Fatalf("minute %d: %v", m, err)
		}
		offset += r.Sent
		row := minute{n: r.Sent, bad: r.Sent - r.OK, missed: r.Missed, p99: r.Latency.P99Ms,
			rssMB: procStatusMB(pid, "VmRSS:"), heapMB: soakMetric(t, s.URL, "go_memstats_heap_inuse_bytes") / (1 << 20),
			goroutines: goroutines(t, s.URL), fds: openFiles(pid)}
		rows = append(rows, row)
		switch m {
		case 2:
			saveHeap("heap-2.pb.gz")
		case minutes:
			saveHeap("heap-last.pb.gz")
		}
		t.Logf("minute %2d: %6d requests, %d not 200 (statuses %v, errors %v), %d not sent, p99 %.1f ms, RSS %.0f MB (Go heap in use %.1f MB), %d goroutines, %d open files, load %s",
			m, row.n, row.bad, r.Statuses, r.ErrorKinds, row.missed, row.p99, row.rssMB, row.heapMB, row.goroutines, row.fds, loadAvg())
	}
	first, last := rows[1], rows[len(rows)-1]
	for m, r := range rows {
		if r.bad > 0 || r.missed > 0 {
			t.Errorf("minute %d had %d answers other than 200 and %d requests the server fell behind on", m+1, r.bad, r.missed)
		}
	}
	if last.rssMB > 1.5*first.rssMB || last.goroutines > 2*first.goroutines+50 || last.fds > 2*first.fds+20 {
		t.Errorf("not flat: minute 2 %+v, last minute %+v", first, last)
	}
}

func procStatusMB(pid int, key string) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// loadAvg is the machine's 1-minute load average (/proc/loadavg), logged beside each
// minute because the figures depend on what else the machine runs.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func openFiles(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// goroutines reads go_goroutines from /metrics.
func goroutines(t *testing.T, base string) int {
	return int(soakMetric(t, base, "go_goroutines"))
}

// soakMetric reads one unlabelled value from /metrics (0 when absent).
func soakMetric(t *testing.T, base, name string) float64 {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Logf("metrics: %v", err)
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return n
		}
	}
	return 0
}
