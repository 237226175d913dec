package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/loadtest"
)

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	warmup := fs.String("warmup", "", "warm-up result (from warmup -out)")
	track := fs.String("track", "", "server result (from run -label track -out)")
	baseline := fs.String("baseline", "", "baseline result (from run -label baseline -out)")
	stored := fs.String("stored", "", "stored row counts (from countdb)")
	floor := fs.String("floor", "", "the store floor at the loops' batch sizes (JSON from scripts/bench.sh)")
	backend := fs.String("backend", "embedded", "embedded or elastic")
	warmupN := fs.Int64("warmup-n", 0, "profiles the warm-up was asked for")
	duration := fs.String("duration", "", "length of each loop, for the record")
	conc := fs.Int("c", 0, "connections, for the record")
	pinning := fs.String("pinning", "", "how processes were pinned, for the record")
	exitCode := fs.Int("server-exit", -1, "the server's exit status after SIGTERM (-1: unknown)")
	stopSecs := fs.Float64("server-stop-seconds", 0, "how long the server took to stop")
	killed := fs.Bool("server-killed", false, "the server had to be killed")
	out := fs.String("out", "", "write the JSON report here; profiles are copied beside it")
	fixtures := fs.String("fixtures", "", "the fixtures directory the run was set up with: checks that each left something in the database")
	mixName := fs.String("mix", "uniform", "the mix the run drove: uniform or sessions")
	fs.Parse(args)

	mix := "uniform: 80% returning page-view, 15% new visitor, 5% sign-in"
	if *mixName == "sessions" {
		mix = "sessions: returning visitors of Zipf-like popularity, 3–8 page views per session minutes apart (simulated clock in time.create), 10% of sessions sign in"
	}
	var exp []expectation
	if *fixtures != "" {
		var err error
		if exp, err = fixtureExpectations(*fixtures); err != nil {
			return err
		}
		mix += "; with the rules, flows and segments of " + *fixtures
	} else {
		mix += "; no rules, flows or segments"
	}

	r := &loadtest.Report{
		Time:    time.Now().UTC().Format(time.RFC3339),
		Machine: machine(),
		Config: loadtest.Config{Backend: *backend, WarmupProfiles: *warmupN, Duration: *duration,
			Concurrency: *conc, Mix: mix, Pinning: *pinning},
		Server: loadtest.ServerExit{StopSeconds: *stopSecs, Killed: *killed},
	}
	if *exitCode >= 0 {
		r.Server.Code = exitCode
	}
	var errs []string
	load := func(path string, v any) bool {
		if path == "" {
			return false
		}
		if err := readJSON(path, v); err != nil {
			errs = append(errs, err.Error())
			return false
		}
		return true
	}
	var wf loadtest.WarmupFile
	if load(*warmup, &wf) {
		r.Warmup = &wf
	}
	var tf, bf loadtest.RunFile
	if load(*track, &tf) {
		r.Track = &tf
	}
	if load(*baseline, &bf) {
		r.Baseline = &bf
	}
	// Events and EventsByType count the /track events only: the internal events the server
	// adds (segment-entered, segment-left) are counted apart, so that the nothing-lost check
	// stays exact with segments in place.
	var st *storedFile
	if sf := new(storedFile); load(*stored, sf) {
		st = sf
		r.Stored = &sf.StoredCounts
	}
	if f := new(loadtest.Floor); load(*floor, f) {
		r.Floor = f
	}
	notes, fixturesFailed := fixtureNotes(*fixtures, exp, st)
	if r.Track != nil {
		r.Track.Notes = append(r.Track.Notes, notes...)
	}
	if *out != "" && r.Track != nil {
		r.Track.Profiles = copyProfiles(r.Track.Profiles, strings.TrimSuffix(*out, ".json"))
	}
	r.Evaluate(*backend != "elastic")

	md := r.Markdown()
	if r.Track == nil && len(notes) > 0 {
		md += "\nNotes:\n- " + strings.Join(notes, "\n- ") + "\n"
	}
	if fixturesFailed {
		md += "\n**Fixtures: FAIL** — some fixture left nothing in the database (see the notes).\n"
	}
	if len(errs) > 0 {
		md += "\nMissing results:\n- " + strings.Join(errs, "\n- ") + "\n"
	}
	fmt.Print(md)
	if *out != "" {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return err
		}
		if err := writeJSON(*out, r); err != nil {
			return err
		}
		fmt.Printf("\nResults: %s\n", *out)
	}
	if r.NothingLost.Status == "FAIL" || fixturesFailed {
		return exitError(1)
	}
	return nil
}

// copyProfiles copies the profiles to <prefix>.<name>.pprof and returns the new paths.
func copyProfiles(files map[string]string, prefix string) map[string]string {
	out := map[string]string{}
	for name, src := range files {
		dst := prefix + "." + name + ".pprof"
		if err := copyFile(src, dst); err != nil {
			continue
		}
		out[name] = dst
	}
	return out
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	o, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(o, in); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}

func machine() loadtest.Machine {
	m := loadtest.Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = string(bytes.TrimSpace(b))
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
