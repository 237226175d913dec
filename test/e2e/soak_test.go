package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSoak drives /track at a fixed rate for SOAK_MINUTES minutes (skipped when unset;
// `make soak` runs 30, .ci/run 3) and reports per minute the server's RSS, goroutines,
// open files and p99 latency. They must stay flat: the last minute's RSS within 1.5x of
// the second minute's (the first is warm-up), goroutines and open files within 2x plus a
// margin, and no answer other than 200.
func TestSoak(t *testing.T) {
	minutes, _ := strconv.Atoi(os.Getenv("SOAK_MINUTES"))
	if minutes < 2 {
		t.Skip("set SOAK_MINUTES (at least 2) to run the soak: make soak")
	}
	rate := 200.0 // requests per second
	if r, err := strconv.ParseFloat(os.Getenv("SOAK_RATE"), 64); err == nil && r > 0 {
		rate = r
	}
	// SOAK_PROFILE_DIR: serve with PPROF=yes and keep heap profiles of minute 2 and of the
	// last minute there (compare: go tool pprof -base heap-2.pb.gz heap-last.pb.gz).
	profDir := os.Getenv("SOAK_PROFILE_DIR")
	var env []string
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

	type minute struct {
		n, bad, behind  int
		p99             time.Duration
		rssMB, heapMB   float64
		goroutines, fds int
	}
	var (
		mu   sync.Mutex
		lat  []time.Duration
		bad  int
		skip int // requests not sent: 64 were in flight already
		seq  atomic.Int64
		rows []minute
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64) // at most 64 requests in flight: an open loop with a bound
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			select {
			case sem <- struct{}{}:
			default:
				mu.Lock()
				skip++ // the server fell behind by 64 requests
				mu.Unlock()
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				n := seq.Add(1)
				body := fmt.Sprintf(`{"source":{"id":"web"},"profile":{"id":"soak-%d"},"session":{"id":"soak-s-%d"},"events":[{"type":"page-view","properties":{"n":%d}}]}`, n%5000, n%5000, n)
				t0 := time.Now()
				resp, err := client.Post(s.URL+"/track", "application/json", strings.NewReader(body))
				d := time.Since(t0)
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				lat = append(lat, d)
				if !ok {
					bad++
				}
				mu.Unlock()
			}()
		}
	}()
	for m := 1; m <= minutes; m++ {
		time.Sleep(time.Minute)
		mu.Lock()
		l, b, sk := lat, bad, skip
		lat, bad, skip = nil, 0, 0
		mu.Unlock()
		slices.Sort(l)
		row := minute{n: len(l), bad: b, behind: sk, rssMB: procStatusMB(pid, "VmRSS:"), heapMB: soakMetric(t, s.URL, "go_memstats_heap_inuse_bytes") / (1 << 20), goroutines: goroutines(t, s.URL), fds: openFiles(pid)}
		if len(l) > 0 {
			row.p99 = l[len(l)*99/100]
		}
		rows = append(rows, row)
		switch m {
		case 2:
			saveHeap("heap-2.pb.gz")
		case minutes:
			saveHeap("heap-last.pb.gz")
		}
		t.Logf("minute %2d: %6d requests, %d not 200, %d not sent (64 in flight), p99 %v, RSS %.0f MB (Go heap in use %.1f MB), %d goroutines, %d open files, load %s",
			m, row.n, row.bad, row.behind, row.p99.Round(time.Microsecond), row.rssMB, row.heapMB, row.goroutines, row.fds, loadAvg())
	}
	close(stop)
	wg.Wait()
	first, last := rows[1], rows[len(rows)-1]
	for _, r := range rows {
		if r.bad > 0 || r.behind > 0 {
			t.Errorf("a minute had %d answers other than 200 and %d requests the server fell behind on", r.bad, r.behind)
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
