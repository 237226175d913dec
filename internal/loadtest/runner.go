package loadtest

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Phase is one timed run of requests against one address.
type Phase struct {
	Name     string
	Addr     string    // host:port
	Requests []Request // cycled through in order
	// Offset is where in Requests the phase starts, so that a phase can go on where the one
	// before it stopped instead of repeating its requests.
	Offset      int64
	Concurrency int // connections, one worker each
	Duration    time.Duration
	// Rate > 0 makes an open loop: requests are scheduled at this many per second, whatever
	// the server's speed, and latency runs from the scheduled time (no coordinated omission).
	// Otherwise the loop is closed: each worker sends back to back.
	Rate float64
	// Limit > 0 stops a closed loop after this many 200 responses (Duration still caps it).
	Limit int64
	// Inspect, if set, sees the body of 200 responses: every one when InspectEvery is 1, every
	// n-th request of each worker for n > 1. It runs on the worker, so it must be cheap and
	// may only touch per-worker state.
	Inspect      func(worker int, req *Request, body []byte)
	InspectEvery int
	// PaceTick is how often the goroutine engine's pacer wakes to release what is due
	// (default: half the interval between requests, within 50µs..1ms). A longer tick costs
	// the generator less CPU and adds up to one tick to the measured latencies. The event
	// loop needs none: it sleeps until exactly the next request is due.
	PaceTick time.Duration
	// Drain is how long after the end of an open loop queued sends may still go out
	// (default 5s); what is still queued then counts as missed.
	Drain time.Duration
	// ServerPID, if set, is the process whose CPU and memory the phase accounts (ClkTck is
	// the kernel's clock ticks per second, from getconf CLK_TCK; default 100).
	ServerPID int
	ClkTck    int
	// Pinned, if set, names the CPUs the server and the generator are pinned to.
	Pinned *CPUWatch
	// Engine is "eventloop" (Linux: one thread, epoll, the cheapest per request) or
	// "goroutines" (a goroutine per connection, anywhere). Empty picks the event loop where
	// there is one.
	Engine string
}

// Result is what a phase measured.
type Result struct {
	Name        string  `json:"name"`
	Mode        string  `json:"mode"` // closed or open
	Engine      string  `json:"engine"`
	Concurrency int     `json:"concurrency"`
	TargetRate  float64 `json:"target_rate,omitempty"`
	Seconds     float64 `json:"seconds"`
	// Sent counts requests attempted, Responses those answered with a complete response.
	Sent      int64            `json:"sent"`
	Responses int64            `json:"responses"`
	OK        int64            `json:"ok"`
	Statuses  map[string]int64 `json:"statuses"`
	Errors    int64            `json:"errors"`
	// ErrorsAfterWrite are errors after the request was written in full: the server may have
	// stored what it never acknowledged.
	ErrorsAfterWrite int64                  `json:"errors_after_write"`
	ErrorKinds       map[string]int64       `json:"error_kinds,omitempty"`
	EventsAcked      int64                  `json:"events_acked"` // events in requests answered 200
	RPS              float64                `json:"rps"`          // responses per second
	OKRPS            float64                `json:"ok_rps"`       // 200s per second
	Latency          Latency                `json:"latency"`
	ByKind           map[string]*KindResult `json:"by_kind"`
	// StoreBatch is the mean number of requests per store write during the loop, from
	// the server's thamesthrive_store_write_batch_size histogram (embedded store: the
	// group commit's transaction size); the store floor is measured at it.
	StoreBatch float64 `json:"store_batch,omitempty"`
	// StorePhases is where the server's store writes waited during the loop, by phase
	// (queued, write, answer: the server's thamesthrive_store_commit_phase_seconds).
	StorePhases map[string]PhaseWait `json:"store_phases,omitempty"`
	// Open loop only.
	Scheduled int64 `json:"scheduled,omitempty"`
	Missed    int64 `json:"missed,omitempty"` // scheduled but never sent
	// Queued counts requests that were due while every connection was busy, and waited for
	// one (their latency includes the wait, as it should). SendLag is how late the others
	// went out: the generator's own lateness. (The goroutine engine cannot tell the two apart
	// and puts all in SendLag.)
	Queued    int64      `json:"queued,omitempty"`
	SendLag   *Latency   `json:"send_lag,omitempty"`
	Server    *ProcUsage `json:"server,omitempty"`
	Generator *ProcUsage `json:"generator,omitempty"`
	// How busy the pinned CPUs were, and how much of that was other processes.
	ServerCPU    *CPUShare `json:"server_cpu,omitempty"`
	GeneratorCPU *CPUShare `json:"generator_cpu,omitempty"`
}

