// Package app is the composition root: it reads the configuration, picks the storage
// backend, wires the services together and runs the processes (serve). It is the only
// package that knows which implementation of each interface is in use.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/all" // the built-in workflow nodes
	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/httpapi"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/worker"
)

// Version is set at build time with -ldflags "-X .../internal/app.Version=…".
var Version = "dev"

// NewLogger returns the JSON logger all processes use.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// storeMetrics counts what the store writes.
type storeMetrics struct {
	events  prometheus.Counter
	batches prometheus.Histogram
	// storage.CommitPhases of every Commit, one series per phase
	queued, write, answer prometheus.Observer
}

func newStoreMetrics(reg *prometheus.Registry) *storeMetrics {
	m := &storeMetrics{
		events: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "thamesthrive", Name: "events_stored_total",
			Help: "Events durably stored."}),
		batches: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "thamesthrive", Name: "store_write_batch_size",
			Help: "Requests served by one group-committed store write.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
	}
	phases := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "thamesthrive", Name: "store_commit_phase_seconds",
		Help:    "Where a store write's wait went: queued (until the group write carrying it began), write (that write), answer (from its end until the caller ran again).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 12)}, []string{"phase"})
	m.queued, m.write, m.answer = phases.WithLabelValues("queued"), phases.WithLabelValues("write"), phases.WithLabelValues("answer")
	reg.MustRegister(m.events, m.batches, phases)
	return m
}

// observe records where one store write's wait went.
func (m *storeMetrics) observe(p storage.CommitPhases) {
	m.queued.Observe(p.Queued.Seconds())
	m.write.Observe(p.Write.Seconds())
	m.answer.Observe(p.Answer.Seconds())
}

func openStore(cfg config.Config, m *storeMetrics, log *slog.Logger, coord *coordination) (storage.Store, error) {
	if len(cfg.ElasticHosts) > 0 {
		return openElastic(cfg, m, log, coord)
	}
	return sqlite.Open(sqlite.Config{Dir: cfg.DataDir, Sync: cfg.SQLiteSync, CommitWindow: commitWindow(cfg.SQLiteCommitWindow), KeyPaths: mergeKeys(cfg), IndexedPaths: cfg.IndexedPaths, Logger: log, OnBatch: func(commits, events int) {
		m.batches.Observe(float64(commits))
		m.events.Add(float64(events))
	}, OnCommit: m.observe})
}

