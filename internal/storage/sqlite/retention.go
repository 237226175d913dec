package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// retentionBatch is how many events one retention step deletes: a step is one
// short transaction on the writer's connection, taken between group commits, so
// /track waits for at most one step (a few milliseconds).
const retentionBatch = 2000

// DeleteEventsBefore implements storage.EventRetention by deleting the oldest events
// retentionBatch at a time (through the events_inserted index).
func (s *Store) DeleteEventsBefore(ctx context.Context, t time.Time, progress func(int64)) (int64, error) {
	var total int64
	before := stamp(t)
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		res, err := s.w.ExecContext(ctx, `DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE inserted < ? ORDER BY inserted LIMIT ?)`,
			before, retentionBatch)
		if err != nil {
			return total, fmt.Errorf("deleting old events: %w: %w", storage.ErrUnavailable, err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n > 0 && progress != nil {
			progress(n)
		}
		if n < retentionBatch {
			return total, nil
		}
	}
}

var _ storage.EventRetention = (*Store)(nil)
