package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/loadtest"
)

// target splits a base URL into the dial address and the Host header.
func target(base string) (addr, host string, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", "", err
	}
	if u.Scheme != "http" {
		return "", "", fmt.Errorf("%s: only http:// targets are supported", base)
	}
	addr = u.Host
	if u.Port() == "" {
		addr += ":80"
	}
	return addr, u.Host, nil
}

// trackAnswer is the part of a /track answer the harness reads.
type trackAnswer struct {
	Profile struct {
		ID string `json:"id"`
	} `json:"profile"`
	Session struct {
		ID string `json:"id"`
	} `json:"session"`
	Events []json.RawMessage `json:"events"`
}

func (a *trackAnswer) eventIDs() []string {
	var ids []string
	for _, e := range a.Events {
		var id string
		if json.Unmarshal(e, &id) == nil && id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// answers keeps, per worker, what the 200 answers said.
type answers struct {
	pairs    [][]loadtest.Pair
	events   [][]string
	bad      []int64 // undecodable answers or ones without ids
	mismatch []int64 // answers listing another number of events than the request sent
	seen     []int64
	firstBad [][]byte
	keep     int // pairs and event ids kept per worker
}

func newAnswers(workers, keep int) *answers {
	return &answers{pairs: make([][]loadtest.Pair, workers), events: make([][]string, workers),
		bad: make([]int64, workers), mismatch: make([]int64, workers), seen: make([]int64, workers),
		firstBad: make([][]byte, workers), keep: keep}
}

func (a *answers) inspect(w int, req *loadtest.Request, body []byte) {
	a.seen[w]++
	var ans trackAnswer
	if err := json.Unmarshal(body, &ans); err != nil || ans.Profile.ID == "" || ans.Session.ID == "" {
		a.bad[w]++
		if a.firstBad[w] == nil {
			a.firstBad[w] = append([]byte(nil), body[:min(len(body), 300)]...)
		}
		return
	}
	ids := ans.eventIDs()
	if len(ids) != req.Events {
		a.mismatch[w]++
	}
	if len(a.pairs[w]) < a.keep {
		a.pairs[w] = append(a.pairs[w], loadtest.Pair{Profile: ans.Profile.ID, Session: ans.Session.ID})
		if len(ids) > 0 {
			a.events[w] = append(a.events[w], ids[0])
		}
	}
}

func (a *answers) totals() (pairs []loadtest.Pair, events []string, seen, bad, mismatch int64, firstBad string) {
	for w := range a.pairs {
		pairs = append(pairs, a.pairs[w]...)
		events = append(events, a.events[w]...)
		seen += a.seen[w]
		bad += a.bad[w]
		mismatch += a.mismatch[w]
		if firstBad == "" && a.firstBad[w] != nil {
			firstBad = string(a.firstBad[w])
		}
	}
	return
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if path == "" || path == "-" {
		_, err = os.Stdout.Write(append(b, '\n'))
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func cmdWarmup(args []string) error {
	fs := flag.NewFlagSet("warmup", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8686", "server base URL")
	source := fs.String("source", "bench", "event source id")
	n := fs.Int64("n", 100000, "profiles to create")
	conc := fs.Int("c", 32, "connections")
	events := fs.Int("events", 1, "page-view events per warm-up request")
	pool := fs.Int("pool", 4096, "distinct precomputed warm-up requests")
	seed := fs.Uint64("seed", 1, "random seed of the request bodies")
	maxDur := fs.Duration("max-duration", 30*time.Minute, "give up after this long")
	pairsOut := fs.String("pairs-out", "pairs.tsv", "where to save the profile and session ids")
	out := fs.String("out", "-", "result JSON file (- for stdout)")
	pid := fs.Int("pid", 0, "server process id, for its CPU and memory accounting")
	clk := fs.Int("clk-tck", 100, "kernel clock ticks per second (getconf CLK_TCK)")
	serverCPU, loadgenCPU := cpuFlags(fs)
	engine := engineFlag(fs)
	fs.Parse(args)

	if *n < 1 {
		return errors.New("-n must be at least 1: returning visitors need warm profiles")
	}
	addr, host, err := target(*base)
	if err != nil {
		return err
	}
	mix := loadtest.DefaultMix(*source, host)
	mix.Seed = *seed
	reqs, err := loadtest.WarmupPool(mix, *pool, *events)
	if err != nil {
		return err
	}
	ans := newAnswers(*conc, int(*n)) // keep every pair
	ph := loadtest.Phase{Name: "warmup", Addr: addr, Requests: reqs, Concurrency: *conc, Duration: *maxDur,
		Limit: *n, Inspect: ans.inspect, InspectEvery: 1, ServerPID: *pid, ClkTck: *clk,
		Pinned: pinned(*serverCPU, *loadgenCPU), Engine: *engine}
	ctx, stop := signalContext()
	defer stop()
	res, err := ph.Run(ctx)
	if res == nil {
		return err
	}
	pairs, _, seen, bad, mismatch, firstBad := ans.totals()
	if werr := writePairs(*pairsOut, pairs); werr != nil {
		return werr
	}
	wf := loadtest.WarmupFile{Result: res, Profiles: int64(len(pairs)), Answers: seen, BadAnswers: bad,
		AckMismatches: mismatch, FirstBadAnswer: firstBad}
	if werr := writeJSON(*out, wf); werr != nil {
		return werr
	}
	fmt.Fprintf(os.Stderr, "warm-up: %d profiles in %.1fs (%.0f req/s), statuses %v, errors %d\n",
		len(pairs), res.Seconds, res.RPS, res.Statuses, res.Errors)
	if err != nil {
		return err
	}
	if int64(len(pairs)) < *n {
		return fmt.Errorf("warm-up created %d of %d profiles (statuses %v, errors %v, undecodable answers %d: %q)",
			len(pairs), *n, res.Statuses, res.ErrorKinds, bad, firstBad)
	}
	return nil
}

func engineFlag(fs *flag.FlagSet) *string {
	return fs.String("engine", "", "eventloop (Linux, the default there) or goroutines")
}

func cpuFlags(fs *flag.FlagSet) (server, loadgen *int) {
	server = fs.Int("server-cpu", -1, "CPU the target is pinned to, to see what else ran on it (-1: not pinned)")
	loadgen = fs.Int("loadgen-cpu", -1, "CPU this generator is pinned to (-1: not pinned)")
	return
}

func pinned(server, loadgen int) *loadtest.CPUWatch {
	if server < 0 || loadgen < 0 {
		return nil
	}
	return &loadtest.CPUWatch{Server: server, Generator: loadgen}
}

func writePairs(path string, pairs []loadtest.Pair) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := loadtest.WritePairs(f, pairs); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cmdRun(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	label := fs.String("label", "track", "what is driven: track (the server) or baseline")
	base := fs.String("url", "http://127.0.0.1:8686", "target base URL")
	source := fs.String("source", "bench", "event source id")
	pairsFile := fs.String("pairs", "", "warm-up pairs file (from warmup)")
	synthetic := fs.Int("synthetic-pairs", 0, "without -pairs: make up this many ids (for trying the harness against the baseline)")
	dur := fs.Duration("duration", 20*time.Second, "length of each loop")
	conc := fs.Int("c", 32, "connections of the closed loop")
	openConc := fs.Int("open-c", 0, "connections of the open loop (default: as -c)")
	paceTick := fs.Duration("pace-tick", 0, "open loop of the goroutine engine: how often the pacer wakes (default: half the interval between requests, within 50µs..1ms)")
	openRate := fs.Float64("open-rate", 0, "open-loop requests per second (default: half the closed loop's 200s per second)")
	poolSize := fs.Int("pool", 50000, "distinct precomputed requests")
	seed := fs.Uint64("seed", 1, "random seed of the mix")
	mixName := fs.String("mix", "uniform", "uniform (80% returning page-views, 15% new visitors, 5% sign-ins, visitors drawn uniformly) or sessions (3–8 page views per session minutes apart on a simulated clock, Zipf popularity, 10% of sessions sign in)")
	pid := fs.Int("pid", 0, "target process id, for its CPU and memory accounting")
	clk := fs.Int("clk-tck", 100, "kernel clock ticks per second (getconf CLK_TCK)")
	pprofDir := fs.String("pprof-dir", "", "fetch CPU and allocation profiles during the closed loop into this directory")
	tokenFile := fs.String("token-file", "", "access token file (from setup), for the spot check")
	spot := fs.Int("spot-check", 100, "after the loops, read back this many acknowledged events and profiles")
	out := fs.String("out", "-", "result JSON file (- for stdout)")
	serverCPU, loadgenCPU := cpuFlags(fs)
	engine := engineFlag(fs)
	selfProfile := fs.String("self-cpuprofile", "", "write the generator's own CPU profile here")
	fs.Parse(args)

	if *selfProfile != "" {
		f, err := os.Create(*selfProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	addr, host, err := target(*base)
	if err != nil {
		return err
	}
	var pairs []loadtest.Pair
	switch {
	case *pairsFile != "":
		if pairs, err = loadtest.ReadPairsFile(*pairsFile); err != nil {
			return err
		}
	case *synthetic > 0:
		for i := range *synthetic {
			pairs = append(pairs, loadtest.Pair{Profile: fmt.Sprintf("bench-p-%d", i), Session: fmt.Sprintf("bench-s-%d", i)})
		}
	default:
		return errors.New("give -pairs or -synthetic-pairs")
	}
	mix := loadtest.DefaultMix(*source, host)
	mix.Seed = *seed
	var reqs []loadtest.Request
	var notes []string
	switch *mixName {
	case "uniform":
		reqs, err = loadtest.BuildPool(mix, pairs, *poolSize)
	case "sessions":
		var st loadtest.SessionStats
		reqs, st, err = loadtest.BuildSessionPool(mix, loadtest.DefaultSessionShape(time.Now()), pairs, *poolSize)
		if *label != "baseline" {
			notes = append(notes, fmt.Sprintf("session mix: %d requests in %d sessions of %d visitors (%.1f%% of sessions from the top 1%% of visitors), %d sign-ins, %d sessions with a new session id",
				len(reqs), st.Sessions, st.Visitors, 100*st.TopShare, st.SignIns, st.NewSessionIDs))
		}
	default:
		return fmt.Errorf("-mix %q: want uniform or sessions", *mixName)
	}
	if err != nil {
		return err
	}
	if *openConc <= 0 {
		*openConc = *conc
	}
	rf := &loadtest.RunFile{Label: *label, URL: *base, Pool: len(reqs), Pairs: len(pairs), Seed: *seed, Mix: *mixName, Notes: notes}
	ctx, stop := signalContext()
	defer stop()

	// Only the server's answers are worth reading; the baseline's are a constant.
	var ans *answers
	inspectEvery := 0
	if *label != "baseline" {
		ans = newAnswers(max(*conc, *openConc), 8)
		inspectEvery = 61
	}
	var inspect func(int, *loadtest.Request, []byte)
	if ans != nil {
		inspect = ans.inspect
	}

	closed := loadtest.Phase{Name: *label + "-closed", Addr: addr, Requests: reqs, Concurrency: *conc,
		Duration: *dur, Inspect: inspect, InspectEvery: inspectEvery, ServerPID: *pid, ClkTck: *clk,
		Pinned: pinned(*serverCPU, *loadgenCPU), Engine: *engine}
	var prof profiles
	var wg sync.WaitGroup
	if *pprofDir != "" {
		wg.Go(func() { prof = captureProfiles(ctx, *base, *pprofDir, *dur) })
	}
	batch := storeBatch(*base, *label != "baseline")
	phases := storePhases(*base, *label != "baseline")
	rc, err := closed.Run(ctx)
	wg.Wait()
	if rc == nil {
		return err
	}
	rc.StoreBatch = batch()
	rc.StorePhases = phases()
	rf.Closed = rc
	rf.Notes = append(rf.Notes, prof.notes...)
	rf.Profiles = prof.files
	fmt.Fprintf(os.Stderr, "%s closed loop: %.0f req/s (200s %.0f/s), p99 %.2f ms, statuses %v, errors %d\n",
		*label, rc.RPS, rc.OKRPS, rc.Latency.P99Ms, rc.Statuses, rc.Errors)
	if err != nil {
		return err
	}

	rate := *openRate
	if rate <= 0 {
		rate = rc.OKRPS / 2
	}
	if rate >= 1 {
		open := closed
		open.Name, open.Concurrency, open.Rate, open.PaceTick = *label+"-open", *openConc, rate, *paceTick
		open.Offset = rc.Sent // go on with fresh requests (new sign-ins, other profiles)
		batch := storeBatch(*base, *label != "baseline")
		phases := storePhases(*base, *label != "baseline")
		ro, err := open.Run(ctx)
		if ro == nil {
			return err
		}
		ro.StoreBatch = batch()
		ro.StorePhases = phases()
		rf.Open = ro
		fmt.Fprintf(os.Stderr, "%s open loop at %.0f/s: %.0f req/s, p99 %.2f ms, statuses %v, errors %d, missed %d\n",
			*label, rate, ro.RPS, ro.Latency.P99Ms, ro.Statuses, ro.Errors, ro.Missed)
		if err != nil {
			return err
		}
	} else {
		rf.Notes = append(rf.Notes, "open loop skipped: the closed loop had no 200s to take half of")
	}

	if *pid > 0 {
		if s, err := loadtest.ReadProc(*pid); err == nil {
			rf.PeakRSSKiB, rf.EndRSSAnonKiB, rf.EndRSSFileKiB = s.VmHWMKiB, s.RssAnonKiB, s.RssFileKiB
		}
	}
	if *label != "baseline" {
		if v, ok := readCounter(*base, "thamesthrive_events_stored_total"); ok {
			rf.MetricsEventsStored = &v
			// The counter includes the events the pipeline makes itself (segment-entered
			// and -left, source "internal"): count them apart so that the nothing-lost check
			// on a backend without a database file compares /track events only.
			if tok := readToken(*tokenFile); tok != "" {
				if n, err := countInternalEvents(*base, tok); err == nil {
					rf.InternalEventsStored = &n
				} else {
					rf.Notes = append(rf.Notes, "internal events not counted: "+err.Error())
				}
			}
		} else {
			rf.Notes = append(rf.Notes, "no thamesthrive_events_stored_total on /metrics")
		}
		if *pprofDir != "" && len(rf.Profiles) > 0 {
			if f, err := fetchProfile(ctx, *base+"/debug/pprof/heap?gc=1", filepath.Join(*pprofDir, "heap.pprof")); err == nil {
				rf.Profiles["heap"] = f
			}
		}
		_, events, seen, bad, mismatch, firstBad := ans.totals()
		rf.Answers, rf.BadAnswers, rf.AckMismatches, rf.FirstBadAnswer = seen, bad, mismatch, firstBad
		if tok := readToken(*tokenFile); tok != "" && *spot > 0 {
			sampled, _, _, _, _, _ := ans.totals()
			rf.SpotCheck = spotCheck(*base, tok, sampled, events, *spot)
		}
	}
	return writeJSON(*out, rf)
}

// spotCheck reads back acknowledged events and their profiles through the API.
func spotCheck(base, token string, pairs []loadtest.Pair, events []string, n int) *loadtest.SpotCheck {
	sc := &loadtest.SpotCheck{Events: map[string]int{}, Profiles: map[string]int{}}
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := apiClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return resp.StatusCode, string(b)
	}
	for i := 0; i < len(events) && i < n; i++ {
		st, body := get("/api/v1/events/" + url.PathEscape(events[i]))
		sc.Events[fmt.Sprint(st)]++
		if st != 200 && sc.FirstFailure == "" {
			sc.FirstFailure = fmt.Sprintf("GET /api/v1/events/%s: %d %s", events[i], st, body)
		}
	}
	for i := 0; i < len(pairs) && i < n; i++ {
		st, body := get("/api/v1/profiles/" + url.PathEscape(pairs[i].Profile))
		sc.Profiles[fmt.Sprint(st)]++
		if st != 200 && sc.FirstFailure == "" {
			sc.FirstFailure = fmt.Sprintf("GET /api/v1/profiles/%s: %d %s", pairs[i].Profile, st, body)
		}
	}
	return sc
}

type profiles struct {
	files map[string]string
	notes []string
}

// captureProfiles takes a CPU profile and an allocation (delta) profile over the middle of
// the closed loop, skipping its first second of ramp-up.
func captureProfiles(ctx context.Context, base, dir string, loop time.Duration) profiles {
	var p profiles
	resp, err := apiClient.Get(base + "/debug/pprof/")
	if err != nil {
		p.notes = append(p.notes, "no profiles: "+err.Error())
		return p
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		p.notes = append(p.notes, fmt.Sprintf("no profiles: /debug/pprof/ answered %d (start the server with PPROF=yes)", resp.StatusCode))
		return p
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.notes = append(p.notes, "no profiles: "+err.Error())
		return p
	}
	secs := max(1, int(loop.Seconds())-2)
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return p
	}
	p.files = map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, path := range map[string]string{"cpu": "profile", "allocs": "allocs"} {
		wg.Go(func() {
			f, err := fetchProfile(ctx, fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", base, path, secs), filepath.Join(dir, name+".pprof"))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				p.notes = append(p.notes, name+" profile: "+err.Error())
				return
			}
			p.files[name] = f
		})
	}
	wg.Wait()
	return p
}

func fetchProfile(ctx context.Context, url, file string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return "", err
	}
	c := &http.Client{Timeout: 5 * time.Minute}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return "", err
	}
	return file, f.Close()
}

// storeBatch reads the server's store_write_batch_size histogram now and returns a
// function that, read again after a loop, answers the mean requests per store write
// in between (0 when the server has no such metric, or when on is false).
func storeBatch(base string, on bool) func() float64 {
	const name = "thamesthrive_store_write_batch_size"
	if !on {
		return func() float64 { return 0 }
	}
	sum0, ok1 := readCounter(base, name+"_sum")
	n0, ok2 := readCounter(base, name+"_count")
	return func() float64 {
		sum1, ok3 := readCounter(base, name+"_sum")
		n1, ok4 := readCounter(base, name+"_count")
		if !ok1 || !ok2 || !ok3 || !ok4 || n1 <= n0 {
			return 0
		}
		return (sum1 - sum0) / (n1 - n0)
	}
}
