package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/app"
	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/loadtest"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// `loadgen scale` is `make bench-scale` (scripts/bench-scale.sh): it loads profiles,
// sessions and events straight through the store's batch write path (Store.Commit: one
// SQLite transaction per batch on the embedded store, _bulk on Elasticsearch/OpenSearch),
// not through /track, then measures what a shop with that much data does: look-ups,
// searches, reports, erasure, a segment re-evaluation and serve's start-up.

// scaleSpec is the data set. Profile i has id "p<i>", e-mail "user<i>@example.com" (the
// default merge key), traits.tier (gold 5%, silver 20%, bronze the rest), one session, and
// about events/profiles events; profile "p0" gets exactly eraseEvents of them, for the
// erasure measurement. Events are inserted over the last `days` days.
type scaleSpec struct {
	Profiles, Events int64
	Days             int
	EraseEvents      int
	Batch            int // profiles per Commit (and their events)
	EventsPerCommit  int // events per Commit at most
	Workers          int
	Seed             uint64
	Now              time.Time
}

func (s scaleSpec) eventsOf(i int64) int {
	if i == 0 {
		return s.EraseEvents
	}
	rest := s.Events - int64(s.EraseEvents)
	per := rest / max(1, s.Profiles-1)
	extra := rest % max(1, s.Profiles-1)
	if i-1 < extra {
		return int(per) + 1
	}
	return int(per)
}

func (s scaleSpec) tier(i int64) string {
	switch {
	case i%20 == 7:
		return "gold"
	case i%5 == 1:
		return "silver"
	}
	return "bronze"
}

var scaleTypes = []string{"page-view", "page-view", "page-view", "page-view", "product-view", "add-to-basket", "sign-in", "purchase"}

// batchFor builds the documents of profiles [from, to).
func (s scaleSpec) batchFor(from, to int64) *storage.Batch {
	b := &storage.Batch{}
	span := time.Duration(s.Days) * 24 * time.Hour
	for i := from; i < to; i++ {
		rng := rand.New(rand.NewPCG(s.Seed, uint64(i)))
		created := s.Now.Add(-time.Duration(rng.Int64N(int64(span))))
		ct := domain.NewTime(created)
		id := fmt.Sprintf("p%d", i)
		p := domain.NewProfile(id, ct)
		p.Data["contact"] = map[string]any{"email": map[string]any{"main": fmt.Sprintf("user%d@example.com", i)}}
		p.Traits["tier"] = s.tier(i)
		p.Traits["lifetime_value"] = float64(rng.IntN(5000))
		n := s.eventsOf(i)
		p.Stats.Views = int64(n)
		p.Stats.Counters["page-views"] = float64(n)
		p.Interests["running"] = float64(rng.IntN(5))
		sid := fmt.Sprintf("s%d", i)
		sess := &domain.Session{ID: sid, Profile: domain.Ref{ID: id}, Context: map[string]any{}, Properties: map[string]any{}}
		sess.Metadata.Time = domain.SessionTime{Insert: ct, Timestamp: ct}
		sess.Metadata.Status = domain.SessionEnded
		b.Profiles = append(b.Profiles, p)
		b.Sessions = append(b.Sessions, sess)
		for j := range n {
			at := created.Add(time.Duration(rng.Int64N(int64(s.Now.Sub(created)) + 1)))
			if j == 0 {
				at = created
			}
			t := domain.NewTime(at)
			e := &domain.Event{ID: fmt.Sprintf("e%d-%d", i, j), Type: scaleTypes[rng.IntN(len(scaleTypes))],
				Source: domain.Ref{ID: "bench"}, Session: domain.EventSession{ID: sid, Start: ct},
				Profile: domain.Ref{ID: id}, Properties: map[string]any{"price": float64(rng.IntN(200))},
				Traits: map[string]any{}, Context: map[string]any{}, Data: map[string]any{}}
			e.Metadata.Time = domain.EventTime{Insert: t, Create: t}
			e.Metadata.Status = "processed"
			e.Metadata.Channel = "web"
			e.Metadata.ProcessedBy = domain.ProcessedBy{Rules: []string{}, Flows: []string{}}
			e.Hit.URL = pages[rng.IntN(len(pages))]
			if at.After(p.Metadata.Time.Update.Time) {
				p.Metadata.Time.Update = t
				p.Metadata.Time.Visit.Current = t
			}
			b.Events = append(b.Events, e)
		}
	}
	return b
}