// PhaseWait summarises one phase of the server's store writes over a loop, from its
// Prometheus histogram: P99Ms is interpolated inside a bucket, and when it falls past the
// largest bound P99AtLeast is set and P99Ms is that bound.
type PhaseWait struct {
	Count      int64   `json:"count"`
	MeanMs     float64 `json:"mean_ms"`
	P99Ms      float64 `json:"p99_ms"`
	P99AtLeast bool    `json:"p99_at_least,omitempty"`
}

// KindResult is the part of a Result for one kind of visit.
type KindResult struct {
	Requests int64            `json:"requests"`
	OK       int64            `json:"ok"`
	Statuses map[string]int64 `json:"statuses"`
	Errors   int64            `json:"errors"`
	Latency  Latency          `json:"latency"`
}

type workerStats struct {
	hist     Histogram
	kindHist [numKinds]Histogram
	lag      Histogram
	status   [600]int64
	kindStat [numKinds][600]int64
	kindSent [numKinds]int64
	kindErr  [numKinds]int64
	sent     int64
	errs     int64
	errsPost int64
	acked    int64
	missed   int64
	queued   int64
	errKinds map[string]int64
	seq      int
}

// fail counts an error; req is the request it ended, if one was sent.
func (ws *workerStats) fail(kind string, written bool, req *Request) {
	ws.errs++
	if req != nil {
		ws.kindErr[req.Kind]++
	}
	if written {
		ws.errsPost++
	}
	if ws.errKinds == nil {
		ws.errKinds = map[string]int64{}
	}
	if len(ws.errKinds) < 20 || ws.errKinds[kind] > 0 {
		ws.errKinds[kind]++
	} else {
		ws.errKinds["other"]++
	}
}

// classify names an error briefly, so that thousands of them make a short report.
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, ErrMalformed):
		return "malformed response"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

type worker struct {
	id    int
	p     *Phase
	ws    workerStats
	conn  *Conn
	until time.Time // hard deadline for any I/O
}

func (w *worker) connect() bool {
	if w.conn != nil && w.conn.Reusable() {
		return true
	}
	c, err := Dial(w.p.Addr, 5*time.Second)
	if err != nil {
		w.ws.sent++
		w.ws.fail("dial: "+classify(err), false, nil)
		time.Sleep(20 * time.Millisecond) // a refused dial returns at once; don't spin
		return false
	}
	_ = c.SetDeadline(w.until)
	w.conn = c
	return true
}

// begin counts a request about to be sent and says whether its body should be inspected.
func (ws *workerStats) begin(p *Phase, req *Request) (inspect bool) {
	ws.seq++
	ws.sent++
	ws.kindSent[req.Kind]++
	return p.Inspect != nil && p.InspectEvery > 0 && ws.seq%p.InspectEvery == 0
}

// done records a complete response.
func (ws *workerStats) done(p *Phase, worker int, req *Request, status int, body []byte, inspect bool, lat time.Duration) {
	ws.hist.Record(lat)
	ws.kindHist[req.Kind].Record(lat)
	st := status
	if st < 0 || st >= len(ws.status) {
		st = 0
	}
	ws.status[st]++
	ws.kindStat[req.Kind][st]++
	if status == 200 {
		ws.acked += int64(req.Events)
		if inspect {
			p.Inspect(worker, req, body)
		}
	}
}

// send does one request; start is when its latency starts counting.
func (w *worker) send(req *Request, start time.Time) (status int) {
	inspect := w.ws.begin(w.p, req)
	resp, written, err := w.conn.Do(req.Raw, inspect)
	if err != nil {
		w.ws.fail(classify(err), written, req)
		return 0
	}
	w.ws.done(w.p, w.id, req, resp.Status, resp.Body, inspect, time.Since(start))
	return resp.Status
}

