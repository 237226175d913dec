// Package worker runs ThamesThrive's background work: it delivers queued items to
// destinations, at least once, with retries, dead letters and pausing. One Worker runs
// in every `thamesthrive worker` process (and inside `serve` on the embedded store);
// any number share one queue. Each enabled destination gets its own consumers, as
// many as its concurrency, reading its own topic at its own rate, so one slow or
// failing receiver holds up nothing else.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/thamesthrive/thamesthrive/internal/delivery"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Config tunes delivery.
type Config struct {
	// MaxAge is how long an item is retried before it is dead-lettered (24h).
	MaxAge time.Duration
	// Backoff is the first retry's delay, doubled for each further one (with jitter),
	// up to MaxBackoff (1s, 10m).
	Backoff, MaxBackoff time.Duration
	// PauseAfter failed deliveries in a row pause a destination until it is resumed
	// through the API (100; 0 keeps the default, negative never pauses).
	PauseAfter int
	// Refresh is how often the destinations are read again (2s).
	Refresh time.Duration
	// DrainTimeout bounds how long Run waits for deliveries in flight when it stops (30s).
	DrainTimeout time.Duration
}

func (c *Config) defaults() {
	if c.MaxAge <= 0 {
		c.MaxAge = 24 * time.Hour
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 10 * time.Minute
	}
	if c.PauseAfter == 0 {
		c.PauseAfter = 100
	}
	if c.Refresh <= 0 {
		c.Refresh = 2 * time.Second
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 30 * time.Second
	}
}

// Queue is the work queue with dead letters.
type Queue interface {
	storage.Queue
	storage.DeadLetters
}

// Deps are the services a Worker uses.
type Deps struct {
	Queue    Queue
	Log      storage.DeliveryLog
	Entities storage.Entities
	Secrets  *secrets.Box
	Sender   *delivery.Sender
	Logger   *slog.Logger
	Registry prometheus.Registerer
}

// Worker delivers queued items.
type Worker struct {
	cfg Config
	d   Deps
	m   *metrics

	mu        sync.Mutex
	consumers map[string]*consumer // by destination id
}

// consumer delivers one destination's items.
type consumer struct {
	dest     *domain.Destination // secrets open
	version  int64
	ctx      context.Context // ends when the consumers stop
	cancel   context.CancelFunc
	limiter  *rate.Limiter
	failures int // in a row
	mu       sync.Mutex
}

// New returns a Worker.
func New(cfg Config, d Deps) (*Worker, error) {
	cfg.defaults()
	if d.Queue == nil || d.Log == nil || d.Entities == nil || d.Sender == nil || d.Logger == nil {
		return nil, errors.New("worker: missing dependencies")
	}
	return &Worker{cfg: cfg, d: d, m: newMetrics(d.Registry), consumers: map[string]*consumer{}}, nil
}

// Run delivers until ctx ends, then stops taking work and waits (up to DrainTimeout)
// for the deliveries in flight.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	tick := time.NewTicker(w.cfg.Refresh)
	defer tick.Stop()
	for {
		if err := w.refresh(ctx, &wg); err != nil && ctx.Err() == nil {
			w.d.Logger.Warn("destinations_unreadable", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			w.mu.Lock()
			for id, c := range w.consumers {
				c.cancel()
				delete(w.consumers, id)
			}
			w.mu.Unlock()
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(w.cfg.DrainTimeout):
				w.d.Logger.Warn("worker_drain_incomplete")
			}
			return nil
		case <-tick.C:
		}
	}
}

// State is a destination's delivery state, kept as an entity so that every process
// sees it: a paused destination is not delivered to until it is resumed.
type State struct {
	Paused bool        `json:"paused"`
	Reason string      `json:"reason,omitempty"`
	Since  domain.Time `json:"since,omitempty"`
}

// StateKind is the entity kind of destinations' delivery states.
const StateKind = domain.EntityDestinationState

// LoadState reads destination id's state (the zero State when none is stored).
func LoadState(ctx context.Context, entities storage.Entities, id string) (State, int64, error) {
	var st State
	ent, err := entities.Get(ctx, StateKind, id)
	if errors.Is(err, storage.ErrNotFound) {
		return st, 0, nil
	}
	if err != nil {
		return st, 0, err
	}
	if err := json.Unmarshal(ent.Doc, &st); err != nil {
		return st, 0, fmt.Errorf("decoding the state of destination %q: %w", id, err)
	}
	return st, ent.Version, nil
}

