package domain

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ReportDefinition is a saved report that the GUI dashboard renders: one of the report
// routes (Kind) with its parameters. Params are checked against what that route
// accepts; a time range is relative (the last Range up to when the report runs).
type ReportDefinition struct {
	Meta
	Kind   string       `json:"kind"`
	Params ReportParams `json:"params"`
}

// Report kinds, one per report route.
const (
	ReportEventsHistogram = "events-histogram" // GET /api/v1/reports/events/histogram
	ReportEventsBreakdown = "events-breakdown" // GET /api/v1/reports/events/breakdown
	ReportProfilesNew     = "profiles-new"     // GET /api/v1/reports/profiles/new
	ReportSessionsActive  = "sessions-active"  // GET /api/v1/reports/sessions/active
)

// ReportParams are the query parameters of the report route, by their names there.
type ReportParams struct {
	// Range is how far back the report looks from when it runs: 24h, 7d, 30d… (the
	// report routes' range parameter; default 24h).
	Range    string `json:"range,omitempty"`
	Interval string `json:"interval,omitempty"`
	By       string `json:"by,omitempty"`
	Where    string `json:"where,omitempty"`
	Limit    int    `json:"limit,omitempty"`
	Within   string `json:"within,omitempty"`
}

// reportParams lists, per kind, the parameters its route accepts.
var reportParams = map[string][]string{
	ReportEventsHistogram: {"range", "interval", "where"},
	ReportEventsBreakdown: {"range", "by", "where", "limit"},
	ReportProfilesNew:     {"range", "interval"},
	ReportSessionsActive:  {"within"},
}

// ReportKinds lists the report kinds.
func ReportKinds() []string {
	return []string{ReportEventsHistogram, ReportEventsBreakdown, ReportProfilesNew, ReportSessionsActive}
}

// Set lists the parameters given, by name, with their values as query text.
func (p ReportParams) Set() map[string]string {
	m := map[string]string{}
	for name, v := range map[string]string{"range": p.Range, "interval": p.Interval, "by": p.By, "where": p.Where, "within": p.Within} {
		if v != "" {
			m[name] = v
		}
	}
	if p.Limit != 0 {
		m["limit"] = fmt.Sprint(p.Limit)
	}
	return m
}

// Validate checks the kind and that every parameter given is one the kind's route
// accepts; the values are checked by the route's own parameter parsing.
func (r *ReportDefinition) Validate() error {
	r.Kind = strings.ToLower(strings.TrimSpace(r.Kind))
	accepted, ok := reportParams[r.Kind]
	if !ok {
		return &FieldError{"kind", "must be one of " + strings.Join(ReportKinds(), ", ")}
	}
	p := &r.Params
	for _, s := range []*string{&p.Range, &p.Interval, &p.By, &p.Where, &p.Within} {
		*s = strings.TrimSpace(*s)
	}
	if len(p.Where) > 10000 {
		return &FieldError{"params.where", "is longer than 10000 characters"}
	}
	set := p.Set()
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if !slices.Contains(accepted, name) {
			return &FieldError{"params." + name, fmt.Sprintf("is not a parameter of %s reports (they take %s)", r.Kind, strings.Join(accepted, ", "))}
		}
	}
	return nil
}