// commitWindow maps SQLITE_COMMIT_WINDOW to sqlite.Config.CommitWindow, where zero
// means the default and a negative value never waits.
func commitWindow(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// Serve runs the API process until ctx ends or SIGINT/SIGTERM arrives, then shuts down
// gracefully: it stops accepting, finishes in-flight requests, flushes the store.
func Serve(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer) error {
	tuneGC(cfg, log)
	b, err := openBackend(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.Close()
	reg, coord, store, work := b.reg, b.coord, b.store, b.work
	hasQueue := work != nil
	retainer := retainerOf(b.raw)

	installToken := cfg.InstallationToken
	generated := installToken == ""
	if generated {
		installToken = auth.GenerateSecret(18)
	}
	authSvc, err := auth.New(auth.Config{InstallationToken: installToken, TokenTTL: cfg.TokenTTL,
		MaxLoginAttempts: cfg.LoginMaxAttempts, LoginWindow: cfg.LoginWindow, Throttle: coord.loginThrottle()}, store.Entities())
	if err != nil {
		return err
	}
	secretBox, err := openSecrets(cfg, log)
	if err != nil {
		return err
	}
	installed, err := authSvc.Installed(ctx)
	if err != nil {
		return fmt.Errorf("checking installation: %w", err)
	}

	outbound := netguard.New(netguard.Config{AllowPrivate: cfg.OutboundAllowPrivate})
	tp, err := buildPipeline(cfg, store, coord, log, secretBox, outbound, hasQueue)
	if err != nil {
		return err
	}
	sources, mapper, segments, flows, planner, col := tp.sources, tp.mapper, tp.segments, tp.flows, tp.planner, tp.col
	// Jobs run where the workers run; without a work queue (production without
	// Redis, so no worker process) serve runs them itself.
	jobSvc, err := startJobs(ctx, cfg, log, store, retainer, coord.locker, col, runWorkers(cfg) || !hasQueue)
	if err != nil {
		return err
	}
	defer jobSvc.Close()
	var deliveries *worker.Admin
	if hasQueue {
		deliveries = &worker.Admin{Queue: work.queue, Log: work.log, Entities: store.Entities()}
	}
	api := httpapi.New(httpapi.Options{ExposeGUIAPI: cfg.ExposeGUIAPI, MaxBodyBytes: cfg.TrackMaxBodyBytes, Pprof: cfg.Pprof,
		MaxBodyBytesInFlight: cfg.MaxBodyBytesInFlight,
		TrackRateLimit:       cfg.TrackRateLimit, TrackRateBurst: cfg.TrackRateBurst,
		TrustedNetworks: cfg.TrustedNetworks, TrustedProxies: cfg.TrustedProxies, CORSOrigins: cfg.CORSOrigins,
		Version: Version, Backend: backendName(cfg)},
		httpapi.Deps{Store: store, Collector: col, Sources: sources, Auth: authSvc, Logger: log, Registry: reg, Secrets: secretBox,
			Data: httpapi.DataDeps{Segments: segments, EventTypes: mapper, Jobs: jobSvc.runner, Imports: jobSvc.importer}, Workflow: flows, Outbound: outbound,
			RateLimiter: coord.rateLimiter(cfg), DestinationsChanged: planner.Invalidate, Deliveries: deliveries})
	stopWorkers := func() {}
	if hasQueue && runWorkers(cfg) {
		if stopWorkers, err = startWorkers(cfg, log, reg, store, work, secretBox, outbound, tp); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: listening on %s: %w", cfg.HTTPAddr, err)
	}
	ln = httpapi.LimitListener(ln, cfg.MaxConnections, cfg.TLSCertFile != "", connRefusals(log))
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
		tlsCtx, stopTLS := context.WithCancel(ctx)
		defer stopTLS()
		if srv.TLSConfig, err = newTLSConfig(tlsCtx, cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSReloadInterval, log); err != nil {
			return err
		}
	}
	printNextSteps(out, cfg, scheme, ln.Addr(), installed, generated, installToken)
	log.Info("listening", "addr", ln.Addr().String(), "scheme", scheme, "data_dir", cfg.DataDir,
		"gui_api", cfg.ExposeGUIAPI, "version", Version)

	errc := make(chan error, 1)
	go func() {
		if scheme == "https" {
			errc <- srv.ServeTLS(ln, "", "") // certificates come from TLSConfig.GetCertificate
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	sig, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-sig.Done():
	}
	log.Info("shutting_down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown_incomplete", "error", err)
	}
	stopWorkers()  // deliveries in flight finish and are acknowledged
	jobSvc.Close() // before the store: a running job goes back to the queue with its checkpoint
	if err := store.Close(); err != nil {
		return fmt.Errorf("closing store: %w", err)
	}
	log.Info("stopped")
	return nil
}

func printNextSteps(out io.Writer, cfg config.Config, scheme string, addr net.Addr, installed, generated bool, token string) {
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host = fmt.Sprintf("localhost:%d", tcp.Port)
	}
	base := scheme + "://" + host
	abs, _ := filepath.Abs(cfg.DataDir)
	fmt.Fprintf(out, "\nThamesThrive %s is running at %s (data in %s)\n", Version, base, abs)
	switch {
	case !cfg.ExposeGUIAPI:
		fmt.Fprintf(out, "Collector only (EXPOSE_GUI_API=no): send events to %s/track\n\n", base)
	case installed:
		fmt.Fprintf(out, "Open the GUI at %s/gui/\n", base)
		fmt.Fprintf(out, "Get a token:  curl -s %s/api/v1/auth/token -d username=YOU -d password=…\n\n", base)
	default:
		if generated {
			fmt.Fprintf(out, "Installation token (printed once, set INSTALLATION_TOKEN to choose your own): %s\n", token)
		}
		fmt.Fprintf(out, "Create the first admin at %s/gui/ with the installation token, or:\n", base)
		fmt.Fprintf(out, "  curl -s %s/api/v1/install -H 'Content-Type: application/json' \\\n"+
			"    -d '{\"username\":\"admin@example.com\",\"password\":\"choose-a-password\",\"token\":\"%s\"}'\n\n", base, token)
	}
}
