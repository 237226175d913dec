package loadtest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// WarmupFile is what `loadgen warmup` writes.
type WarmupFile struct {
	Result         *Result `json:"result"`
	Profiles       int64   `json:"profiles"`       // pairs saved
	Answers        int64   `json:"answers"`        // 200 answers read
	BadAnswers     int64   `json:"bad_answers"`    // 200 answers without profile or session id
	AckMismatches  int64   `json:"ack_mismatches"` // 200 answers listing another number of events
	FirstBadAnswer string  `json:"first_bad_answer,omitempty"`
}

// RunFile is what `loadgen run` writes for one target (the server or the baseline).
type RunFile struct {
	Label      string  `json:"label"`
	URL        string  `json:"url"`
	Pool       int     `json:"pool"`
	Pairs      int     `json:"pairs"`
	Seed       uint64  `json:"seed"`
	Mix        string  `json:"mix,omitempty"` // uniform or sessions
	Closed     *Result `json:"closed"`
	Open       *Result `json:"open,omitempty"`
	PeakRSSKiB int64   `json:"peak_rss_kib,omitempty"`
	// The RSS at the end of the run, split into anonymous and file-backed pages.
	EndRSSAnonKiB       int64    `json:"end_rss_anon_kib,omitempty"`
	EndRSSFileKiB       int64    `json:"end_rss_file_kib,omitempty"`
	MetricsEventsStored *float64 `json:"metrics_events_stored,omitempty"`
	// InternalEventsStored counts the stored events the pipeline made itself (source
	// "internal"), which the metric above includes.
	InternalEventsStored *int64            `json:"internal_events_stored,omitempty"`
	Answers              int64             `json:"sampled_answers,omitempty"`
	BadAnswers           int64             `json:"bad_answers,omitempty"`
	AckMismatches        int64             `json:"ack_mismatches,omitempty"`
	FirstBadAnswer       string            `json:"first_bad_answer,omitempty"`
	SpotCheck            *SpotCheck        `json:"spot_check,omitempty"`
	Profiles             map[string]string `json:"profiles,omitempty"`
	Notes                []string          `json:"notes,omitempty"`
}

// SpotCheck counts the statuses of reading acknowledged events and profiles back.
type SpotCheck struct {
	Events       map[string]int `json:"events"`
	Profiles     map[string]int `json:"profiles"`
	FirstFailure string         `json:"first_failure,omitempty"`
}

// Report is the whole bench run, as written to bench-results/<time>.json.
type Report struct {
	Time     string        `json:"time"`
	Machine  Machine       `json:"machine"`
	Config   Config        `json:"config"`
	Warmup   *WarmupFile   `json:"warmup,omitempty"`
	Track    *RunFile      `json:"track,omitempty"`
	Baseline *RunFile      `json:"baseline,omitempty"`
	Stored   *StoredCounts `json:"stored,omitempty"` // rows counted in the database after the server stopped
	// Floor is what SQLite alone costs per request at the transaction sizes each loop
	// made the server commit (BenchmarkSQLiteFloor, run by `make bench` after the loops).
	Floor       *Floor     `json:"store_floor,omitempty"`
	Ratios      Ratios     `json:"ratios"`
	NothingLost Check      `json:"nothing_lost"`
	Targets     []Target   `json:"targets"`
	Server      ServerExit `json:"server_exit"`
}

// Floor is BenchmarkSQLiteFloor's CPU per request at the closed and the open loop's
// mean store batch sizes.
type Floor struct {
	Closed *FloorAt `json:"closed,omitempty"`
	Open   *FloorAt `json:"open,omitempty"`
}

// FloorAt is the floor at one batch size.
type FloorAt struct {
	Batch           int     `json:"batch"`
	CPUMicrosPerReq float64 `json:"cpu_us_per_request"`
}

