package httpapi

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/later"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// scheduleResource serves /api/v1/schedules: flows started on a cron schedule (UTC),
// once or for every member of a segment. The workers fire them (docs/workers.md,
// "Flows on a schedule"); next_run is computed when a schedule is read.
func (s *Server) scheduleResource() Resource[domain.Schedule, *domain.Schedule] {
	return Resource[domain.Schedule, *domain.Schedule]{
		Kind: domain.EntitySchedule, Base: "/api/v1/schedules", Read: permSchedules, Write: permSchedules,
		Validate: s.validateSchedule,
		Present: func(v *domain.Schedule) {
			v.NextRun = nil
			if c, err := later.ParseCron(v.Cron); err == nil && v.Enabled {
				if next := c.Next(time.Now()); !next.IsZero() {
					t := domain.NewTime(next)
					v.NextRun = &t
				}
			}
		},
	}
}

func (s *Server) validateSchedule(ctx context.Context, v *domain.Schedule) error {
	v.NextRun = nil // computed, never stored
	v.Cron = strings.TrimSpace(v.Cron)
	if _, err := later.ParseCron(v.Cron); err != nil {
		return invalid("cron", err.Error())
	}
	if v.FlowID == "" {
		return invalid("flow_id", "is required")
	}
	ents := s.deps.Store.Entities()
	if _, err := ents.Get(ctx, domain.EntityFlow, v.FlowID); errors.Is(err, storage.ErrNotFound) {
		return invalid("flow_id", "no flow "+v.FlowID)
	} else if err != nil {
		return err
	}
	switch v.Target {
	case "":
		v.Target = domain.ScheduleOnce
		fallthrough
	case domain.ScheduleOnce:
		if v.SegmentID != "" {
			return invalid("segment_id", `only with target "segment"`)
		}
	case domain.ScheduleSegment:
		if v.SegmentID == "" {
			return invalid("segment_id", `is required with target "segment"`)
		}
		if _, err := ents.Get(ctx, domain.EntitySegment, v.SegmentID); errors.Is(err, storage.ErrNotFound) {
			return invalid("segment_id", "no segment "+v.SegmentID)
		} else if err != nil {
			return err
		}
	default:
		return invalid("target", `must be "once" or "segment"`)
	}
	return nil
}
