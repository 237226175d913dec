package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/loadtest"
)

// clusterSnap is what `loadgen cluster snap` records at one moment of a BACKEND=elastic run:
// the CPU and memory of the serve, search and Redis processes (from /proc), the search
// cluster's own counters (_nodes/stats) and Redis's (INFO).
type clusterSnap struct {
	Time   time.Time                       `json:"time"`
	Procs  map[string]*loadtest.ProcSample `json:"procs"` // serve, search, redis
	PIDs   map[string]int                  `json:"pids"`
	Search map[string]float64              `json:"search,omitempty"` // summed over nodes
	Redis  map[string]float64              `json:"redis,omitempty"`
	// Serve is the store's own metrics from serve's /metrics: its group-committed writes
	// (one _bulk request each on this backend) and the Commit calls they carried.
	Serve map[string]float64 `json:"serve,omitempty"`
	Notes []string           `json:"notes,omitempty"`
}

// searchCounters are the _nodes/stats fields worth a per-request figure: what each /track
// request makes the cluster do.
var searchCounters = []struct{ key, path, label string }{
	{"index_total", "indices.indexing.index_total", "documents indexed"},
	{"index_ms", "indices.indexing.index_time_in_millis", "indexing time, ms"},
	{"delete_total", "indices.indexing.delete_total", "documents deleted"},
	{"get_total", "indices.get.total", "real-time GETs (get and _mget items)"},
	{"query_total", "indices.search.query_total", "search queries (shard-level)"},
	{"refresh_total", "indices.refresh.total", "refreshes"},
	{"flush_total", "indices.flush.total", "flushes"},
	{"merge_total", "indices.merges.total", "merges"},
	{"bulk_ops", "indices.bulk.total_operations", "bulk shard operations"},
	{"translog_ops", "indices.translog.operations", "translog operations (now)"},
	{"store_bytes", "indices.store.size_in_bytes", "bytes on disk (now)"},
	{"http_opened", "http.total_opened", "HTTP connections opened"},
}

var redisCounters = []struct{ key, label string }{
	{"total_commands_processed", "Redis commands"},
	{"total_net_input_bytes", "Redis bytes in"},
	{"total_net_output_bytes", "Redis bytes out"},
	{"total_connections_received", "Redis connections opened"},
}

func cmdCluster(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: loadgen cluster snap|report [flags]")
	}
	switch args[0] {
	case "snap":
		return clusterSnapCmd(args[1:])
	case "report":
		return clusterReportCmd(args[1:])
	}
	return fmt.Errorf("cluster %q: want snap or report", args[0])
}

// servicePID reads $state/<name>/pid for the first of names that has one.
func servicePID(state string, names ...string) (int, string) {
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(state, n, "pid"))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			return pid, n
		}
	}
	return 0, ""
}

func clusterSnapCmd(args []string) error {
	fs := flag.NewFlagSet("cluster snap", flag.ExitOnError)
	servePID := fs.Int("serve-pid", 0, "the serve process")
	state := fs.String("state", os.Getenv("SERVICES_STATE_DIR"), "scripts/services state directory (holds <service>/pid)")
	elastic := fs.String("elastic", os.Getenv("ELASTIC_HOST"), "search cluster URL")
	redisAddr := fs.String("redis", "", "Redis host:port")
	serveURL := fs.String("serve-url", "", "serve's base URL, for the store's own metrics on /metrics")
	out := fs.String("out", "-", "where to write the snapshot")
	fs.Parse(args)

	s := clusterSnap{Time: time.Now(), Procs: map[string]*loadtest.ProcSample{}, PIDs: map[string]int{}}
	pids := map[string]int{"serve": *servePID}
	if *state != "" {
		pids["search"], _ = servicePID(*state, "opensearch", "opensearch2", "opensearch3", "elasticsearch", "elasticsearch8", "elasticsearch9")
		pids["redis"], _ = servicePID(*state, "redis")
	}
	for name, pid := range pids {
		if pid <= 0 {
			s.Notes = append(s.Notes, name+": no pid (set SERVICES_STATE_DIR to the state directory of make services-up)")
			continue
		}
		ps, err := loadtest.ReadProc(pid)
		if err != nil {
			s.Notes = append(s.Notes, fmt.Sprintf("%s (pid %d): %v", name, pid, err))
			continue
		}
		s.Procs[name], s.PIDs[name] = &ps, pid
	}
	if *elastic != "" {
		if m, err := nodesStats(*elastic); err == nil {
			s.Search = m
		} else {
			s.Notes = append(s.Notes, "_nodes/stats: "+err.Error())
		}
	}
	if *redisAddr != "" {
		if m, err := redisInfo(*redisAddr); err == nil {
			s.Redis = m
		} else {
			s.Notes = append(s.Notes, "redis INFO: "+err.Error())
		}
	}
	if *serveURL != "" {
		s.Serve = map[string]float64{}
		for _, m := range []string{"thamesthrive_store_write_batch_size_sum", "thamesthrive_store_write_batch_size_count", "thamesthrive_events_stored_total"} {
			if v, ok := readCounter(*serveURL, m); ok {
				s.Serve[m] = v
			}
		}
	}
	return writeJSON(*out, s)
}

