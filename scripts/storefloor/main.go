// Command storefloor measures what the embedded store alone costs per /track request of a
// returning visitor, without HTTP or the pipeline: two reads by id (the visitor's session
// and profile) and, in group-committed batches, an upsert of both and the insert of one
// event, for visitors drawn uniformly from n stored profiles (the shape of `make bench`'s
// returning visitors with 100,000 profiles). It reports CPU-µs per request (getrusage:
// user + system), split into reads and writes.
//
// It is its own module so that the engines it compares (modernc.org/sqlite, which
// ThamesThrive uses; github.com/ncruces/go-sqlite3, SQLite compiled to WebAssembly;
// github.com/mattn/go-sqlite3, the C library through cgo; github.com/cockroachdb/pebble,
// an LSM key-value store) stay out of the product's go.mod. Pick one with a build tag:
//
//	go build -tags modernc -o /tmp/floor-modernc . && taskset -c 0 /tmp/floor-modernc -dir /tmp/floor
//
// run.sh builds and runs all four, alternating. docs/performance.md has the figures.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"syscall"
	"time"
)

const (
	profileDoc = `{"id":"%s","ids":["%s"],"metadata":{"time":{"insert":"2026-11-27T02:23:59.954707Z","create":"2026-11-27T02:23:59.954707Z","update":"2026-11-27T02:24:04.986029Z","visit":{"last":null,"current":"2026-11-27T02:23:59.954707Z","count":1}}},"stats":{"visits":1,"views":%d,"counters":{}},"traits":{},"data":{},"segments":[],"interests":{},"consents":{},"active":true,"aux":{}}`
	sessionDoc = `{"id":"%s","profile":{"id":"%s"},"metadata":{"time":{"insert":"2026-11-27T02:23:59.954707Z","timestamp":"2026-11-27T02:23:59.954707Z","duration":%d.031322},"status":"active"},"device":{"type":"desktop","ip":"127.0.0.1","resolution":"1920x1080"},"os":{"name":"Windows"},"app":{"type":"browser","name":"Firefox","version":"133.0","language":"en-GB","bot":false},"utm":{},"context":{"user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"},"properties":{}}`
)

// eventDoc has the size of a stored page-view event of the bench (~1.3 KB).
var eventDoc = strings.Repeat("x", 1250)

// engine is one store under test.
type engine interface {
	// load stores n profiles with a session and an event each.
	load(pids, sids []string, newID func() string) error
	// read reads session sid and profile pid.
	read(sid, pid string) error
	// write stores one batch: per visitor its profile, its session and a new event.
	write(visits []visit) error
	close() error
}

type visit struct{ pid, sid, eventID, profile, session string }

// engines is filled by the file of the engine chosen with a build tag.
var engines = map[string]func(dir, sync string) (engine, error){}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func uuid(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-7%03x-8%03x-%012x", r.Uint32(), r.Intn(1<<16), r.Intn(1<<12), r.Intn(1<<12), r.Int63n(1<<48))
}

func main() {
	n := flag.Int("n", 100000, "profiles (each with a session) stored before measuring")
	reqs := flag.Int("reqs", 25600, "requests measured")
	batch := flag.Int("batch", 64, "requests per group-committed batch")
	sync := flag.String("sync", "FULL", "SQLite synchronous setting (FULL, NORMAL, OFF); pebble syncs every batch")
	dir := flag.String("dir", "/tmp/storefloor", "data directory (reused between runs with the same -n)")
	flag.Parse()
	if len(engines) != 1 {
		fmt.Fprintln(os.Stderr, "storefloor: build with exactly one of the tags modernc, ncruces, mattn, pebble")
		os.Exit(2)
	}
	var name string
	var open func(dir, sync string) (engine, error)
	for name, open = range engines {
	}
	path := fmt.Sprintf("%s/%s-%d", *dir, name, *n)
	_, statErr := os.Stat(path)
	if err := os.MkdirAll(path, 0o755); err != nil {
		fail(err)
	}
	e, err := open(path, *sync)
	if err != nil {
		fail(err)
	}
	ids := rand.New(rand.NewSource(1)) // the same stored ids in every run
	pids, sids := make([]string, *n), make([]string, *n)
	for i := range pids {
		pids[i], sids[i] = uuid(ids), uuid(ids)
	}
	fresh := rand.New(rand.NewSource(time.Now().UnixNano())) // new event ids
	if statErr != nil {
		if err := e.load(pids, sids, func() string { return uuid(fresh) }); err != nil {
			fail(err)
		}
	}
	// One untimed pass of a tenth of the requests warms the caches after (re)opening.
	pick := rand.New(rand.NewSource(time.Now().UnixNano()))
	var readCPU, writeCPU time.Duration
	run := func(total int, measure bool) {
		for done := 0; done < total; done += *batch {
			vs := make([]visit, *batch)
			c0 := cpu()
			for j := range vs {
				i := pick.Intn(*n)
				if err := e.read(sids[i], pids[i]); err != nil {
					fail(err)
				}
				vs[j] = visit{pid: pids[i], sid: sids[i], eventID: uuid(fresh),
					profile: fmt.Sprintf(profileDoc, pids[i], pids[i], done), session: fmt.Sprintf(sessionDoc, sids[i], pids[i], done)}
			}
			c1 := cpu()
			if err := e.write(vs); err != nil {
				fail(err)
			}
			c2 := cpu()
			if measure {
				readCPU += c1 - c0
				writeCPU += c2 - c1
			}
		}
	}
	run(*reqs/10, false)
	run(*reqs, true)
	if err := e.close(); err != nil {
		fail(err)
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(*reqs) }
	fmt.Printf("%-8s n=%d batch=%d sync=%s: reads %.1f, writes %.1f, total %.1f CPU-µs per request\n",
		name, *n, *batch, *sync, per(readCPU), per(writeCPU), per(readCPU+writeCPU))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "storefloor:", err)
	os.Exit(1)
}
