package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/imports"
	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/retention"
	"github.com/thamesthrive/thamesthrive/internal/segment"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// jobService is the job runner of a process and what the API needs of it.
type jobService struct {
	runner   *jobs.Shared
	importer *imports.Importer
	stop     func()
}

// Close stops the process's job workers (a running job goes back to the queue).
func (j *jobService) Close() { j.stop() }

// startJobs returns the process's job runner over the shared job records. With
// execute, this process's workers run jobs (segment refreshes, imports, the daily
// retention job; docs/workers.md, "Jobs"); without, it only queues, lists and
// cancels them. retainer is the unwrapped store's retention (nil: the store has
// none). col changes profiles for segment refreshes.
func startJobs(ctx context.Context, cfg config.Config, log *slog.Logger, store storage.Store, retainer storage.EventRetention,
	locker storage.Locker, col *collector.Collector, execute bool) (*jobService, error) {
	im := &imports.Importer{Store: store, Locker: locker, MaxBytes: cfg.ImportMaxBytes, Forget: col.ForgetProfile, Log: log}
	refresher := segment.NewRefresher(store, col, 0)
	refresher.Candidates = len(cfg.ElasticHosts) > 0 // every field indexed (Refresher.Candidates)
	handlers := map[string]jobs.Handler{
		segment.RefreshJob: refresher.Run,
		imports.JobKind:    im.Run,
	}
	if retainer != nil {
		handlers[retention.JobKind] = retention.Run(retainer)
	}
	runner, err := jobs.New(ctx, jobs.Config{Execute: execute, Exclusive: len(cfg.ElasticHosts) == 0, Lease: cfg.JobLease,
		OnFinish: im.Finished},
		store.Entities(), log, handlers)
	if err != nil {
		return nil, fmt.Errorf("starting the job runner: %w", err)
	}
	im.Jobs = runner
	sctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if execute && retainer != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			retention.Schedule(sctx, runner, cfg.EventRetentionDays, log)
		}()
	}
	var once sync.Once
	return &jobService{runner: runner, importer: im, stop: func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			runner.Close()
		})
	}}, nil
}

// retainerOf returns the store's event retention, if it has one.
func retainerOf(s storage.Store) storage.EventRetention {
	r, _ := s.(storage.EventRetention)
	return r
}