// nodesStats sums the searchCounters over the cluster's nodes.
func nodesStats(base string) (map[string]float64, error) {
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(strings.TrimRight(base, "/") + "/_nodes/stats/indices,http")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	var doc struct {
		Nodes map[string]map[string]any `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, n := range doc.Nodes {
		for _, c := range searchCounters {
			var cur any = map[string]any(n)
			for _, k := range strings.Split(c.path, ".") {
				m, _ := cur.(map[string]any)
				cur = m[k]
			}
			if f, ok := cur.(float64); ok {
				out[c.key] += f
			}
		}
	}
	return out, nil
}

// redisInfo sends INFO over RESP and keeps the numeric fields of redisCounters.
func redisInfo(addr string) (map[string]float64, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("*1\r\n$4\r\nINFO\r\n")); err != nil {
		return nil, err
	}
	br := bufio.NewReader(conn)
	head, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(head, "$") {
		return nil, fmt.Errorf("unexpected answer %q", strings.TrimSpace(head))
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[1:]))
	if err != nil {
		return nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		for _, c := range redisCounters {
			if c.key == k {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					out[k] = f
				}
			}
		}
	}
	return out, nil
}

func clusterReportCmd(args []string) error {
	fs := flag.NewFlagSet("cluster report", flag.ExitOnError)
	before := fs.String("before", "", "snapshot before the /track loops")
	after := fs.String("after", "", "snapshot after them")
	track := fs.String("track", "", "the run's result (run -out), for the number of requests")
	idle0 := fs.String("idle-before", "", "snapshot at the start of an idle stretch before the loops (optional)")
	idle1 := fs.String("idle-after", "", "snapshot at its end: the processes' idle CPU rate is then subtracted")
	clk := fs.Int("clk-tck", 100, "kernel clock ticks per second")
	out := fs.String("out", "", "also write the figures as JSON here")
	fs.Parse(args)
	var b, a clusterSnap
	var rf loadtest.RunFile
	for _, f := range []struct {
		p string
		v any
	}{{*before, &b}, {*after, &a}, {*track, &rf}} {
		if err := readJSON(f.p, f.v); err != nil {
			return err
		}
	}
	rep := clusterFigures(b, a, &rf, *clk)
	if *idle0 != "" && *idle1 != "" {
		var i0, i1 clusterSnap
		if readJSON(*idle0, &i0) == nil && readJSON(*idle1, &i1) == nil {
			rep.subtractIdle(i0, i1, *clk)
		}
	}
	fmt.Print(rep.markdown())
	if *out != "" {
		return writeJSON(*out, rep)
	}
	return nil
}

type clusterRow struct {
	What     string  `json:"what"`
	Total    float64 `json:"total"`
	PerReq   float64 `json:"per_request"`
	Absolute bool    `json:"absolute,omitempty"` // a level (bytes on disk), not a delta
}

type clusterReport struct {
	// IdleCPUPerReq is what each process spent per second while nothing was sent,
	// scaled to the window and divided by its requests; CPUPerReq is net of it when an
	// idle stretch was measured (IdleSubtracted).
	IdleCPUPerReq  map[string]float64 `json:"idle_cpu_us_per_request,omitempty"`
	IdleSubtracted bool               `json:"idle_subtracted,omitempty"`
	Requests       int64              `json:"requests"`
	Seconds        float64            `json:"seconds"`
	CPUPerReq      map[string]float64 `json:"cpu_us_per_request"` // serve, search, redis
	PeakRSSMiB     map[string]float64 `json:"peak_rss_mib"`
	Rows           []clusterRow       `json:"rows"`
	Notes          []string           `json:"notes,omitempty"`
}

// clusterFigures divides what the processes and the cluster did between two snapshots by the
// /track requests sent in that window (both loops).
func clusterFigures(b, a clusterSnap, rf *loadtest.RunFile, clk int) clusterReport {
	r := clusterReport{CPUPerReq: map[string]float64{}, PeakRSSMiB: map[string]float64{}}
	r.Notes = append(r.Notes, b.Notes...)
	for _, res := range []*loadtest.Result{rf.Closed, rf.Open} {
		if res != nil {
			r.Requests += res.Sent
		}
	}
	r.Seconds = a.Time.Sub(b.Time).Seconds()
	if r.Requests == 0 || clk <= 0 {
		r.Notes = append(r.Notes, "no requests in the window")
		return r
	}
	for _, name := range []string{"serve", "search", "redis"} {
		pb, pa := b.Procs[name], a.Procs[name]
		if pb == nil || pa == nil || b.PIDs[name] != a.PIDs[name] {
			continue
		}
		r.CPUPerReq[name] = float64(pa.CPUTicks-pb.CPUTicks) * 1e6 / float64(clk) / float64(r.Requests)
		r.PeakRSSMiB[name] = float64(pa.VmHWMKiB) / 1024
	}
	for _, c := range searchCounters {
		vb, okb := b.Search[c.key]
		va, oka := a.Search[c.key]
		if !okb || !oka {
			continue
		}
		if strings.HasSuffix(c.label, "(now)") {
			r.Rows = append(r.Rows, clusterRow{What: c.label, Total: va, PerReq: va / float64(r.Requests), Absolute: true})
			continue
		}
		r.Rows = append(r.Rows, clusterRow{What: c.label, Total: va - vb, PerReq: (va - vb) / float64(r.Requests)})
	}
	for _, c := range []struct{ key, label string }{
		{"thamesthrive_store_write_batch_size_count", "store writes (one _bulk each)"},
		{"thamesthrive_store_write_batch_size_sum", "Commit calls carried by them"},
	} {
		vb, okb := b.Serve[c.key]
		va, oka := a.Serve[c.key]
		if okb && oka {
			r.Rows = append(r.Rows, clusterRow{What: c.label, Total: va - vb, PerReq: (va - vb) / float64(r.Requests)})
		}
	}
	if n := a.Serve["thamesthrive_store_write_batch_size_count"] - b.Serve["thamesthrive_store_write_batch_size_count"]; n > 0 {
		sz := (a.Serve["thamesthrive_store_write_batch_size_sum"] - b.Serve["thamesthrive_store_write_batch_size_sum"]) / n
		r.Notes = append(r.Notes, fmt.Sprintf("mean bulk size: %.1f Commit calls per store write", sz))
	}
	for _, c := range redisCounters {
		vb, okb := b.Redis[c.key]
		va, oka := a.Redis[c.key]
		if okb && oka {
			r.Rows = append(r.Rows, clusterRow{What: c.label, Total: va - vb, PerReq: (va - vb) / float64(r.Requests)})
		}
	}
	return r
}

// subtractIdle takes off each process's idle CPU rate (between i0 and i1) over the window.
func (r *clusterReport) subtractIdle(i0, i1 clusterSnap, clk int) {
	secs := i1.Time.Sub(i0.Time).Seconds()
	if secs <= 0 || r.Requests == 0 {
		return
	}
	r.IdleCPUPerReq = map[string]float64{}
	for name, v := range r.CPUPerReq {
		p0, p1 := i0.Procs[name], i1.Procs[name]
		if p0 == nil || p1 == nil || i0.PIDs[name] != i1.PIDs[name] {
			continue
		}
		rate := float64(p1.CPUTicks-p0.CPUTicks) / float64(clk) / secs // CPU-s per s
		idle := rate * r.Seconds * 1e6 / float64(r.Requests)
		r.IdleCPUPerReq[name] = idle
		r.CPUPerReq[name] = max(0, v-idle)
	}
	r.IdleSubtracted = true
	r.Notes = append(r.Notes, fmt.Sprintf("CPU net of each process's idle rate, measured over %.1f s with no requests before the loops (the idle share per request is in the JSON)", secs))
}

func (r clusterReport) markdown() string {
	var sb strings.Builder
	w := func(f string, a ...any) { fmt.Fprintf(&sb, f, a...) }
	w("\n### The cluster's share of a /track request (both loops: %s requests in %.1f s)\n\n", thousandsI(r.Requests), r.Seconds)
	w("| process | CPU-µs per /track request | peak RSS, MB | target |\n|---|---:|---:|---|\n")
	targets := map[string]string{"serve": "≤ 250 µs, < 100 MB", "search": "search + Redis ≤ 1,000 µs", "redis": ""}
	sum := 0.0
	for _, name := range []string{"serve", "search", "redis"} {
		v, ok := r.CPUPerReq[name]
		if !ok {
			w("| %s | n/a | n/a | %s |\n", name, targets[name])
			continue
		}
		if name != "serve" {
			sum += v
		}
		w("| %s | %.1f | %.1f | %s |\n", name, v, r.PeakRSSMiB[name], targets[name])
	}
	_, okS := r.CPUPerReq["search"]
	_, okR := r.CPUPerReq["redis"]
	if okS && okR {
		w("| search + Redis | %.1f | | ≤ 1,000 µs: %s |\n", sum, passFail(sum <= 1000))
	}
	if len(r.Rows) > 0 {
		w("\n| cluster work | in the window | per /track request |\n|---|---:|---:|\n")
		for _, row := range r.Rows {
			if row.Absolute {
				w("| %s | %.0f | (%.1f per request sent) |\n", row.What, row.Total, row.PerReq)
			} else {
				w("| %s | %.0f | %.3f |\n", row.What, row.Total, row.PerReq)
			}
		}
	}
	for _, n := range r.Notes {
		w("\n- %s", n)
	}
	w("\n")
	return sb.String()
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func thousandsI(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
