package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// maxBuckets bounds how many buckets one histogram answers.
const maxBuckets = 2000

// histogramAnswer is a count over time; every bucket from from to to is listed, empty
// ones with 0.
type histogramAnswer struct {
	From     domain.Time      `json:"from"`
	To       domain.Time      `json:"to"`
	Interval string           `json:"interval"`
	Total    int64            `json:"total"`
	Buckets  []storage.Bucket `json:"buckets"`
}

type breakdownAnswer struct {
	By    string          `json:"by"`
	From  domain.Time     `json:"from"`
	To    domain.Time     `json:"to"`
	Items []storage.Count `json:"items"`
}

type activeAnswer struct {
	Within string      `json:"within"`
	Since  domain.Time `json:"since"`
	Count  int64       `json:"count"`
}

var (
	rangeParams = []Param{
		{Name: "from", Description: "start (RFC 3339 or YYYY-MM-DD, inclusive); default: to minus range"},
		{Name: "to", Description: "end (RFC 3339 or YYYY-MM-DD, exclusive); default: now"},
		{Name: "range", Description: "instead of from: how far back from to, a duration from 1m to 366d (24h, 7d, 30d…; default 24h)"},
	}
	intervalParam = Param{Name: "interval", Description: "bucket size: 1m, 1h (default), 1d or 1w (weeks start on Monday, UTC); at most 2000 buckets"}
	whereParam    = Param{Name: "where", Description: "a condition on events (the event@ scope may be left out)"}
)

func (s *Server) reportRoutes() {
	tags := []string{"reports"}
	s.handle("GET /api/v1/reports/events/histogram", permReports, s.eventHistogram, Doc{Summary: "Events over time", Tags: tags,
		Description: "Counts of events by insert time, computed by the store.",
		Query:       append(append([]Param{}, rangeParams...), intervalParam, whereParam), Response: histogramAnswer{}})
	s.handle("GET /api/v1/reports/events/breakdown", permReports, s.eventBreakdown, Doc{Summary: "Events by type, source, channel, device type, OS or country", Tags: tags,
		Description: "The most frequent values first; events without a value are not counted.",
		Query: append(append([]Param{{Name: "by", Description: "type, source, channel, device_type, os or country"}}, rangeParams...), whereParam,
			Param{Name: "limit", Description: "how many values, 1-1000 (default 10)"}), Response: breakdownAnswer{}})
	s.handle("GET /api/v1/reports/profiles/new", permReports, s.newProfiles, Doc{Summary: "New profiles over time", Tags: tags,
		Description: "Counts of live (not merged) profiles by creation time.",
		Query:       append(append([]Param{}, rangeParams...), intervalParam), Response: histogramAnswer{}})
	s.handle("GET /api/v1/reports/sessions/active", permReports, s.activeSessions, Doc{Summary: "Sessions active now", Tags: tags,
		Description: "Sessions with an event in the last `within`.",
		Query:       []Param{{Name: "within", Description: "a duration from 1m to 30d (30m, 1h, 1d…; default 30m)"}}, Response: activeAnswer{}})
}

// parseDuration reads 30m, 1h, 1d or 1w (and anything time.ParseDuration reads).
func parseDuration(v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		d, err := strconv.Atoi(n)
		if err == nil && (d < 0 || d > 100000) {
			err = fmt.Errorf("%s: too many days", v)
		}
		return time.Duration(d) * 24 * time.Hour, err
	}
	if n, ok := strings.CutSuffix(v, "w"); ok {
		d, err := strconv.Atoi(n)
		if err == nil && (d < 0 || d > 10000) {
			err = fmt.Errorf("%s: too many weeks", v)
		}
		return time.Duration(d) * storage.Week, err
	}
	return time.ParseDuration(v)
}

func parseInstant(field, v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, invalid(field, "must be a time such as 2026-01-31T12:00:00Z or a date such as 2026-01-31")
}

// reportRange reads ?from and ?to, or ?range back from to.
func reportRange(q url.Values) (from, to time.Time, err error) {
	to = time.Now().UTC()
	if v := q.Get("to"); v != "" {
		if to, err = parseInstant("to", v); err != nil {
			return
		}
	}
	span := 24 * time.Hour
	if v := q.Get("range"); v != "" {
		if q.Get("from") != "" {
			return from, to, invalid("range", "give from or range, not both")
		}
		if span, err = parseDuration(v); err != nil || span < time.Minute || span > 366*24*time.Hour {
			return from, to, invalid("range", "must be a duration from 1m to 366d, such as 24h, 7d or 30d")
		}
	}
	from = to.Add(-span)
	if v := q.Get("from"); v != "" {
		if from, err = parseInstant("from", v); err != nil {
			return
		}
	}
	if !from.Before(to) {
		err = invalid("from", "must be before to")
	}
	return
}

