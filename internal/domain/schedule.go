package domain

// Schedule starts a flow on a schedule: at every time its cron expression (UTC) names,
// once, or for every member of a segment (docs/workers.md, "Flows on a schedule").
type Schedule struct {
	Meta
	// Cron is a cron expression in UTC: five fields (minute hour day-of-month month
	// day-of-week), or @hourly, @daily, @weekly, @monthly, @yearly, or "@every
	// <duration>" (at least 1s).
	Cron string `json:"cron"`
	// FlowID is the flow whose deployed version runs.
	FlowID string `json:"flow_id"`
	// Target is "once" (the flow runs once, without a profile) or "segment" (once for
	// every profile in SegmentID).
	Target    string `json:"target"`
	SegmentID string `json:"segment_id,omitempty"`
	// NextRun is when it fires next (computed when it is read; absent when disabled).
	NextRun *Time `json:"next_run,omitempty"`
}

// Schedule targets.
const (
	ScheduleOnce    = "once"
	ScheduleSegment = "segment"
)