// StoredCounts is what the database held after the server stopped (from `loadgen countdb`).
type StoredCounts struct {
	Events   int64  `json:"events"`
	Profiles *int64 `json:"profiles,omitempty"`
	Sessions *int64 `json:"sessions,omitempty"`
	// Profiles merged into another (tombstones), counted in Profiles.
	MergedProfiles *int64           `json:"merged_profiles,omitempty"`
	EventsByType   map[string]int64 `json:"events_by_type,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
}

// Config is how the run was set up.
type Config struct {
	Backend        string `json:"backend"`
	WarmupProfiles int64  `json:"warmup_profiles"`
	Duration       string `json:"duration"`
	Concurrency    int    `json:"concurrency"`
	Mix            string `json:"mix"`
	Pinning        string `json:"pinning"`
}

// Ratios compare the server with the baseline measured in the same run.
type Ratios struct {
	RPS           *float64 `json:"track_rps_to_baseline,omitempty"`             // closed loop, 200s per second
	CPUPerRequest *float64 `json:"track_cpu_per_request_to_baseline,omitempty"` // closed loop
	OpenCPU       *float64 `json:"open_cpu_per_request_to_baseline,omitempty"`
}

// Check is the nothing-lost check.
type Check struct {
	Status       string           `json:"status"` // PASS, FAIL or SKIP
	Acked        int64            `json:"events_acknowledged"`
	AckedByPhase map[string]int64 `json:"acknowledged_by_phase"`
	Stored       *int64           `json:"events_stored,omitempty"`
	StoredBy     string           `json:"stored_counted_by,omitempty"`
	// By event type, where the database could be read: what 200s acknowledged and what is there.
	AckedByType  map[string]int64 `json:"acknowledged_by_type,omitempty"`
	StoredByType map[string]int64 `json:"stored_by_type,omitempty"`
	Metrics      *float64         `json:"metrics_events_stored,omitempty"`
	Detail       string           `json:"detail"`
}

// Target is one of the goals and how this run did.
type Target struct {
	Name   string `json:"name"`
	Want   string `json:"want"`
	Got    string `json:"got"`
	Status string `json:"status"` // PASS, FAIL or "n/a"
}

// ServerExit is how the server stopped.
type ServerExit struct {
	Code        *int    `json:"code,omitempty"`
	StopSeconds float64 `json:"stop_seconds,omitempty"`
	Killed      bool    `json:"killed,omitempty"`
}

// Evaluate fills in the ratios, the nothing-lost check and the targets. embedded says the
// server ran on the embedded store, whose database Stored should then hold a count of.
func (r *Report) Evaluate(embedded bool) {
	r.Ratios = Ratios{}
	t, b := r.Track, r.Baseline
	if t != nil && b != nil && t.Closed != nil && b.Closed != nil {
		if b.Closed.OKRPS > 0 {
			v := round(t.Closed.OKRPS/b.Closed.OKRPS, 4)
			r.Ratios.RPS = &v
		}
		if t.Closed.Server != nil && b.Closed.Server != nil && b.Closed.Server.CPUMicrosPerReq > 0 {
			v := round(t.Closed.Server.CPUMicrosPerReq/b.Closed.Server.CPUMicrosPerReq, 3)
			r.Ratios.CPUPerRequest = &v
		}
		if t.Open != nil && b.Open != nil && t.Open.Server != nil && b.Open.Server != nil && b.Open.Server.CPUMicrosPerReq > 0 {
			v := round(t.Open.Server.CPUMicrosPerReq/b.Open.Server.CPUMicrosPerReq, 3)
			r.Ratios.OpenCPU = &v
		}
	}
	r.NothingLost = r.nothingLost(embedded)
	r.Targets = r.targets(embedded)
}

func (r *Report) nothingLost(embedded bool) Check {
	c := Check{AckedByPhase: map[string]int64{}}
	add := func(name string, res *Result) {
		if res != nil {
			c.AckedByPhase[name] = res.EventsAcked
			c.Acked += res.EventsAcked
		}
	}
	if r.Warmup != nil {
		add("warmup", r.Warmup.Result)
	}
	if r.Track != nil {
		add("closed", r.Track.Closed)
		add("open", r.Track.Open)
		c.Metrics = r.Track.MetricsEventsStored
	}
	if r.Stored != nil {
		n := r.Stored.Events
		c.Stored, c.StoredBy = &n, "database count after the server stopped"
		c.StoredByType = r.Stored.EventsByType
		c.AckedByType = r.ackedByType()
	} else if c.Metrics != nil && !embedded {
		n := int64(*c.Metrics)
		c.Stored, c.StoredBy = &n, "the server's thamesthrive_events_stored_total (its own count)"
		if in := r.Track.InternalEventsStored; in != nil {
			n -= *in
			c.StoredBy = fmt.Sprintf("the server's thamesthrive_events_stored_total less %d internal events counted through the search API", *in)
		}
	}
	var unknown int64
	for _, res := range []*Result{r.warmupResult(), r.trackClosed(), r.trackOpen()} {
		if res != nil {
			unknown += res.ErrorsAfterWrite
		}
	}
	switch {
	case c.Stored == nil && embedded:
		c.Status, c.Detail = "FAIL", "the stored events could not be counted"
	case c.Stored == nil:
		c.Status, c.Detail = "SKIP", "no way to count stored events on this backend"
	case *c.Stored == c.Acked:
		c.Status = "PASS"
		c.Detail = fmt.Sprintf("%s events acknowledged with 200, %s stored", thousands(c.Acked), thousands(*c.Stored))
	default:
		c.Status = "FAIL"
		word := "lost"
		if *c.Stored > c.Acked {
			word = "stored beyond what was acknowledged"
		}
		c.Detail = fmt.Sprintf("%s events acknowledged with 200, %s stored: %s %s",
			thousands(c.Acked), thousands(*c.Stored), thousands(absInt(*c.Stored-c.Acked)), word)
	}
	if c.Status == "FAIL" && c.StoredByType != nil {
		var parts []string
		for _, t := range sortedKeys(c.StoredByType, c.AckedByType) {
			if c.StoredByType[t] != c.AckedByType[t] {
				parts = append(parts, fmt.Sprintf("%s %s stored / %s acknowledged", t, thousands(c.StoredByType[t]), thousands(c.AckedByType[t])))
			}
		}
		if len(parts) > 0 {
			c.Detail += " (by type: " + strings.Join(parts, "; ") + ")"
		}
	}
	if unknown > 0 {
		c.Detail += fmt.Sprintf("; %s requests failed after being written (their outcome is unknown)", thousands(unknown))
	}
	return c
}

// ackedByType splits the acknowledged events by event type, as the mix sends them: warm-up
// requests, returning and new visitors send page-views, sign-ins one sign-in.
func (r *Report) ackedByType() map[string]int64 {
	out := map[string]int64{}
	if w := r.warmupResult(); w != nil {
		out["page-view"] += w.EventsAcked
	}
	for _, res := range []*Result{r.trackClosed(), r.trackOpen()} {
		if res == nil {
			continue
		}
		for kind, kr := range res.ByKind {
			if kind == SignIn.String() {
				out["sign-in"] += kr.OK
			} else {
				out["page-view"] += kr.OK
			}
		}
	}
	return out
}

func sortedKeys(maps ...map[string]int64) []string {
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

func (r *Report) warmupResult() *Result {
	if r.Warmup == nil {
		return nil
	}
	return r.Warmup.Result
}

func (r *Report) trackClosed() *Result {
	if r.Track == nil {
		return nil
	}
	return r.Track.Closed
}

func (r *Report) trackOpen() *Result {
	if r.Track == nil {
		return nil
	}
	return r.Track.Open
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func (r *Report) targets(embedded bool) []Target {
	var out []Target
	if embedded {
		// Issue 16: on the embedded store the CPU target is stated against what SQLite
		// alone costs at the same transaction sizes, plus three times the bare handler.
		loop := func(name string, t, b *Result, f *FloorAt) {
			if t == nil || b == nil || t.Server == nil || b.Server == nil {
				return
			}
			got := fmt.Sprintf("%.0f µs", t.Server.CPUMicrosPerReq)
			if f == nil {
				out = append(out, Target{"CPU µs per request, " + name, "≤ store floor + 3 × baseline", got + " (floor not measured)", "n/a"})
				return
			}
			limit := f.CPUMicrosPerReq + 3*b.Server.CPUMicrosPerReq
			want := fmt.Sprintf("≤ %.0f + 3 × %.0f = %.0f µs (floor at %d requests per transaction)",
				f.CPUMicrosPerReq, b.Server.CPUMicrosPerReq, limit, f.Batch)
			out = append(out, Target{"CPU µs per request, " + name, want, got, passFail(t.Server.CPUMicrosPerReq <= limit)})
		}
		var fc, fo *FloorAt
		if r.Floor != nil {
			fc, fo = r.Floor.Closed, r.Floor.Open
		}
		if r.Track != nil && r.Baseline != nil {
			loop("closed loop", r.Track.Closed, r.Baseline.Closed, fc)
			loop("open loop", r.Track.Open, r.Baseline.Open, fo)
		}
		if o := r.trackOpen(); o != nil {
			ok := o.Latency.P99Ms < 10 && o.Missed == 0
			got := fmt.Sprintf("%.2f ms", o.Latency.P99Ms)
			if o.Missed > 0 {
				got += fmt.Sprintf(" (%s scheduled requests never sent)", thousands(o.Missed))
			}
			out = append(out, Target{"p99 latency, open loop at half saturation", "< 10 ms", got, passFail(ok)})
		}
	} else if t := r.Track; t != nil && t.Closed != nil && t.Closed.Server != nil {
		// Issue 16 A: one serve replica of the production path.
		v := t.Closed.Server.CPUMicrosPerReq
		out = append(out, Target{"serve CPU µs per request (closed loop)", "≤ 250 µs", fmt.Sprintf("%.0f µs", v), passFail(v <= 250)})
	}
	if t := r.Track; t != nil && t.PeakRSSKiB > 0 {
		mb := float64(t.PeakRSSKiB) / 1024
		st := passFail(mb < 100)
		want := "< 100 MB"
		if embedded {
			want += " with 100,000 profiles"
			if r.Config.WarmupProfiles < 100000 {
				st = "n/a"
				want += fmt.Sprintf(" (this run: %s)", thousands(r.Config.WarmupProfiles))
			}
		}
		out = append(out, Target{"peak RSS of serve", want, fmt.Sprintf("%.1f MB", mb), st})
	}
	nl := r.NothingLost
	got := "unknown"
	if nl.Stored != nil {
		got = thousands(*nl.Stored) + " stored, " + thousands(nl.Acked) + " acknowledged"
	}
	st := nl.Status
	if st == "SKIP" {
		st = "n/a"
	}
	out = append(out, Target{"nothing lost, nothing doubled", "stored = acknowledged", got, st})
	return out
}

// Markdown renders the report for a terminal or a document.
func (r *Report) Markdown() string {
	var sb strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	w("## ThamesThrive /track benchmark, %s\n\n", r.Time)
	w("Machine: %d CPUs, %s, Linux %s, %s. %s.\n", r.Machine.CPUs, orDash(r.Machine.CPUModel), orDash(r.Machine.Kernel), r.Machine.GoVersion, r.Config.Pinning)
	w("Backend: %s; warm-up %s profiles; %s per loop; %d connections; mix %s.\n\n",
		r.Config.Backend, thousands(r.Config.WarmupProfiles), r.Config.Duration, r.Config.Concurrency, r.Config.Mix)

	t, b := r.Track, r.Baseline
	tc, bc := closedOf(t), closedOf(b)
	to, bo := openOf(t), openOf(b)
	w("| | /track | baseline | /track ÷ baseline |\n|---|---:|---:|---:|\n")
	row := func(name, tv, bv, ratio string) { w("| %s | %s | %s | %s |\n", name, tv, bv, ratio) }
	row("closed loop: requests/s answered 200", rps(tc), rps(bc), ratioPct(r.Ratios.RPS))
	row("closed loop: latency p50 / p90 / p99 / max, ms", lat(tc), lat(bc), "")
	row("closed loop: server CPU µs per request", cpuPerReq(tc), cpuPerReq(bc), ratioX(r.Ratios.CPUPerRequest))
	row("closed loop: server CPU busy", util(tc), util(bc), "")
	row("open loop: scheduled requests/s (½ of closed)", target(to), target(bo), "")
	row("open loop: requests/s answered 200", rps(to), rps(bo), "")
	row("open loop: latency p50 / p90 / p99 / max, ms", lat(to), lat(bo), "")
	row("open loop: server CPU µs per request", cpuPerReq(to), cpuPerReq(bo), ratioX(r.Ratios.OpenCPU))
	row("peak RSS, MB", rss(t), rss(b), "")
	if t != nil && t.EndRSSAnonKiB+t.EndRSSFileKiB > 0 {
		row("RSS at the end: anonymous / file-backed, MB", rssSplit(t), rssSplit(b), "")
	}
	row("other statuses / errors", failures(tc, to), failures(bc, bo), "")
	row("load generator CPU busy (closed / open)", genUtil(tc, to), genUtil(bc, bo), "")
	if others(tc, to) != "–" || others(bc, bo) != "–" {
		row("other processes on the server's CPU (closed / open)", others(tc, to), others(bc, bo), "")
	}
	w("\n")

	if r.Warmup != nil && r.Warmup.Result != nil {
		res := r.Warmup.Result
		w("Warm-up: %s profiles in %.1f s (%s requests/s, p99 %.2f ms", thousands(r.Warmup.Profiles), res.Seconds, thousands(int64(res.OKRPS)), res.Latency.P99Ms)
		if res.Server != nil {
			w(", server CPU %.0f µs per request", res.Server.CPUMicrosPerReq)
		}
		w(")")
		if f := failures(res, nil); f != "0 / 0" {
			w("; other statuses / errors: %s", f)
		}
		w(".\n")
	}
	if tc != nil && len(tc.ByKind) > 0 {
		w("By kind, /track closed loop:")
		for _, k := range []string{"returning", "new", "sign-in"} {
			if kr := tc.ByKind[k]; kr != nil {
				w(" %s %s requests, p50 %.2f / p99 %.2f ms, statuses %s", k, thousands(kr.Requests), kr.Latency.P50Ms, kr.Latency.P99Ms, statuses(kr.Statuses))
				if kr.Errors > 0 {
					w(", errors %s", thousands(kr.Errors))
				}
				w(";")
			}
		}
		w("\n")
	}
	if line := phasesLine(tc, to); line != "" {
		w("%s\n", line)
	}
	if r.Stored != nil {
		w("Stored after the server stopped: %s.\n", storedLine(r.Stored))
	}
	w("\n| target | want | got | |\n|---|---|---|---|\n")
	for _, tg := range r.Targets {
		w("| %s | %s | %s | %s |\n", tg.Name, tg.Want, tg.Got, tg.Status)
	}
	w("\n**Nothing lost: %s** — %s", r.NothingLost.Status, r.NothingLost.Detail)
	if len(r.NothingLost.AckedByPhase) > 0 {
		var parts []string
		for _, ph := range []string{"warmup", "closed", "open"} {
			if n, ok := r.NothingLost.AckedByPhase[ph]; ok {
				parts = append(parts, ph+" "+thousands(n))
			}
		}
		w(" (acknowledged: %s)", strings.Join(parts, " + "))
	}
	if m := r.NothingLost.Metrics; m != nil {
		w("; /metrics counter %s", thousands(int64(*m)))
	}
	w(".\n")

	var notes []string
	if c := r.Server.Code; c != nil && *c != 0 {
		notes = append(notes, fmt.Sprintf("the server exited with status %d on SIGTERM", *c))
	}
	if r.Server.Killed {
		notes = append(notes, "the server did not stop on SIGTERM and was killed")
	}
	if t != nil {
		if t.BadAnswers > 0 {
			notes = append(notes, fmt.Sprintf("%d sampled 200 answers lacked a profile or session id: %q", t.BadAnswers, t.FirstBadAnswer))
		}
		if t.AckMismatches > 0 {
			notes = append(notes, fmt.Sprintf("%d sampled 200 answers listed another number of event ids than the request sent", t.AckMismatches))
		}
		if sc := t.SpotCheck; sc != nil {
			notes = append(notes, fmt.Sprintf("read-back of acknowledged events %s, of their profiles %s%s", statusesInt(sc.Events), statusesInt(sc.Profiles), prefixed("; first failure: ", sc.FirstFailure)))
		}
		notes = append(notes, t.Notes...)
	}
	for _, res := range []*Result{tc, to} {
		if res == nil {
			continue
		}
		for _, k := range []string{"returning", "new", "sign-in"} {
			kr := res.ByKind[k]
			if kr == nil || kr.Requests == 0 || float64(kr.OK) >= 0.99*float64(kr.Requests) {
				continue
			}
			notes = append(notes, fmt.Sprintf("%s: only %s of %s %s requests were answered 200 (statuses %s, errors %s)",
				res.Name, thousands(kr.OK), thousands(kr.Requests), k, statuses(kr.Statuses), thousands(kr.Errors)))
		}
	}
	if r.Warmup != nil && (r.Warmup.BadAnswers > 0 || r.Warmup.AckMismatches > 0) {
		notes = append(notes, fmt.Sprintf("warm-up: %d answers without ids, %d with another number of event ids", r.Warmup.BadAnswers, r.Warmup.AckMismatches))
	}
	var srvOthers, genOthers []string
	for _, res := range []*Result{r.warmupResult(), tc, to, bc, bo} {
		if res == nil {
			continue
		}
		if res.Generator != nil && res.Generator.Utilization > 0.9 {
			notes = append(notes, fmt.Sprintf("%s: the load generator was %.0f%% busy, so it may have been the limit", res.Name, res.Generator.Utilization*100))
		}
		if c := res.ServerCPU; c != nil && c.Others > 0.1 {
			srvOthers = append(srvOthers, fmt.Sprintf("%s %.0f%%", res.Name, c.Others*100))
		}
		if c := res.GeneratorCPU; c != nil && c.Others > 0.1 {
			genOthers = append(genOthers, fmt.Sprintf("%s %.0f%%", res.Name, c.Others*100))
		}
	}
	for _, res := range []*Result{to, bo} {
		if res != nil && res.SendLag != nil && res.SendLag.P99Ms > 1 {
			notes = append(notes, fmt.Sprintf("%s: the generator itself sent late by up to %.2f ms at p99 (its latencies include that); %s requests waited for a free connection",
				res.Name, res.SendLag.P99Ms, thousands(res.Queued)))
		}
	}
	if len(srvOthers) > 0 {
		notes = append(notes, "the machine was shared, so the figures are disturbed: other processes took this much of the server's CPU: "+strings.Join(srvOthers, ", "))
	}
	if len(genOthers) > 0 {
		notes = append(notes, "other processes took this much of the load generator's CPU: "+strings.Join(genOthers, ", "))
	}
	if b != nil {
		notes = append(notes, b.Notes...)
	}
	if t != nil && len(t.Profiles) > 0 {
		var names []string
		for k := range t.Profiles {
			names = append(names, k)
		}
		slices.Sort(names)
		var files []string
		for _, k := range names {
			files = append(files, t.Profiles[k])
		}
		notes = append(notes, "profiles: "+strings.Join(files, ", "))
	}
	if len(notes) > 0 {
		w("\nNotes:\n")
		for _, n := range notes {
			w("- %s\n", n)
		}
	}
	return sb.String()
}

func closedOf(f *RunFile) *Result {
	if f == nil {
		return nil
	}
	return f.Closed
}

func openOf(f *RunFile) *Result {
	if f == nil {
		return nil
	}
	return f.Open
}

func rps(r *Result) string {
	if r == nil {
		return "–"
	}
	return thousands(int64(math.Round(r.OKRPS)))
}

func target(r *Result) string {
	if r == nil {
		return "–"
	}
	return thousands(int64(math.Round(r.TargetRate)))
}

func lat(r *Result) string {
	if r == nil || r.Latency.Count == 0 {
		return "–"
	}
	l := r.Latency
	return fmt.Sprintf("%s / %s / %s / %s", fmtMs(l.P50Ms), fmtMs(l.P90Ms), fmtMs(l.P99Ms), fmtMs(l.MaxMs))
}

func fmtMs(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func cpuPerReq(r *Result) string {
	if r == nil || r.Server == nil {
		return "–"
	}
	return strconv.FormatFloat(r.Server.CPUMicrosPerReq, 'f', 1, 64)
}

func util(r *Result) string {
	if r == nil || r.Server == nil {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", r.Server.Utilization*100)
}

func genUtil(c, o *Result) string {
	var parts []string
	for _, r := range []*Result{c, o} {
		if r != nil && r.Generator != nil {
			parts = append(parts, fmt.Sprintf("%.0f%%", r.Generator.Utilization*100))
		}
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, " / ")
}

func others(c, o *Result) string {
	var parts []string
	for _, r := range []*Result{c, o} {
		if r != nil && r.ServerCPU != nil {
			parts = append(parts, fmt.Sprintf("%.0f%%", r.ServerCPU.Others*100))
		}
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, " / ")
}

func rssSplit(f *RunFile) string {
	if f == nil || f.EndRSSAnonKiB+f.EndRSSFileKiB == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f / %.1f", float64(f.EndRSSAnonKiB)/1024, float64(f.EndRSSFileKiB)/1024)
}

func rss(f *RunFile) string {
	if f == nil || f.PeakRSSKiB == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(f.PeakRSSKiB)/1024, 'f', 1, 64)
}

func failures(rs ...*Result) string {
	var other, errs int64
	var detail []string
	for _, r := range rs {
		if r == nil {
			continue
		}
		other += r.Responses - r.OK
		errs += r.Errors + r.Missed
		for s, n := range r.Statuses {
			if s != "200" {
				detail = append(detail, s+"×"+thousands(n))
			}
		}
		for k, n := range r.ErrorKinds {
			detail = append(detail, k+"×"+thousands(n))
		}
		if r.Missed > 0 {
			detail = append(detail, "missed×"+thousands(r.Missed))
		}
	}
	s := thousands(other) + " / " + thousands(errs)
	if len(detail) > 0 {
		slices.Sort(detail)
		s += " (" + strings.Join(detail, ", ") + ")"
	}
	return s
}

func statuses(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"×"+thousands(m[k]))
	}
	return strings.Join(parts, " ")
}

func statusesInt(m map[string]int) string {
	c := map[string]int64{}
	for k, v := range m {
		c[k] = int64(v)
	}
	return statuses(c)
}

func storedLine(s *StoredCounts) string {
	parts := []string{thousands(s.Events) + " events"}
	if len(s.EventsByType) > 0 {
		var byType []string
		for _, t := range sortedKeys(s.EventsByType) {
			byType = append(byType, t+" "+thousands(s.EventsByType[t]))
		}
		parts[0] += " (" + strings.Join(byType, ", ") + ")"
	}
	if s.Profiles != nil {
		p := thousands(*s.Profiles) + " profiles"
		if s.MergedProfiles != nil {
			p += " (" + thousands(*s.MergedProfiles) + " of them merged into another)"
		}
		parts = append(parts, p)
	}
	if s.Sessions != nil {
		parts = append(parts, thousands(*s.Sessions)+" sessions")
	}
	return strings.Join(parts, ", ")
}

func ratioPct(v *float64) string {
	if v == nil {
		return "–"
	}
	return pct(*v)
}

func ratioX(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f×", *v)
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", v*100) }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func absInt(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// thousands formats n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(absInt(n), 10)
	var sb strings.Builder
	if n < 0 {
		sb.WriteByte('-')
	}
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(ch)
	}
	return sb.String()
}

// phasesLine says where the server's store writes waited in each loop (Result.StorePhases),
// or nothing when the server reported no phases.
func phasesLine(closed, open *Result) string {
	var parts []string
	for _, l := range []struct {
		name string
		res  *Result
	}{{"closed loop", closed}, {"open loop", open}} {
		if l.res == nil || len(l.res.StorePhases) == 0 {
			continue
		}
		var ph []string
		for _, name := range []string{"queued", "write", "answer"} {
			if p, ok := l.res.StorePhases[name]; ok {
				ge := ""
				if p.P99AtLeast {
					ge = "≥ "
				}
				ph = append(ph, fmt.Sprintf("%s %.2f / %s%.2f", name, p.MeanMs, ge, p.P99Ms))
			}
		}
		parts = append(parts, l.name+" "+strings.Join(ph, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Where a store write waited (thamesthrive_store_commit_phase_seconds), mean / p99 ms: " + strings.Join(parts, "; ") + "."
}