var pages = []string{"https://shop.example.com/", "https://shop.example.com/c/shoes", "https://shop.example.com/p/trail-runner-2", "https://shop.example.com/basket"}

// timing is a latency sample of one measured operation.
type timing struct {
	Name  string  `json:"name"`
	N     int     `json:"n"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Note  string  `json:"note,omitempty"`
}

func measure(name string, n int, fn func(i int) error) (timing, error) {
	ds := make([]float64, 0, n)
	start := time.Now()
	for i := range n {
		// a slow measure (a full scan at 10 million events) stops after a minute
		if i > 0 && time.Since(start) > time.Minute {
			break
		}
		t0 := time.Now()
		if err := fn(i); err != nil {
			return timing{Name: name}, fmt.Errorf("%s: %w", name, err)
		}
		ds = append(ds, float64(time.Since(t0).Microseconds())/1000)
	}
	slices.Sort(ds)
	q := func(p float64) float64 { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	return timing{Name: name, N: len(ds), P50Ms: q(0.5), P99Ms: q(0.99), Max: ds[len(ds)-1]}, nil
}

type scaleResult struct {
	Backend       string            `json:"backend"`
	Spec          scaleSpec         `json:"spec"`
	Loaded        bool              `json:"loaded"`
	LoadSeconds   float64           `json:"load_seconds,omitempty"`
	LoadCPUSecs   float64           `json:"load_cpu_seconds,omitempty"`
	Profiles      int64             `json:"profiles"`
	Events        int64             `json:"events"`
	DiskBytes     int64             `json:"disk_bytes"`
	IndexBytes    map[string]int64  `json:"index_bytes,omitempty"` // OpenSearch: per index
	Timings       []timing          `json:"timings"`
	Segment       *segmentRun       `json:"segment,omitempty"`
	StartupSecs   float64           `json:"startup_seconds,omitempty"`
	ServePeakMiB  float64           `json:"serve_peak_rss_mib,omitempty"`
	LoaderPeakMiB float64           `json:"loader_peak_rss_mib"`
	Erased        *storage.Erased   `json:"erased,omitempty"`
	Notes         []string          `json:"notes,omitempty"`
	Extra         map[string]string `json:"extra,omitempty"`
}

type segmentRun struct {
	// Profiles is the store's: the job re-evaluates the segment over all of them, reading
	// only Read (those that meet the condition or hold the segment), so the rate per CPU
	// is Profiles over the job's CPU.
	Profiles   int64   `json:"profiles"`
	Read       int64   `json:"read"`
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"` // serve's, and the worker's when one ran the job
	PerSecCPU  float64 `json:"profiles_per_cpu_second"`
	// WorkerCPUSeconds is the worker process's share of CPUSeconds: with REDIS_HOST (the
	// production topology) jobs run in `thamesthrive worker`, which the run starts.
	WorkerCPUSeconds float64 `json:"worker_cpu_seconds,omitempty"`
	JobStatus        string  `json:"job_status"`
	// SearchCPUSeconds is the search server's CPU over the job (BACKEND=elastic, when its
	// pid is found under SERVICES_STATE_DIR); PerSecAllCPU counts it with serve's.
	SearchCPUSeconds float64 `json:"search_cpu_seconds,omitempty"`
	PerSecAllCPU     float64 `json:"profiles_per_cpu_second_with_search,omitempty"`
	EnteredOnes      int64   `json:"entered"`
}