// Run runs the phase and reports what it measured.
func (p *Phase) Run(ctx context.Context) (*Result, error) {
	if len(p.Requests) == 0 {
		return nil, errors.New("phase has no requests")
	}
	if p.Concurrency < 1 {
		return nil, errors.New("concurrency must be at least 1")
	}
	if p.Duration <= 0 {
		return nil, errors.New("duration must be positive")
	}
	drain := p.Drain
	if drain <= 0 {
		drain = 5 * time.Second
	}
	engine := p.Engine
	if engine == "" {
		engine = "goroutines"
		if haveEventLoop {
			engine = "eventloop"
		}
	}
	if engine != "goroutines" && (engine != "eventloop" || !haveEventLoop) {
		return nil, errors.New("unknown or unavailable engine " + engine)
	}

	var serverBefore, selfBefore ProcSample
	var err error
	if p.ServerPID > 0 {
		if serverBefore, err = ReadProc(p.ServerPID); err != nil {
			return nil, err
		}
	}
	selfBefore, selfErr := ReadProc(0)
	var cpusBefore map[int]cpuTimes
	if p.Pinned != nil {
		cpusBefore, _ = readCPUTimes()
	}

	start := time.Now()
	var stats []*workerStats
	var scheduled int64
	if engine == "eventloop" {
		stats, scheduled, err = p.runEventLoop(ctx, start, drain)
		if err != nil {
			return nil, err
		}
	} else {
		stats, scheduled = p.runGoroutines(ctx, start, drain)
	}
	elapsed := time.Since(start).Seconds()
	var cpusAfter map[int]cpuTimes
	if cpusBefore != nil {
		cpusAfter, _ = readCPUTimes()
	}

	r := p.merge(stats, elapsed)
	r.Engine = engine
	if p.Rate > 0 {
		r.Mode, r.TargetRate, r.Scheduled = "open", p.Rate, scheduled
	}
	if p.ServerPID > 0 {
		after, err := ReadProc(p.ServerPID)
		if err != nil {
			return r, err
		}
		r.Server = Usage(serverBefore, after, p.ClkTck, elapsed, r.Responses)
	}
	if selfErr == nil {
		if after, err := ReadProc(0); err == nil {
			r.Generator = Usage(selfBefore, after, p.ClkTck, elapsed, r.Sent)
		}
	}
	if cpusAfter != nil {
		var own float64
		if r.Server != nil {
			own = r.Server.Utilization
		}
		r.ServerCPU = cpuShare(p.Pinned.Server, cpusBefore, cpusAfter, own)
		own = 0
		if r.Generator != nil {
			own = r.Generator.Utilization
		}
		r.GeneratorCPU = cpuShare(p.Pinned.Generator, cpusBefore, cpusAfter, own)
	}
	return r, ctx.Err()
}

func (p *Phase) runGoroutines(ctx context.Context, start time.Time, drain time.Duration) ([]*workerStats, int64) {
	end := start.Add(p.Duration)
	workers := make([]*worker, p.Concurrency)
	stats := make([]*workerStats, p.Concurrency)
	for i := range workers {
		workers[i] = &worker{id: i, p: p, until: end.Add(drain + 10*time.Second)}
		stats[i] = &workers[i].ws
	}
	var wg sync.WaitGroup
	var scheduled int64
	if p.Rate > 0 {
		tokens := make(chan token, 1<<16)
		drainEnd := end.Add(drain)
		for _, w := range workers {
			wg.Go(func() { w.openLoop(tokens, start, drainEnd) })
		}
		scheduled = p.pace(ctx, start, tokens)
	} else {
		var next, oks atomic.Int64
		for _, w := range workers {
			wg.Go(func() { w.closedLoop(ctx, &next, &oks, end) })
		}
	}
	wg.Wait()
	for _, w := range workers {
		if w.conn != nil {
			w.conn.Close()
		}
	}
	return stats, scheduled
}

// request is the i-th request of the phase.
func (p *Phase) request(i int64) *Request {
	return &p.Requests[(p.Offset+i)%int64(len(p.Requests))]
}

// attempts is how many requests a closed loop with a Limit may send: it retries what failed,
// but not for ever.
func (p *Phase) attempts() int64 {
	if p.Limit > 0 {
		return p.Limit + p.Limit/10 + 100
	}
	return math.MaxInt64
}

// tick is how often an open loop's pacer wakes.
func (p *Phase) tick() time.Duration {
	if p.PaceTick > 0 {
		return p.PaceTick
	}
	interval := time.Duration(float64(time.Second) / p.Rate)
	return min(max(interval/2, 50*time.Microsecond), time.Millisecond)
}

// scheduledAt is when the i-th request of an open loop is due, from the start.
func (p *Phase) scheduledAt(i int64) time.Duration {
	return time.Duration(float64(i) * float64(time.Second) / p.Rate)
}