// histogramQuery reads the parameters of a histogram; scope names the where's scope
// ("" when where is not accepted).
func histogramQuery(q url.Values, scope string) (storage.Histogram, string, error) {
	var h storage.Histogram
	var err error
	if h.From, h.To, err = reportRange(q); err != nil {
		return h, "", err
	}
	name := q.Get("interval")
	if name == "" {
		name = "1h"
	}
	var ok bool
	if h.Interval, ok = storage.Intervals[name]; !ok {
		return h, "", invalid("interval", "must be 1m, 1h, 1d or 1w")
	}
	if n := h.To.Sub(storage.BucketStart(h.From, h.Interval)) / h.Interval; n >= maxBuckets {
		return h, "", invalid("interval", fmt.Sprintf("gives %d buckets from from to to, more than %d: choose a larger one or a shorter range", n+1, maxBuckets))
	}
	if scope != "" {
		if h.Where, err = whereOf(q, scope); err != nil {
			return h, "", err
		}
	}
	return h, name, nil
}

func whereOf(q url.Values, scope string) (query.Expr, error) {
	if v := strings.TrimSpace(q.Get("where")); v != "" {
		return parseScoped("where", v, scope)
	}
	return nil, nil
}

func (s *Server) histogram(w http.ResponseWriter, r *http.Request, scope string, run func(*http.Request, storage.Histogram) ([]storage.Bucket, error)) {
	h, name, err := histogramQuery(r.URL.Query(), scope)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	got, err := run(r, h)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ans := histogramAnswer{From: domain.NewTime(h.From), To: domain.NewTime(h.To), Interval: name,
		Buckets: storage.FillBuckets(got, h.From, h.To, h.Interval)}
	for _, b := range got {
		ans.Total += b.Count
	}
	writeJSON(w, http.StatusOK, ans)
}

func (s *Server) eventHistogram(w http.ResponseWriter, r *http.Request) {
	s.histogram(w, r, "event", func(r *http.Request, h storage.Histogram) ([]storage.Bucket, error) {
		return s.deps.Store.Reports().EventHistogram(r.Context(), h)
	})
}

func (s *Server) newProfiles(w http.ResponseWriter, r *http.Request) {
	s.histogram(w, r, "", func(r *http.Request, h storage.Histogram) ([]storage.Bucket, error) {
		return s.deps.Store.Reports().NewProfiles(r.Context(), h)
	})
}

// breakdownQuery reads the parameters of a breakdown.
func breakdownQuery(q url.Values) (storage.Breakdown, error) {
	b := storage.Breakdown{Field: q.Get("by"), Limit: 10}
	if _, ok := storage.BreakdownFields[b.Field]; !ok {
		return b, invalid("by", "must be one of type, source, channel, device_type, os, country")
	}
	var err error
	if b.From, b.To, err = reportRange(q); err != nil {
		return b, err
	}
	if v := q.Get("limit"); v != "" {
		if b.Limit, err = strconv.Atoi(v); err != nil || b.Limit < 1 || b.Limit > 1000 {
			return b, invalid("limit", "must be an integer from 1 to 1000")
		}
	}
	if b.Where, err = whereOf(q, "event"); err != nil {
		return b, err
	}
	return b, nil
}

func (s *Server) eventBreakdown(w http.ResponseWriter, r *http.Request) {
	b, err := breakdownQuery(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items, err := s.deps.Store.Reports().EventBreakdown(r.Context(), b)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, breakdownAnswer{By: b.Field, From: domain.NewTime(b.From), To: domain.NewTime(b.To), Items: items})
}

// activeWithin reads ?within of the active-sessions report.
func activeWithin(q url.Values) (string, time.Duration, error) {
	within := q.Get("within")
	if within == "" {
		within = "30m"
	}
	d, err := parseDuration(within)
	if err != nil || d < time.Minute || d > 30*24*time.Hour {
		return within, 0, invalid("within", "must be a duration from 1m to 30d, such as 30m")
	}
	return within, d, nil
}

func (s *Server) activeSessions(w http.ResponseWriter, r *http.Request) {
	within, d, err := activeWithin(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	since := time.Now().UTC().Add(-d)
	n, err := s.deps.Store.Reports().ActiveSessions(r.Context(), since)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, activeAnswer{Within: within, Since: domain.NewTime(since), Count: n})
}
