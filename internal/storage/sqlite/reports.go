package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

type reports struct{ s *Store }

// Reports implements storage.Store.
func (s *Store) Reports() storage.Reports { return reports{s} }

func stamp(t time.Time) string { return domain.NewTime(t).String() }

// histogram groups t's rows whose time column col is in [From, To) by bucket: stored
// times share one fixed layout, so the range is a string range on the indexed column,
// and strftime gives the bucket.
func (r reports) histogram(ctx context.Context, t table, col string, q storage.Histogram) ([]storage.Bucket, error) {
	if q.Interval < time.Second {
		return nil, fmt.Errorf("interval: must be at least a second: %w", storage.ErrInvalid)
	}
	step := int64(q.Interval / time.Second)
	var off int64
	if q.Interval == storage.Week {
		off = int64(storage.WeekOffset / time.Second)
	}
	where, args, err := t.where(storage.Query{Where: q.Where, Now: q.Now}, col+" >= ?", col+" < ?")
	if err != nil {
		return nil, err
	}
	args = append([]any{off, step, stamp(q.From), stamp(q.To)}, args...)
	rows, err := r.s.r.QueryContext(ctx, `SELECT (CAST(strftime('%s', `+col+`) AS INTEGER) - ?) / ? AS b, count(*) FROM `+t.name+
		` AS d WHERE `+where+` GROUP BY b ORDER BY b`, args...)
	if err != nil {
		return nil, fmt.Errorf("reporting on %s: %w: %w", t.name, storage.ErrUnavailable, err)
	}
	defer rows.Close()
	out := []storage.Bucket{}
	for rows.Next() {
		var b, n int64
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("reporting on %s: %w: %w", t.name, storage.ErrUnavailable, err)
		}
		out = append(out, storage.Bucket{Start: time.Unix(b*step+off, 0).UTC(), Count: n})
	}
	return out, rows.Err()
}

