package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query/esdsl"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

type reports struct{ s *Store }

// Reports implements storage.Store.
func (s *Store) Reports() storage.Reports { return reports{s} }

// insertDate is the date sub-field of the insert time every document carries.
const insertDate = "metadata.time.insert." + esdsl.DateSubfield

// rangeOf selects documents inserted in [from, to); a zero to leaves the end open.
func rangeOf(from, to time.Time) map[string]any {
	r := map[string]any{"gte": from.UTC().Format(time.RFC3339Nano), "format": "strict_date_optional_time"}
	if !to.IsZero() {
		r["lt"] = to.UTC().Format(time.RFC3339Nano)
	}
	return map[string]any{"range": map[string]any{insertDate: r}}
}

// aggregate runs a size-0 search with filters and one aggregation named "a" on kind,
// and decodes the aggregation into out.
func (r reports) aggregate(ctx context.Context, kind string, filters []any, agg map[string]any, out any) error {
	s := r.s
	if err := s.readOwnWrites(ctx, kind); err != nil {
		return err
	}
	var res struct {
		Aggregations struct {
			A json.RawMessage `json:"a"`
		} `json:"aggregations"`
	}
	err := s.c.doJSON(ctx, http.MethodPost, "/"+s.names.alias(kind)+"/_search", map[string]any{
		"size": 0, "track_total_hits": false,
		"query": map[string]any{"bool": map[string]any{"filter": filters}},
		"aggs":  map[string]any{"a": agg},
	}, &res)
	if err != nil {
		return classify("reporting on "+s.names.alias(kind), err)
	}
	if len(res.Aggregations.A) == 0 {
		return nil
	}
	return json.Unmarshal(res.Aggregations.A, out)
}

func (r reports) histogram(ctx context.Context, kind, scope string, q storage.Histogram) ([]storage.Bucket, error) {
	if q.Interval < time.Second {
		return nil, fmt.Errorf("interval: must be at least a second: %w", storage.ErrInvalid)
	}
	filters, err := r.s.filterFor(ctx, kind, scope, q.Where, q.Now)
	if err != nil {
		return nil, err
	}
	filters = append(filters, rangeOf(q.From, q.To))
	h := map[string]any{"field": insertDate, "fixed_interval": fmt.Sprintf("%ds", int64(q.Interval/time.Second)), "min_doc_count": 1}
	if q.Interval == storage.Week {
		h["offset"] = fmt.Sprintf("+%ds", int64(storage.WeekOffset/time.Second))
	}
	var agg struct {
		Buckets []struct {
			Key   int64 `json:"key"`
			Count int64 `json:"doc_count"`
		} `json:"buckets"`
	}
	if err := r.aggregate(ctx, kind, filters, map[string]any{"date_histogram": h}, &agg); err != nil {
		return nil, err
	}
	out := make([]storage.Bucket, 0, len(agg.Buckets))
	for _, b := range agg.Buckets {
		out = append(out, storage.Bucket{Start: time.UnixMilli(b.Key).UTC(), Count: b.Count})
	}
	return out, nil
}

// EventHistogram implements storage.Reports with a date_histogram.
func (r reports) EventHistogram(ctx context.Context, q storage.Histogram) ([]storage.Bucket, error) {
	return r.histogram(ctx, kindEvents, "event", q)
}

// NewProfiles implements storage.Reports (filterFor leaves merged profiles out).
func (r reports) NewProfiles(ctx context.Context, q storage.Histogram) ([]storage.Bucket, error) {
	return r.histogram(ctx, kindProfiles, "profile", q)
}

// EventBreakdown implements storage.Reports with a terms aggregation.
func (r reports) EventBreakdown(ctx context.Context, q storage.Breakdown) ([]storage.Count, error) {
	path, ok := storage.BreakdownFields[q.Field]
	if !ok {
		return nil, fmt.Errorf("by: %q is not a breakdown: %w", q.Field, storage.ErrInvalid)
	}
	if q.Limit <= 0 {
		q.Limit = 10
	}
	filters, err := r.s.filterFor(ctx, kindEvents, "event", q.Where, q.Now)
	if err != nil {
		return nil, err
	}
	filters = append(filters, rangeOf(q.From, q.To))
	var agg struct {
		Buckets []struct {
			Key   any   `json:"key"`
			Count int64 `json:"doc_count"`
		} `json:"buckets"`
	}
	terms := map[string]any{"field": path, "size": q.Limit, "exclude": []string{""},
		"order": []any{map[string]any{"_count": "desc"}, map[string]any{"_key": "asc"}}}
	if err := r.aggregate(ctx, kindEvents, filters, map[string]any{"terms": terms}, &agg); err != nil {
		return nil, err
	}
	out := make([]storage.Count, 0, len(agg.Buckets))
	for _, b := range agg.Buckets {
		out = append(out, storage.Count{Value: fmt.Sprint(b.Key), Count: b.Count})
	}
	return out, nil
}

// ActiveSessions implements storage.Reports with a cardinality aggregation (exact up
// to 40000 sessions, approximate beyond).
func (r reports) ActiveSessions(ctx context.Context, since time.Time) (int64, error) {
	var agg struct {
		Value int64 `json:"value"`
	}
	err := r.aggregate(ctx, kindEvents, []any{rangeOf(since, time.Time{})},
		map[string]any{"cardinality": map[string]any{"field": "session.id", "precision_threshold": 40000}}, &agg)
	return agg.Value, err
}
