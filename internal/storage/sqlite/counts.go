package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// eventHour is a row of event_counts: an hour (unix seconds / 3600 of inserted) and a
// type.
type eventHour struct {
	hour int64
	typ  string
}

// hourOf returns the hour of a stored time (domain.TimeLayout), or false for "" (a zero
// time, which no report counts).
func hourOf(inserted string) (int64, bool) {
	if len(inserted) < 13 {
		return 0, false
	}
	t, err := time.Parse("2006-01-02T15", inserted[:13])
	if err != nil {
		return 0, false
	}
	return t.Unix() / 3600, true
}

// insertEvents runs the multi-row insert st of events and counts the ones it stored
// (RETURNING leaves out the ids already stored) by hour and type into s.counts, which
// writeCounts adds to event_counts in the same transaction. Counting here costs far less
// than a trigger per inserted row (docs/performance.md); deletions are counted down by
// the events_count_delete trigger.
func (s *Store) insertEvents(ctx context.Context, st *sql.Stmt, args []any) (int, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	if s.counts == nil {
		s.counts = map[eventHour]int64{}
	}
	n := 0
	var typ, inserted sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&typ, &inserted); err != nil {
			return 0, err
		}
		n++
		if h, ok := hourOf(string(inserted)); ok {
			s.counts[eventHour{h, string(typ)}]++
		}
	}
	return n, rows.Err()
}

// writeCounts adds the counts insertEvents gathered to event_counts.
func (s *Store) writeCounts(ctx context.Context, tx *sql.Tx) error {
	if len(s.counts) == 0 {
		return nil
	}
	st := tx.Stmt(s.countEvents)
	for k, n := range s.counts {
		if _, err := st.ExecContext(ctx, k.hour, k.typ, n); err != nil {
			return err
		}
	}
	clear(s.counts)
	return nil
}
