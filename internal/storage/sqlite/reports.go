package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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

// EventHistogram implements storage.Reports.
func (r reports) EventHistogram(ctx context.Context, q storage.Histogram) ([]storage.Bucket, error) {
	return r.histogram(ctx, eventTable, "d.inserted", q)
}

// NewProfiles implements storage.Reports.
func (r reports) NewProfiles(ctx context.Context, q storage.Histogram) ([]storage.Bucket, error) {
	return r.histogram(ctx, profileTable, "d.created", q)
}

// EventBreakdown implements storage.Reports.
func (r reports) EventBreakdown(ctx context.Context, q storage.Breakdown) ([]storage.Count, error) {
	path, ok := storage.BreakdownFields[q.Field]
	if !ok {
		return nil, fmt.Errorf("by: %q is not a breakdown: %w", q.Field, storage.ErrInvalid)
	}
	expr := "d.type"
	if path != "type" {
		// The paths are the fixed ones of BreakdownFields.
		expr = `CAST(json_extract(d.doc, '$.` + path + `') AS TEXT)`
	}
	if q.Limit <= 0 {
		q.Limit = 10
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

// ActiveSessions implements storage.Reports.
func (r reports) ActiveSessions(ctx context.Context, since time.Time) (int64, error) {
	return count(ctx, r.s.r, `SELECT count(DISTINCT session_id) FROM events WHERE inserted >= ?`, stamp(since))
}