func saveState(ctx context.Context, entities storage.Entities, id string, st State) error {
	doc, _ := json.Marshal(st)
	_, err := entities.Put(ctx, &storage.Entity{Kind: StateKind, ID: id, Doc: doc}, -1)
	return err
}

// refresh starts consumers for enabled, unpaused destinations and stops the others.
func (w *Worker) refresh(ctx context.Context, wg *sync.WaitGroup) error {
	if ctx.Err() != nil {
		return nil
	}
	want := map[string]*domain.Destination{}
	paused := map[string]bool{}
	for off := 0; ; off += 500 {
		ents, total, err := w.d.Entities.List(ctx, delivery.EntityKind, storage.ListOptions{Page: storage.Page{Limit: 500, Offset: off}})
		if err != nil {
			return err
		}
		for _, ent := range ents {
			d, err := delivery.Decode(ent)
			if err != nil || !d.Enabled {
				continue
			}
			if w.d.Secrets != nil {
				if err := w.d.Secrets.OpenFields(d); err != nil {
					w.d.Logger.Warn("destination_secrets_unreadable", "destination_id", d.ID, "error", err.Error())
					continue
				}
			}
			want[d.ID] = d
		}
		if int64(off+len(ents)) >= total || len(ents) == 0 {
			break
		}
	}
	states, _, err := w.d.Entities.List(ctx, StateKind, storage.ListOptions{Page: storage.Page{Limit: 10000}})
	if err != nil {
		return err
	}
	for _, ent := range states {
		var st State
		if json.Unmarshal(ent.Doc, &st) == nil && st.Paused {
			paused[ent.ID] = true
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, c := range w.consumers {
		d := want[id]
		// A destination paused here stopped its consumers at once; resumed before
		// this refresh, it gets new ones below.
		if d == nil || paused[id] || d.Version != c.version || c.ctx.Err() != nil {
			c.cancel()
			delete(w.consumers, id)
			w.d.Logger.Info("destination_consumers_stopped", "destination_id", id)
		}
	}
	for id, d := range want {
		n, _ := w.d.Queue.Depth(ctx, delivery.Topic(id))
		w.m.depth.WithLabelValues(id).Set(float64(n))
		if paused[id] || w.consumers[id] != nil {
			continue
		}
		cctx, cancel := context.WithCancel(ctx)
		c := &consumer{dest: d, version: d.Version, ctx: cctx, cancel: cancel, limiter: rate.NewLimiter(rate.Inf, 1)}
		if d.RateLimit > 0 {
			c.limiter = rate.NewLimiter(rate.Limit(d.RateLimit), max(1, int(d.RateLimit)))
		}
		w.consumers[id] = c
		w.d.Logger.Info("destination_consumers_started", "destination_id", id, "concurrency", d.DeliveryConcurrency())
		for i := 0; i < d.DeliveryConcurrency(); i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.consume(cctx, c)
			}()
		}
	}
	return nil
}

func (w *Worker) consume(ctx context.Context, c *consumer) {
	topic := delivery.Topic(c.dest.ID)
	for {
		if err := c.limiter.Wait(ctx); err != nil {
			return
		}
		j, err := w.d.Queue.Dequeue(ctx, topic)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.d.Logger.Warn("dequeue_failed", "destination_id", c.dest.ID, "error", err.Error())
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		// A delivery in flight finishes even when the worker is told to stop.
		w.handle(context.WithoutCancel(ctx), c, j)
	}
}

// Outcomes of an attempt, as recorded in the delivery log and metrics.
const (
	OutcomeDelivered = "delivered"
	OutcomeFailed    = "failed"
	OutcomeDead      = "dead"
	OutcomeSkipped   = "skipped"
)