// EventHistogram implements storage.Reports. Without a condition, and with buckets made
// of whole hours, the whole hours of [From, To) are read from event_counts and only the
// partial hours at either end from events (through events_inserted).
func (r reports) EventHistogram(ctx context.Context, q storage.Histogram) ([]storage.Bucket, error) {
	step, off := int64(q.Interval/time.Second), int64(0)
	if q.Interval == storage.Week {
		off = int64(storage.WeekOffset / time.Second)
	}
	first, last, ok := wholeHours(q.From, q.To)
	if q.Where != nil || q.Interval < time.Hour || step%3600 != 0 || off%3600 != 0 || !ok {
		return r.histogram(ctx, eventTable, "d.inserted", q)
	}
	counts := map[int64]int64{}
	rows, err := r.s.r.QueryContext(ctx, `SELECT (hour * 3600 - ?) / ? AS b, sum(n) FROM event_counts WHERE hour >= ? AND hour < ? GROUP BY b`,
		off, step, first, last)
	if err != nil {
		return nil, fmt.Errorf("reporting on events: %w: %w", storage.ErrUnavailable, err)
	}
	for rows.Next() {
		var b, n int64
		if err := rows.Scan(&b, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reporting on events: %w: %w", storage.ErrUnavailable, err)
		}
		counts[b] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reporting on events: %w: %w", storage.ErrUnavailable, err)
	}
	for _, edge := range [][2]time.Time{{q.From, time.Unix(first*3600, 0)}, {time.Unix(last*3600, 0), q.To}} {
		if !edge[0].Before(edge[1]) {
			continue
		}
		e := q
		e.From, e.To = edge[0], edge[1]
		part, err := r.histogram(ctx, eventTable, "d.inserted", e)
		if err != nil {
			return nil, err
		}
		for _, b := range part {
			counts[(b.Start.Unix()-off)/step] += b.Count
		}
	}
	out := make([]storage.Bucket, 0, len(counts))
	for b, n := range counts {
		out = append(out, storage.Bucket{Start: time.Unix(b*step+off, 0).UTC(), Count: n})
	}
	slices.SortFunc(out, func(a, b storage.Bucket) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// wholeHours returns the hours (unix seconds / 3600) of the whole hours inside [from,
// to): [first, last). ok is false when there are none.
func wholeHours(from, to time.Time) (first, last int64, ok bool) {
	first = from.Unix() / 3600
	if from.Unix()%3600 != 0 || from.Nanosecond() != 0 {
		first++
	}
	last = to.Unix() / 3600
	return first, last, from.Unix() >= 0 && first < last
}

// NewProfiles implements storage.Reports.
func (r reports) NewProfiles(ctx context.Context, q storage.Histogram) ([]storage.Bucket, error) {
	return r.histogram(ctx, r.s.profileTable, "d.created", q)
}

// EventBreakdown implements storage.Reports.
func (r reports) EventBreakdown(ctx context.Context, q storage.Breakdown) ([]storage.Count, error) {
	path, ok := storage.BreakdownFields[q.Field]
	if !ok {
		return nil, fmt.Errorf("by: %q is not a breakdown: %w", q.Field, storage.ErrInvalid)
	}
	if q.Limit <= 0 {
		q.Limit = 10
	}
	first, last, whole := wholeHours(q.From, q.To)
	if path == "type" && q.Where == nil && whole {
		return r.typeBreakdown(ctx, q, first, last)
	}
	expr := "d.type"
	if path != "type" {
		// The paths are the fixed ones of BreakdownFields.
		expr = `CAST(json_extract(d.doc, '$.` + path + `') AS TEXT)`
	}
	where, args, err := eventTable.where(storage.Query{Where: q.Where, Now: q.Now}, "d.inserted >= ?", "d.inserted < ?")
	if err != nil {
		return nil, err
	}
	args = append(append([]any{stamp(q.From), stamp(q.To)}, args...), q.Limit)
	rows, err := r.s.r.QueryContext(ctx, `SELECT v, count(*) AS n FROM (SELECT `+expr+` AS v FROM events AS d WHERE `+where+
		`) WHERE v IS NOT NULL AND v != '' GROUP BY v ORDER BY n DESC, v LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("reporting on events: %w: %w", storage.ErrUnavailable, err)
	}
	defer rows.Close()
	out := []storage.Count{}
	for rows.Next() {
		var c storage.Count
		var v sql.NullString
		if err := rows.Scan(&v, &c.Count); err != nil {
			return nil, fmt.Errorf("reporting on events: %w: %w", storage.ErrUnavailable, err)
		}
		c.Value = strings.Clone(v.String)
		out = append(out, c)
	}
	return out, rows.Err()
}

// edgeTypeCounts counts the events of a partial hour by type: on events_inserted
// (inserted, type) alone, without reading the rows (schema version 5).
const edgeTypeCounts = `SELECT type, count(*) FROM events WHERE inserted >= ? AND inserted < ? GROUP BY type`

// typeBreakdown counts events by type without a condition: the whole hours [first,
// last) from event_counts, the partial hours at either end of [From, To) from events.
func (r reports) typeBreakdown(ctx context.Context, q storage.Breakdown, first, last int64) ([]storage.Count, error) {
	counts := map[string]int64{}
	read := func(query string, args ...any) error {
		rows, err := r.s.r.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("reporting on events: %w: %w", storage.ErrUnavailable, err)
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			var n int64
			if err := rows.Scan(&v, &n); err != nil {
				return fmt.Errorf("reporting on events: %w: %w", storage.ErrUnavailable, err)
			}
			counts[strings.Clone(v)] += n
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reporting on events: %w: %w", storage.ErrUnavailable, err)
		}
		return nil
	}
	if err := read(`SELECT type, sum(n) FROM event_counts WHERE hour >= ? AND hour < ? GROUP BY type`, first, last); err != nil {
		return nil, err
	}
	for _, edge := range [][2]time.Time{{q.From, time.Unix(first*3600, 0)}, {time.Unix(last*3600, 0), q.To}} {
		if !edge[0].Before(edge[1]) {
			continue
		}
		if err := read(edgeTypeCounts, stamp(edge[0]), stamp(edge[1])); err != nil {
			return nil, err
		}
	}
	out := make([]storage.Count, 0, len(counts))
	for v, n := range counts {
		if v != "" && n > 0 {
			out = append(out, storage.Count{Value: v, Count: n})
		}
	}
	slices.SortFunc(out, func(a, b storage.Count) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out[:min(len(out), q.Limit)], nil
}

// ActiveSessions implements storage.Reports.
func (r reports) ActiveSessions(ctx context.Context, since time.Time) (int64, error) {
	return count(ctx, r.s.r, `SELECT count(DISTINCT session_id) FROM events WHERE inserted >= ?`, stamp(since))
}
