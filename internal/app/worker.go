package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
)

// ErrWorkerEmbedded is Work's answer on the embedded store, where serve runs the
// workers itself.
var ErrWorkerEmbedded = errors.New("`thamesthrive worker` runs the background work of the production backend " +
	"(ELASTIC_HOST and REDIS_HOST set); on the embedded store `serve` runs the workers itself " +
	"(RUN_WORKERS, docs/workers.md), so there is nothing for a worker process to do")

// Work runs `thamesthrive worker`: the delivery workers and the outbox sweeper of the
// production backend, with the ops routes (/healthz, /readyz, /metrics) on
// WORKER_HTTP_ADDR, until ctx ends or SIGINT/SIGTERM arrives; then it stops taking
// work, finishes the deliveries in flight and exits.
func Work(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if len(cfg.ElasticHosts) == 0 {
		return ErrWorkerEmbedded
	}
	if cfg.RedisHost == "" {
		return errors.New("REDIS_HOST: `thamesthrive worker` needs Redis: the work queue is a set of Redis streams (docs/workers.md)")
	}
	b, err := openBackend(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.Close()
	reg, coord, store, work := b.reg, b.coord, b.store, b.work
	retainer := retainerOf(b.raw)
	box, err := openSecrets(cfg, log)
	if err != nil {
		return err
	}
	// Jobs (docs/workers.md, "Jobs"). A segment refresh changes profiles through a
	// collector's Mutate, which runs no pipeline stages.
	col, err := collector.New(collector.Config{}, store, coord.locker, collector.NewSourceCache(store.Entities(), 5*time.Second))
	if err != nil {
		return err
	}
	jobSvc, err := startJobs(ctx, cfg, log, store, retainer, coord.locker, col, true)
	if err != nil {
		return err
	}
	defer jobSvc.Close()

	ln, err := net.Listen("tcp", cfg.WorkerHTTPAddr)
	if err != nil {
		return fmt.Errorf("WORKER_HTTP_ADDR: listening on %s: %w", cfg.WorkerHTTPAddr, err)
	}
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		err := store.Ping(r.Context())
		if err == nil {
			err = coord.client.Ping(r.Context())
		}
		if err != nil {
			w.Header().Set("Retry-After", "1")
			answer(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
			return
		}
		answer(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
		tlsCtx, stopTLS := context.WithCancel(ctx)
		defer stopTLS()
		if srv.TLSConfig, err = newTLSConfig(tlsCtx, cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSReloadInterval, log); err != nil {
			ln.Close()
			return err
		}
	}

	outbound := netguard.New(netguard.Config{AllowPrivate: cfg.OutboundAllowPrivate})
	tp, err := buildPipeline(cfg, store, coord, log, box, outbound, true)
	if err != nil {
		ln.Close()
		return err
	}
	stopWorkers, err := startWorkers(cfg, log, reg, store, work, box, outbound, tp)
	if err != nil {
		ln.Close()
		return err
	}
	errc := make(chan error, 1)
	go func() {
		if scheme == "https" {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	log.Info("listening", "addr", ln.Addr().String(), "scheme", scheme, "process", "worker", "version", Version)

	sig, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-errc:
		stopWorkers()
		return fmt.Errorf("serving the ops routes: %w", err)
	case <-sig.Done():
	}
	log.Info("shutting_down")
	stopWorkers() // deliveries in flight finish and are acknowledged
	jobSvc.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if err := store.Close(); err != nil {
		return fmt.Errorf("closing store: %w", err)
	}
	log.Info("stopped")
	return nil
}
