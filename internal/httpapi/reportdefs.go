package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// domain.EntityReportDefinition is the entity kind saved report definitions are stored under.

// reportDefinitionBase is where saved report definitions live. It is not under
// /api/v1/reports/, where the ad-hoc report routes are, so that an id can never be read
// as a report name ("events") and the two sets of routes stay apart.
const reportDefinitionBase = "/api/v1/report-definitions"

func (s *Server) reportDefinitionResource() Resource[domain.ReportDefinition, *domain.ReportDefinition] {
	return Resource[domain.ReportDefinition, *domain.ReportDefinition]{
		Kind: domain.EntityReportDefinition, Base: reportDefinitionBase, Read: permReports, Write: permReports,
		Validate: validateReportDefinition,
	}
}

func (s *Server) reportDefinitionRoutes() {
	r := s.reportDefinitionResource()
	register(s, r)
	s.handle("GET "+r.Base+"/{id}/run", r.Read, s.runReportDefinition, Doc{Summary: "Run a saved report", Tags: []string{"report definitions"},
		Description: "Runs the report route of the definition's kind with its params, over the last range up to now, and answers what that route " +
			"answers: a histogram ({from, to, interval, total, buckets}) for events-histogram and profiles-new, a breakdown ({by, from, to, items}) " +
			"for events-breakdown, {within, since, count} for sessions-active.",
		Params: []Param{{Name: "id", In: "path", Description: "id of the report definition"}}, Response: anyJSON{}})
}

// reportQuery is the query string of the report route that runs def.
func reportQuery(p domain.ReportParams) url.Values {
	q := url.Values{}
	for name, v := range p.Set() {
		q.Set(name, v)
	}
	return q
}

// validateReportDefinition checks the params with the report routes' own parsing, as
// if the report ran now; errors name the field as params.<name>.
func validateReportDefinition(_ context.Context, def *domain.ReportDefinition) error {
	if err := def.Validate(); err != nil {
		return fieldError(err)
	}
	q := reportQuery(def.Params)
	var err error
	switch def.Kind {
	case domain.ReportEventsHistogram:
		_, _, err = histogramQuery(q, "event")
	case domain.ReportProfilesNew:
		_, _, err = histogramQuery(q, "")
	case domain.ReportEventsBreakdown:
		_, err = breakdownQuery(q)
	case domain.ReportSessionsActive:
		_, _, err = activeWithin(q)
	}
	if err != nil {
		return fmt.Errorf("params.%w", err)
	}
	return nil
}

// runReportDefinition serves a saved report through the handler of its ad-hoc route,
// with the definition's params as the query string.
func (s *Server) runReportDefinition(w http.ResponseWriter, r *http.Request) {
	def, err := s.reportDefinitionResource().Load(r.Context(), s.deps.Store.Entities(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	run := map[string]http.HandlerFunc{
		domain.ReportEventsHistogram: s.eventHistogram,
		domain.ReportEventsBreakdown: s.eventBreakdown,
		domain.ReportProfilesNew:     s.newProfiles,
		domain.ReportSessionsActive:  s.activeSessions,
	}[def.Kind]
	if run == nil {
		s.fail(w, r, invalid("kind", fmt.Sprintf("the stored report has an unknown kind %q", def.Kind)))
		return
	}
	rr := r.Clone(r.Context())
	u := *r.URL
	u.RawQuery = reportQuery(def.Params).Encode()
	rr.URL = &u
	run(w, rr)
}