func cmdScale(args []string) error {
	fs := flag.NewFlagSet("scale", flag.ExitOnError)
	var sp scaleSpec
	fs.Int64Var(&sp.Profiles, "profiles", 1_000_000, "profiles to load")
	fs.Int64Var(&sp.Events, "events", 10_000_000, "events to load")
	fs.IntVar(&sp.Days, "days", 60, "events are spread over this many days up to now")
	fs.IntVar(&sp.EraseEvents, "erase-events", 1000, "events of the profile that is erased")
	fs.IntVar(&sp.Batch, "batch", 200, "profiles per Commit (with their sessions and events)")
	fs.IntVar(&sp.Workers, "workers", 4, "concurrent Commit calls")
	fs.IntVar(&sp.EventsPerCommit, "events-per-commit", 2000, "events per Commit at most (one _bulk request on OpenSearch)")
	fs.Uint64Var(&sp.Seed, "seed", 1, "random seed")
	skipLoad := fs.Bool("skip-load", false, "measure data loaded by an earlier run")
	bin := fs.String("bin", "", "thamesthrive binary: also measure serve's start-up and a segment re-evaluation")
	samples := fs.Int("samples", 200, "look-ups and searches per measurement")
	out := fs.String("out", "", "write the results as JSON here")
	clk := fs.Int("clk-tck", 100, "kernel clock ticks per second")
	fs.Parse(args)
	if sp.Profiles < 2 || sp.Events < int64(sp.EraseEvents) || sp.Batch < 1 || sp.Workers < 1 || sp.EventsPerCommit < 1 {
		return errors.New("need -profiles ≥ 2, -events ≥ -erase-events, -batch and -workers ≥ 1")
	}
	sp.Now = time.Now().UTC().Truncate(time.Second)

	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	res := &scaleResult{Backend: "embedded", Spec: sp}
	if len(cfg.ElasticHosts) > 0 {
		res.Backend = "elastic"
	}
	ctx, stop := signalContext()
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := app.OpenBulkStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	if !*skipLoad {
		if err := scaleLoad(ctx, store, sp, res, *clk); err != nil {
			store.Close()
			return err
		}
	}
	if err := scaleMeasure(ctx, store, sp, res, *samples); err != nil {
		store.Close()
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	if res.Backend == "embedded" {
		res.DiskBytes = dirBytes(cfg.DataDir)
	} else if by, err := indexBytes(cfg.ElasticHosts[0], cfg.ElasticIndexPrefix); err == nil {
		res.IndexBytes = by
		for _, v := range by {
			res.DiskBytes += v
		}
		res.Notes = append(res.Notes, "bytes on disk: the store size of this run's indices ("+cfg.ElasticIndexPrefix+"-*, primaries and replicas) from _stats/store")
	} else {
		res.Notes = append(res.Notes, "bytes on disk: "+err.Error())
	}
	if *bin != "" {
		if err := scaleServe(ctx, *bin, res, *clk); err != nil {
			res.Notes = append(res.Notes, "serve: "+err.Error())
		}
	}
	if s, err := loadtest.ReadProc(0); err == nil {
		res.LoaderPeakMiB = float64(s.VmHWMKiB) / 1024
	}
	fmt.Print(res.markdown())
	if *out != "" {
		return writeJSON(*out, res)
	}
	return nil
}

func scaleLoad(ctx context.Context, store storage.Store, sp scaleSpec, res *scaleResult, clk int) error {
	before, _ := loadtest.ReadProc(0)
	t0 := time.Now()
	var next atomic.Int64
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	lastLog := atomic.Int64{}
	var retries atomic.Int64
	for range sp.Workers {
		wg.Go(func() {
			for {
				from := next.Add(int64(sp.Batch)) - int64(sp.Batch)
				if from >= sp.Profiles || ctx.Err() != nil {
					return
				}
				to := min(from+int64(sp.Batch), sp.Profiles)
				b := sp.batchFor(from, to)
				// events in commits of at most EventsPerCommit, the profiles and sessions with
				// the first; a commit the store could not take is retried (upserts, and
				// inserts that skip stored ids, so a retry cannot double anything)
				k := sp.EventsPerCommit
				evs := b.Events
				b.Events = evs[:min(len(evs), k)]
				evs = evs[len(b.Events):]
				for {
					var err error
					for try := range 6 {
						if err = store.Commit(ctx, b); err == nil || !errors.Is(err, storage.ErrUnavailable) || ctx.Err() != nil {
							break
						}
						retries.Add(1)
						time.Sleep(time.Duration(1<<try) * time.Second)
					}
					if err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					if len(evs) == 0 {
						break
					}
					b = &storage.Batch{Events: evs[:min(len(evs), k)]}
					evs = evs[len(b.Events):]
				}
				d := done.Add(to - from)
				if s := int64(time.Since(t0).Seconds()); s/10 > lastLog.Load() {
					lastLog.Store(s / 10)
					fmt.Fprintf(os.Stderr, "scale: %d of %d profiles loaded after %ds\n", d, sp.Profiles, s)
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("loading: %w", firstErr)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	after, _ := loadtest.ReadProc(0)
	if n := retries.Load(); n > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("the store refused %d commits during the load (retried)", n))
	}
	res.Loaded = true
	res.LoadSeconds = time.Since(t0).Seconds()
	res.LoadCPUSecs = float64(after.CPUTicks-before.CPUTicks) / float64(clk)
	fmt.Fprintf(os.Stderr, "scale: loaded %d profiles and %d events in %.1fs\n", sp.Profiles, sp.Events, res.LoadSeconds)
	return nil
}

func scaleMeasure(ctx context.Context, store storage.Store, sp scaleSpec, res *scaleResult, samples int) error {
	var err error
	if res.Profiles, err = store.Profiles().Count(ctx); err != nil {
		return err
	}
	if res.Events, err = store.Events().Count(ctx); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(sp.Seed, 99))
	pick := func() int64 { return 1 + rng.Int64N(sp.Profiles-1) }
	add := func(t timing, err error) error {
		if err != nil {
			return err
		}
		res.Timings = append(res.Timings, t)
		return nil
	}
	if err := add(measure("look-up by merge key (data.contact.email.main)", samples, func(int) error {
		i := pick()
		ps, err := store.Profiles().FindByKey(ctx, "data.contact.email.main", fmt.Sprintf("user%d@example.com", i), 2)
		if err == nil && (len(ps) != 1 || ps[0].ID != fmt.Sprintf("p%d", i)) {
			err = fmt.Errorf("user%d@example.com found %d profiles", i, len(ps))
		}
		return err
	})); err != nil {
		return err
	}
	if err := add(measure("look-up by id", samples, func(int) error {
		_, err := store.Profiles().Get(ctx, fmt.Sprintf("p%d", pick()))
		return err
	})); err != nil {
		return err
	}
	// The searches as the API runs them: the first 20 and the total counted up to
	// 10,000 (httpapi's maxSearchWindow, "total_relation": "gte" beyond); then the exact
	// count of the same conditions ("exact_total": true, GET /api/v1/segments/{id}/count),
	// which is judged as a report.
	type q struct{ name, scope, cond string }
	searches := []q{
		{`traits.tier == "gold"`, "profile", `profile@traits.tier == "gold"`},
		{`traits.lifetime_value > 4900`, "profile", `profile@traits.lifetime_value > 4900`},
		{`metadata.time.insert in the last 24 h`, "event", `event@metadata.time.insert > now.offset("-1d")`},
	}
	const apiTotalLimit = 10000
	for _, exact := range []bool{false, true} {
		for _, s := range searches {
			expr, err := query.Parse(s.cond)
			if err != nil {
				return fmt.Errorf("%s: %w", s.cond, err)
			}
			n := max(3, samples/20)
			var total int64
			qq := storage.Query{Where: expr, Page: storage.Page{Limit: 20}, TotalLimit: apiTotalLimit}
			name := "profile search " + s.name + " (first 20, total counted to 10,000 as the API does)"
			if s.scope == "event" {
				name = "event range: " + s.name + " (first 20, total counted to 10,000 as the API does)"
			}
			if exact {
				qq = storage.Query{Where: expr}
				name = "exact count of " + s.scope + "s with " + s.name + ` (report: "exact_total", a segment's count)`
			}
			t, err := measure(name, n, func(int) error {
				var err error
				if s.scope == "profile" {
					_, total, err = store.Profiles().Search(ctx, qq)
				} else {
					_, total, err = store.Events().Search(ctx, qq)
				}
				return err
			})
			t.Note = fmt.Sprintf("%d match", total)
			if !exact && total > apiTotalLimit {
				t.Note = fmt.Sprintf("more than %d match", apiTotalLimit)
			}
			if err := add(t, err); err != nil {
				return err
			}
		}
	}
	from, to := sp.Now.Add(-30*24*time.Hour), sp.Now
	if err := add(measure("30-day events histogram (1 d buckets)", 5, func(int) error {
		_, err := store.Reports().EventHistogram(ctx, storage.Histogram{From: from, To: to, Interval: 24 * time.Hour})
		return err
	})); err != nil {
		return err
	}
	if err := add(measure("30-day events breakdown by type", 5, func(int) error {
		_, err := store.Reports().EventBreakdown(ctx, storage.Breakdown{From: from, To: to, Field: "type", Limit: 10})
		return err
	})); err != nil {
		return err
	}
	var erased storage.Erased
	t, err := measure(fmt.Sprintf("erasure of one profile with its %d events", sp.EraseEvents), 1, func(int) error {
		var err error
		erased, err = store.Erasure().Erase(ctx, []string{"p0"})
		return err
	})
	if err != nil {
		return err
	}
	if erased.Profiles == 0 {
		t.Note = "p0 was erased by an earlier run (-skip-load): nothing to erase"
	} else {
		t.Note = fmt.Sprintf("%d profile, %d sessions, %d events deleted", erased.Profiles, erased.Sessions, erased.Events)
	}
	res.Erased = &erased
	res.Timings = append(res.Timings, t)
	return nil
}

// indexBytes is the store size of each index named prefix-*.
func indexBytes(host, prefix string) (map[string]int64, error) {
	resp, err := apiClient.Get(strings.TrimRight(host, "/") + "/" + url.PathEscape(prefix) + "-*/_stats/store")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("_stats/store: status %d", resp.StatusCode)
	}
	var doc struct {
		Indices map[string]struct {
			Total struct {
				Store struct {
					Size int64 `json:"size_in_bytes"`
				} `json:"store"`
			} `json:"total"`
		} `json:"indices"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for name, ix := range doc.Indices {
		out[name] = ix.Total.Store.Size
	}
	return out, nil
}

// kindBytes sums index sizes whose name holds kind (events, profiles, sessions).
func kindBytes(by map[string]int64, kind string) (n int64, ok bool) {
	for name, v := range by {
		if strings.Contains(name, kind) {
			n, ok = n+v, true
		}
	}
	return
}

func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// scaleServe starts serve on the loaded data (with the environment of this process),
// times its start-up to the first 200 of /healthz, installs an admin, creates a segment on
// traits.tier and times the re-evaluation job over every profile, in serve's CPU.
func scaleServe(ctx context.Context, bin string, res *scaleResult, clk int) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	tok := fmt.Sprintf("scale-%d", time.Now().UnixNano())
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "HTTP_ADDR=127.0.0.1:"+fmt.Sprint(port), "INSTALLATION_TOKEN="+tok, "LOGGING_LEVEL=warn", "TRACK_RATE_LIMIT=0")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	t0 := time.Now()
	stop, err := startProcess(cmd)
	if err != nil {
		return err
	}
	defer stop()
	if err := waitHealthy(ctx, base, 5*time.Minute); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	res.StartupSecs = time.Since(t0).Seconds()
	pid := cmd.Process.Pid
	// With Redis (the production topology) serve runs no jobs: a worker process does.
	workerPID := 0
	if res.Backend == "elastic" && os.Getenv("REDIS_HOST") != "" {
		wp, stop, err := startScaleWorker(ctx, bin)
		if err != nil {
			return err
		}
		defer stop()
		workerPID = wp
	}
	if _, err := call("POST", base+"/api/v1/install", "", map[string]string{"username": "admin@example.com", "password": "bench-password-1", "token": tok}, nil, 200, 201, 409); err != nil {
		return fmt.Errorf("installing: %w", err)
	}
	var at struct {
		AccessToken string `json:"access_token"`
	}
	if _, err := call("POST", base+"/api/v1/auth/token", "", map[string]string{"username": "admin@example.com", "password": "bench-password-1"}, &at, 200, 201); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	before, _ := loadtest.ReadProc(pid)
	var wBefore loadtest.ProcSample
	if workerPID > 0 {
		wBefore, _ = loadtest.ReadProc(workerPID)
	}
	searchPID := 0
	if res.Backend == "elastic" {
		state := os.Getenv("SERVICES_STATE_DIR")
		if state == "" {
			state = filepath.Join(os.TempDir(), "thamesthrive-services")
		}
		searchPID, _ = servicePID(state, "opensearch", "opensearch2", "opensearch3", "elasticsearch", "elasticsearch8", "elasticsearch9")
	}
	var sBefore loadtest.ProcSample
	if searchPID > 0 {
		sBefore, _ = loadtest.ReadProc(searchPID)
	}
	s0 := time.Now()
	var seg struct {
		ID string `json:"id"`
	}
	// a name of its own per run: a -skip-load run finds the earlier runs' segments
	segBody := map[string]any{"name": fmt.Sprintf("Gold tier %d", time.Now().UnixNano()), "condition": `traits.tier == "gold"`, "enabled": true}
	if _, err := call("POST", base+"/api/v1/segments", at.AccessToken, segBody, &seg, 200, 201); err != nil {
		return fmt.Errorf("creating the segment: %w", err)
	}
	// the job the segment's creation started (its key is segment:<id>)
	var job jobItem
	for {
		var list struct {
			Items []jobItem `json:"items"`
		}
		if _, err := call("GET", base+"/api/v1/jobs?limit=1&key="+url.QueryEscape("segment:"+seg.ID), at.AccessToken, nil, &list, 200); err != nil {
			return fmt.Errorf("listing jobs: %w", err)
		}
		if len(list.Items) > 0 {
			job = list.Items[0]
			if job.Status != "queued" && job.Status != "running" {
				break
			}
		}
		if time.Since(s0) > 2*time.Hour || ctx.Err() != nil {
			return errors.New("the segment job did not finish within 2 hours")
		}
		time.Sleep(50 * time.Millisecond)
	}
	after, _ := loadtest.ReadProc(pid)
	sr := &segmentRun{Profiles: res.Profiles, Read: job.Done, Seconds: time.Since(s0).Seconds(), JobStatus: job.Status,
		CPUSeconds: float64(after.CPUTicks-before.CPUTicks) / float64(clk)}
	if workerPID > 0 {
		if wAfter, err := loadtest.ReadProc(workerPID); err == nil {
			sr.WorkerCPUSeconds = float64(wAfter.CPUTicks-wBefore.CPUTicks) / float64(clk)
			sr.CPUSeconds += sr.WorkerCPUSeconds
		}
	}
	for k, v := range job.Counters {
		if strings.Contains(k, "enter") {
			sr.EnteredOnes += v
		}
	}
	if sr.CPUSeconds > 0 {
		sr.PerSecCPU = float64(sr.Profiles) / sr.CPUSeconds
	}
	if searchPID > 0 {
		if sAfter, err := loadtest.ReadProc(searchPID); err == nil {
			sr.SearchCPUSeconds = float64(sAfter.CPUTicks-sBefore.CPUTicks) / float64(clk)
			if all := sr.CPUSeconds + sr.SearchCPUSeconds; all > 0 {
				sr.PerSecAllCPU = float64(sr.Profiles) / all
			}
		}
	}
	res.Segment = sr
	res.ServePeakMiB = float64(after.VmHWMKiB) / 1024
	return nil
}

// startScaleWorker starts `thamesthrive worker` with this process's environment (the
// same cluster and Redis) and waits for its /healthz; stop ends it.
func startScaleWorker(ctx context.Context, bin string) (pid int, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return 0, nil, err
	}
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(), "WORKER_HTTP_ADDR=127.0.0.1:"+fmt.Sprint(port), "LOGGING_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if stop, err = startProcess(cmd); err != nil {
		return 0, nil, fmt.Errorf("starting the worker: %w", err)
	}
	if err := waitHealthy(ctx, fmt.Sprintf("http://127.0.0.1:%d", port), 2*time.Minute); err != nil {
		stop()
		return 0, nil, fmt.Errorf("the worker: %w", err)
	}
	return cmd.Process.Pid, stop, nil
}

// startProcess starts cmd; stop interrupts it and waits for it to exit (killing it after
// a minute).
func startProcess(cmd *exec.Cmd) (stop func(), err error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}, nil
}

type jobItem struct {
	ID       string           `json:"id"`
	Kind     string           `json:"kind"`
	Status   string           `json:"status"`
	Total    int64            `json:"total"`
	Done     int64            `json:"done"`
	Counters map[string]int64 `json:"counters"`
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (r *scaleResult) markdown() string {
	var sb strings.Builder
	w := func(f string, a ...any) { fmt.Fprintf(&sb, f, a...) }
	w("\n## ThamesThrive bench-scale, %s backend, %s\n\n", r.Backend, r.Spec.Now.Format(time.RFC3339))
	w("Data: %s profiles, %s events (asked: %s / %s, over %d days; one profile with %d events for the erasure).\n",
		thousandsI(r.Profiles), thousandsI(r.Events), thousandsI(r.Spec.Profiles), thousandsI(r.Spec.Events), r.Spec.Days, r.Spec.EraseEvents)
	if r.Loaded {
		w("Loaded through Store.Commit (%d profiles per batch, %d concurrent) in %.1f s (%.0f events/s), loader CPU %.1f s.\n",
			r.Spec.Batch, r.Spec.Workers, r.LoadSeconds, float64(r.Spec.Events)/r.LoadSeconds, r.LoadCPUSecs)
	}
	w("\n| measure | got | target | |\n|---|---:|---|---|\n")
	if r.Events > 0 && r.Profiles > 0 && r.DiskBytes > 0 {
		w("| bytes on disk | %.1f MB | | |\n", float64(r.DiskBytes)/1e6)
		w("| bytes on disk per event (all bytes ÷ events) | %.0f | | |\n", float64(r.DiskBytes)/float64(r.Events))
		w("| bytes on disk per profile (all bytes ÷ profiles) | %.0f | | |\n", float64(r.DiskBytes)/float64(r.Profiles))
		if ev, ok := kindBytes(r.IndexBytes, "event"); ok {
			w("| bytes per event in the event indices | %.0f | | |\n", float64(ev)/float64(r.Events))
		}
		if pr, ok := kindBytes(r.IndexBytes, "profile"); ok {
			se, _ := kindBytes(r.IndexBytes, "session")
			w("| bytes per profile in the profile and session indices | %.0f | | |\n", float64(pr+se)/float64(r.Profiles))
		}
	}
	for _, t := range r.Timings {
		target, ok := "", true
		switch {
		case strings.HasPrefix(t.Name, "look-up"):
			target, ok = "< 50 ms", t.P99Ms < 50
		case strings.HasPrefix(t.Name, "profile search"), strings.HasPrefix(t.Name, "event range"):
			target, ok = "< 50 ms (indexed)", t.P99Ms < 50
		case strings.HasPrefix(t.Name, "30-day"), strings.HasPrefix(t.Name, "erasure"), strings.HasPrefix(t.Name, "exact count"):
			target, ok = "< 1 s", t.P99Ms < 1000
		}
		note := ""
		if t.Note != "" {
			note = " (" + t.Note + ")"
		}
		w("| %s%s: p50 / p99 / max, ms (%d runs) | %.2f / %.2f / %.2f | %s | %s |\n", t.Name, note, t.N, t.P50Ms, t.P99Ms, t.Max, target, passFail(ok))
	}
	if sg := r.Segment; sg != nil {
		who := "serve CPU"
		if sg.WorkerCPUSeconds > 0 {
			who = fmt.Sprintf("serve + worker CPU (worker %.1f s)", sg.WorkerCPUSeconds)
		}
		w("| segment re-evaluation (traits.tier == \"gold\"), job %s: %s profiles (%s read) in %.1f s, %s %.1f s | %.0f profiles/s per CPU | ≥ 20,000 | %s |\n",
			sg.JobStatus, thousandsI(sg.Profiles), thousandsI(sg.Read), sg.Seconds, who, sg.CPUSeconds, sg.PerSecCPU, passFail(sg.PerSecCPU >= 20000 && sg.JobStatus == "done"))
	}
	if sg := r.Segment; sg != nil && sg.SearchCPUSeconds > 0 {
		w("| the same job counting the search server's CPU too (%.1f s) | %.0f profiles/s per CPU | | |\n", sg.SearchCPUSeconds, sg.PerSecAllCPU)
	}
	if r.StartupSecs > 0 {
		w("| serve start-up on this data (exec to the first 200 of /healthz) | %.2f s | < 2 s | %s |\n", r.StartupSecs, passFail(r.StartupSecs < 2))
		w("| serve peak RSS (start-up, install, segment job) | %.1f MB | < 200 MB | %s |\n", r.ServePeakMiB*1.048576, passFail(r.ServePeakMiB*1.048576 < 200))
	}
	w("| loader peak RSS (this process: load and in-process measures) | %.1f MB | | |\n", r.LoaderPeakMiB*1.048576)
	for _, n := range r.Notes {
		w("\n- %s", n)
	}
	w("\n")
	return sb.String()
}
