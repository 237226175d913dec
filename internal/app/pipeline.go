package app

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/delivery"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/identity"
	"github.com/thamesthrive/thamesthrive/internal/later"
	"github.com/thamesthrive/thamesthrive/internal/mapping"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
	"github.com/thamesthrive/thamesthrive/internal/segment"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// trackPipeline is the /track pipeline and the services behind its stages. serve
// builds it for requests; a worker process builds the same one for the background
// work it runs through the pipeline (resumed flows, scheduled events, ended sessions).
type trackPipeline struct {
	sources  *collector.SourceCache
	mapper   *mapping.Mapper
	segments *segment.Engine
	flows    *workflow.Engine
	planner  *delivery.Planner
	col      *collector.Collector
}

func buildPipeline(cfg config.Config, store storage.Store, coord *coordination, log *slog.Logger, box *secrets.Box,
	outbound *netguard.Guard, hasQueue bool) (*trackPipeline, error) {
	tp := &trackPipeline{sources: collector.NewSourceCache(store.Entities(), 5*time.Second)}
	resolver, err := identity.New(identity.Config{Keys: cfg.MergeKeys}, store, coord.locker)
	if err != nil {
		return nil, fmt.Errorf("MERGE_KEYS: %w", err)
	}
	// Pipeline stages in the order of docs/architecture.md ("A /track request"): event-to-profile mappings (4, after the
	// built-in copy rules, so that a mapped key can merge profiles), identity (6), rules
	// and workflows (7, which may ask for merges, so identity looks again after them),
	// segmentation (8).
	tp.mapper = mapping.New(mapping.Config{Store: store}, store.Entities(), log)
	tp.segments = segment.NewEngine(segment.Config{}, store.Entities(), log)
	if tp.flows, err = workflow.New(workflow.Config{}, workflow.Deps{Store: store, Logger: log, Secrets: box, Outbound: outbound}); err != nil {
		return nil, err
	}
	// The workflow stage runs again last, for the segment-entered and segment-left
	// events segmentation adds (each pass handles only events added since the last).
	stages := []pipeline.Stage{tp.mapper, resolver, tp.flows, resolver, tp.segments, tp.flows}
	// Last: deliveries to destinations are queued with the batch (the outbox).
	tp.planner = delivery.NewPlanner(store.Entities(), 0, log)
	ccfg := collector.Config{Limits: collector.Limits{MaxEvents: cfg.TrackMaxEvents}, CacheSize: cacheSize(cfg),
		TrackApplied: len(cfg.ElasticHosts) > 0}
	if hasQueue {
		stages = append(stages, tp.planner)
		if cfg.SessionTimeout > 0 {
			ccfg.SessionWork = func(s *domain.Session, n int64) *domain.WorkItem { return later.SessionWork(s, cfg.SessionTimeout, n) }
		}
	}
	coord.invalidate(tp.sources, map[string]func(){domain.EntityEventType: tp.mapper.Invalidate, domain.EntitySegment: tp.segments.Invalidate,
		domain.EntityRule: tp.flows.InvalidateRules, domain.EntityFlow: tp.flows.InvalidateFlows, domain.EntityFlowDeployment: tp.flows.InvalidateFlows,
		domain.EntityDestination: tp.planner.Invalidate})
	if tp.col, err = collector.New(ccfg, store, coord.locker, tp.sources, stages...); err != nil {
		return nil, err
	}
	return tp, nil
}
