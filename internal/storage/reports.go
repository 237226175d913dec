package storage

import (
	"context"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query"
)

// Reports computes the GUI's dashboard figures in the store (SQL GROUP BY on the
// embedded backend, aggregations on Elasticsearch/OpenSearch), never by loading
// documents. Times are documents' metadata.time.insert.
type Reports interface {
	// EventHistogram counts the events inserted in [From, To) that match Where, per
	// bucket of Interval. Only buckets with events are returned, oldest first (see
	// FillBuckets).
	EventHistogram(ctx context.Context, q Histogram) ([]Bucket, error)
	// NewProfiles counts the live (not merged) profiles created in [From, To) per
	// bucket of Interval (Where applies to profiles).
	NewProfiles(ctx context.Context, q Histogram) ([]Bucket, error)
	// EventBreakdown counts the events inserted in [From, To) that match Where by
	// their value at Field (one of BreakdownFields), most frequent first, at most
	// Limit values; events without a value there are not counted.
	EventBreakdown(ctx context.Context, q Breakdown) ([]Count, error)
	// ActiveSessions counts the sessions that had an event inserted at or after since.
	ActiveSessions(ctx context.Context, since time.Time) (int64, error)
}

// Histogram selects a count over time. Buckets start at multiples of Interval since
// the Unix epoch, except weeks, which start on Monday 00:00 UTC.
type Histogram struct {
	From, To time.Time
	Interval time.Duration // one of Intervals
	Where    query.Expr    // nil: every document
	Now      time.Time     // what now() stands for in Where; zero: the current time
}

// Intervals are the histogram intervals backends support, by name.
var Intervals = map[string]time.Duration{"1m": time.Minute, "1h": time.Hour, "1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour}

// Week is the weekly interval; WeekOffset is how far its buckets are shifted from the
// epoch (a Thursday) so that they start on Mondays.
const (
	Week       = 7 * 24 * time.Hour
	WeekOffset = 4 * 24 * time.Hour
)

// BucketStart returns the start of the bucket of interval that holds t.
func BucketStart(t time.Time, interval time.Duration) time.Time {
	var off time.Duration
	if interval == Week {
		off = WeekOffset
	}
	ns := t.UTC().UnixNano() - int64(off)
	b := ns - ((ns%int64(interval))+int64(interval))%int64(interval)
	return time.Unix(0, b+int64(off)).UTC()
}

// Bucket is one interval of a histogram.
type Bucket struct {
	Start time.Time `json:"start"`
	Count int64     `json:"count"`
}

// FillBuckets returns every bucket of interval from the one holding from up to to
// (exclusive), with the counts of got and zero elsewhere.
func FillBuckets(got []Bucket, from, to time.Time, interval time.Duration) []Bucket {
	counts := make(map[int64]int64, len(got))
	for _, b := range got {
		counts[b.Start.UnixNano()] += b.Count
	}
	out := []Bucket{}
	for t := BucketStart(from, interval); t.Before(to); t = t.Add(interval) {
		out = append(out, Bucket{Start: t, Count: counts[t.UnixNano()]})
	}
	return out
}

// Breakdown selects counts of events by the value of one field.
type Breakdown struct {
	From, To time.Time
	Field    string // a value of BreakdownFields
	Where    query.Expr
	Limit    int
	Now      time.Time
}

// BreakdownFields maps the breakdowns the API offers to the event paths they count.
var BreakdownFields = map[string]string{
	"type":        "type",
	"source":      "source.id",
	"channel":     "metadata.channel",
	"device_type": "device.type",
	"os":          "os.name",
	"country":     "device.geo.country",
}

// Count is one value of a breakdown.
type Count struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}