func (w *worker) closedLoop(ctx context.Context, next, oks *atomic.Int64, end time.Time) {
	p := w.p
	attempts := p.attempts()
	now := time.Now()
	for now.Before(end) && ctx.Err() == nil {
		if p.Limit > 0 && oks.Load() >= p.Limit {
			return
		}
		i := next.Add(1) - 1
		if i >= attempts {
			return
		}
		if !w.connect() {
			now = time.Now()
			continue
		}
		if w.send(p.request(i), now) == 200 && p.Limit > 0 {
			oks.Add(1)
		}
		now = time.Now()
	}
}

func (w *worker) openLoop(tokens <-chan token, start, drainEnd time.Time) {
	p := w.p
	for tok := range tokens {
		sched := start.Add(tok.at)
		now := time.Now()
		if now.After(drainEnd) {
			w.ws.missed++
			continue
		}
		if !w.connect() {
			continue
		}
		if now.After(sched) {
			w.ws.lag.Record(now.Sub(sched))
		} else {
			w.ws.lag.Record(0)
		}
		w.send(p.request(tok.seq), sched)
	}
}

// token is one scheduled send of an open loop.
type token struct {
	seq int64
	at  time.Duration // from the start of the phase
}

// pace schedules rate requests per second for d from start, and returns how many it
// scheduled.
func (p *Phase) pace(ctx context.Context, start time.Time, tokens chan<- token) int64 {
	defer close(tokens)
	total := int64(p.Duration.Seconds() * p.Rate)
	tick := p.tick()
	t, err := newTicker(tick)
	if err != nil {
		t = newPortableTicker(tick)
	}
	defer t.Stop()
	var i int64
	for i < total {
		now := time.Since(start)
		for i < total {
			at := p.scheduledAt(i)
			if at > now {
				break
			}
			select {
			case tokens <- token{seq: i, at: at}:
			case <-ctx.Done():
				return i
			}
			i++
		}
		if i >= total || ctx.Err() != nil {
			break
		}
		if err := t.Wait(); err != nil {
			break
		}
	}
	return i
}

func (p *Phase) merge(stats []*workerStats, elapsed float64) *Result {
	r := &Result{Name: p.Name, Mode: "closed", Concurrency: p.Concurrency, Seconds: round(elapsed, 3),
		Statuses: map[string]int64{}, ByKind: map[string]*KindResult{}}
	var all, lag Histogram
	var kindHist [numKinds]Histogram
	var status [600]int64
	var kindStat [numKinds][600]int64
	var kindSent, kindErr [numKinds]int64
	for _, ws := range stats {
		all.Merge(&ws.hist)
		lag.Merge(&ws.lag)
		for k := range numKinds {
			kindHist[k].Merge(&ws.kindHist[k])
			kindSent[k] += ws.kindSent[k]
			kindErr[k] += ws.kindErr[k]
			for s, c := range ws.kindStat[k] {
				kindStat[k][s] += c
			}
		}
		for s, c := range ws.status {
			status[s] += c
		}
		r.Sent += ws.sent
		r.Errors += ws.errs
		r.ErrorsAfterWrite += ws.errsPost
		r.EventsAcked += ws.acked
		r.Missed += ws.missed
		r.Queued += ws.queued
		for k, c := range ws.errKinds {
			if r.ErrorKinds == nil {
				r.ErrorKinds = map[string]int64{}
			}
			r.ErrorKinds[k] += c
		}
	}
	for s, c := range status {
		if c > 0 {
			r.Statuses[statusName(s)] += c
			r.Responses += c
		}
	}
	r.OK = status[200]
	r.Latency = all.Summary()
	for k := range numKinds {
		if kindSent[k] == 0 {
			continue
		}
		kr := &KindResult{Requests: kindSent[k], OK: kindStat[k][200], Errors: kindErr[k], Statuses: map[string]int64{},
			Latency: kindHist[k].Summary()}
		for s, c := range kindStat[k] {
			if c > 0 {
				kr.Statuses[statusName(s)] += c
			}
		}
		r.ByKind[Kind(k).String()] = kr
	}
	if p.Rate > 0 {
		l := lag.Summary()
		r.SendLag = &l
	}
	if elapsed > 0 {
		r.RPS = round(float64(r.Responses)/elapsed, 1)
		r.OKRPS = round(float64(r.OK)/elapsed, 1)
	}
	return r
}

func statusName(s int) string {
	if s == 0 {
		return "other"
	}
	return strconv.Itoa(s)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