func (w *Worker) handle(ctx context.Context, c *consumer, j *storage.Job) {
	d := c.dest
	var it delivery.Item
	if err := json.Unmarshal(j.Payload, &it); err != nil {
		w.d.Queue.Bury(ctx, j, "undecodable work item: "+err.Error())
		w.record(ctx, d.ID, j, OutcomeDead, delivery.Result{Err: err})
		return
	}
	if it.Kind == delivery.KindProfile {
		version, hash, err := w.d.Log.Last(ctx, d.ID, it.Profile)
		if err == nil && (hash == it.Hash || (version != "" && it.Version < version)) {
			// Nothing changed since the last delivery, or a later one was delivered.
			w.d.Queue.Ack(ctx, j)
			w.record(ctx, d.ID, j, OutcomeSkipped, delivery.Result{})
			return
		}
	}
	res := w.d.Sender.Send(ctx, d, &it)
	w.m.latency.WithLabelValues(d.ID).Observe(res.Latency.Seconds())
	if res.OK() {
		if err := w.d.Queue.Ack(ctx, j); err != nil {
			w.d.Logger.Warn("ack_failed", "destination_id", d.ID, "error", err.Error())
		}
		if it.Kind == delivery.KindProfile {
			w.d.Log.SetLast(ctx, d.ID, it.Profile, it.Version, it.Hash)
		}
		c.mu.Lock()
		c.failures = 0
		c.mu.Unlock()
		w.record(ctx, d.ID, j, OutcomeDelivered, res)
		return
	}
	age := time.Since(j.Enqueued)
	delay := w.backoff(j.Deliveries)
	if res.RetryAfter > delay {
		delay = min(res.RetryAfter, w.cfg.MaxBackoff)
	}
	if res.Permanent || age+delay > w.cfg.MaxAge {
		reason := res.Err.Error()
		if !res.Permanent {
			reason = fmt.Sprintf("%s (retried for %s)", reason, age.Round(time.Second))
		}
		if err := w.d.Queue.Bury(ctx, j, reason); err != nil {
			w.d.Logger.Warn("bury_failed", "destination_id", d.ID, "error", err.Error())
		}
		w.record(ctx, d.ID, j, OutcomeDead, res)
	} else {
		if err := w.d.Queue.Retry(ctx, j, delay, res.Err.Error()); err != nil {
			w.d.Logger.Warn("retry_failed", "destination_id", d.ID, "error", err.Error())
		}
		w.record(ctx, d.ID, j, OutcomeFailed, res)
	}
	c.mu.Lock()
	c.failures++
	trip := w.cfg.PauseAfter > 0 && c.failures == w.cfg.PauseAfter
	c.mu.Unlock()
	if trip {
		reason := fmt.Sprintf("paused after %d failed deliveries in a row; the last: %v", w.cfg.PauseAfter, res.Err)
		if err := saveState(ctx, w.d.Entities, d.ID, State{Paused: true, Reason: reason, Since: domain.Now()}); err != nil {
			w.d.Logger.Warn("pause_failed", "destination_id", d.ID, "error", err.Error())
		} else {
			w.d.Logger.Warn("destination_paused", "destination_id", d.ID, "reason", reason)
			w.m.paused.WithLabelValues(d.ID).Inc()
			c.cancel()
		}
	}
}

// backoff is the delay before delivery n+1: Backoff doubled n-1 times, capped at
// MaxBackoff, with "equal jitter" (between half and all of it) so that items that
// failed together do not come back together.
func (w *Worker) backoff(n int) time.Duration {
	d := w.cfg.Backoff
	for i := 1; i < n && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

func (w *Worker) record(ctx context.Context, dest string, j *storage.Job, outcome string, res delivery.Result) {
	w.m.outcomes.WithLabelValues(dest, outcome).Inc()
	if outcome == OutcomeDead {
		w.m.dead.WithLabelValues(dest).Inc()
	}
	a := storage.DeliveryAttempt{Destination: dest, Item: j.ID, Attempt: j.Deliveries, Time: time.Now().UTC(), Outcome: outcome,
		Status: res.Status, LatencyMS: float64(res.Latency.Microseconds()) / 1000}
	if res.Err != nil {
		a.Error = res.Err.Error()
	}
	if err := w.d.Log.Record(ctx, []storage.DeliveryAttempt{a}); err != nil {
		w.d.Logger.Debug("delivery_log_failed", "destination_id", dest, "error", err.Error())
	}
}

type metrics struct {
	depth    *prometheus.GaugeVec
	outcomes *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	dead     *prometheus.CounterVec
	paused   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "thamesthrive", Name: "delivery_queue_depth",
			Help: "Deliveries queued per destination (due, delayed or in flight), sampled every refresh."}, []string{"destination"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "thamesthrive", Name: "deliveries_total",
			Help: "Delivery attempts by destination and outcome (delivered, failed, dead, skipped)."}, []string{"destination", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "thamesthrive", Name: "delivery_duration_seconds",
			Help: "Time from sending a delivery to the receiver's answer.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 10)}, []string{"destination"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "thamesthrive", Name: "dead_letters_total",
			Help: "Deliveries moved to the dead-letter list."}, []string{"destination"}),
		paused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "thamesthrive", Name: "destination_pauses_total",
			Help: "Times a destination was paused after a run of failures."}, []string{"destination"}),
	}
	if reg != nil {
		reg.MustRegister(m.depth, m.outcomes, m.latency, m.dead, m.paused)
	}
	return m
}
