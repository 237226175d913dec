package sqlite

import (
	"context"
	"fmt"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

type erasure struct{ s *Store }

// Erasure implements storage.Store.
func (s *Store) Erasure() storage.Erasure { return erasure{s} }

// SessionsOf implements storage.Erasure (sessions are indexed by profile_id).
func (e erasure) SessionsOf(ctx context.Context, profileIDs []string, limit int) ([]*domain.Session, error) {
	if len(profileIDs) == 0 || limit <= 0 {
		return nil, nil
	}
	rows, err := e.s.r.QueryContext(ctx, `SELECT doc FROM sessions WHERE profile_id IN (`+placeholders(len(profileIDs))+`) ORDER BY created, id LIMIT ?`,
		append(anys(profileIDs), limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing sessions: %w: %w", storage.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []*domain.Session
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("listing sessions: %w", err)
		}
		x, err := domain.DecodeDoc[domain.Session](doc)
		if err != nil {
			return nil, fmt.Errorf("decoding session: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// EventsOf implements storage.Erasure.
func (e erasure) EventsOf(ctx context.Context, profileIDs []string, limit int) ([]*domain.Event, int64, error) {
	return e.s.events.ListByProfile(ctx, profileIDs, storage.Page{Limit: limit})
}

// Erase implements storage.Erasure in one transaction on the writer's connection (the
// pool holds one, so it takes its turn between the writer's group commits).
func (e erasure) Erase(ctx context.Context, profileIDs []string) (storage.Erased, error) {
	var n storage.Erased
	if len(profileIDs) == 0 {
		return n, nil
	}
	tx, err := e.s.w.BeginTx(ctx, nil)
	if err != nil {
		return n, fmt.Errorf("erasing: %w: %w", storage.ErrUnavailable, err)
	}
	defer tx.Rollback()
	in, args := `(`+placeholders(len(profileIDs))+`)`, anys(profileIDs)
	for _, st := range []struct {
		q   string
		dst *int64
	}{
		{`DELETE FROM events WHERE profile_id IN ` + in, &n.Events},
		{`DELETE FROM sessions WHERE profile_id IN ` + in, &n.Sessions},
		{`DELETE FROM profiles WHERE id IN ` + in, &n.Profiles},
	} {
		res, err := tx.ExecContext(ctx, st.q, args...)
		if err != nil {
			return storage.Erased{}, fmt.Errorf("erasing: %w: %w", storage.ErrUnavailable, err)
		}
		*st.dst, _ = res.RowsAffected()
	}
	if err := tx.Commit(); err != nil {
		return storage.Erased{}, fmt.Errorf("erasing: %w: %w", storage.ErrUnavailable, err)
	}
	return n, nil
}

// DeleteSession implements storage.Erasure.
func (e erasure) DeleteSession(ctx context.Context, id string) error {
	return e.deleteOne(ctx, `DELETE FROM sessions WHERE id = ?`, "session", id)
}

// DeleteEvent implements storage.Erasure.
func (e erasure) DeleteEvent(ctx context.Context, id string) error {
	return e.deleteOne(ctx, `DELETE FROM events WHERE id = ?`, "event", id)
}

func (e erasure) deleteOne(ctx context.Context, q, what, id string) error {
	res, err := e.s.w.ExecContext(ctx, q, id)
	if err != nil {
		return fmt.Errorf("deleting %s %q: %w: %w", what, id, storage.ErrUnavailable, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s %q: %w", what, id, storage.ErrNotFound)
	}
	return nil
}
