package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

type entities struct{ s *Store }

func (e *entities) Get(ctx context.Context, kind, id string) (*storage.Entity, error) {
	ent := &storage.Entity{Kind: kind, ID: id}
	var doc []byte
	err := e.s.r.QueryRowContext(ctx, `SELECT version, doc FROM entities WHERE kind = ? AND id = ?`, kind, id).Scan(&ent.Version, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s %q: %w", kind, id, storage.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %q: %w: %w", kind, id, storage.ErrUnavailable, err)
	}
	ent.Doc = doc
	return ent, nil
}

func (e *entities) List(ctx context.Context, kind string, o storage.ListOptions) ([]*storage.Entity, int64, error) {
	total, err := count(ctx, e.s.r, `SELECT count(*) FROM entities WHERE kind = ?`, kind)
	if err != nil {
		return nil, 0, err
	}
	limit := o.Limit
	if limit <= 0 {
		limit = -1
	}
	rows, err := e.s.r.QueryContext(ctx, `SELECT id, version, doc FROM entities WHERE kind = ? ORDER BY id LIMIT ? OFFSET ?`, kind, limit, o.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("listing %s: %w: %w", kind, storage.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []*storage.Entity
	for rows.Next() {
		ent := &storage.Entity{Kind: kind}
		var doc []byte
		if err := rows.Scan(&ent.ID, &ent.Version, &doc); err != nil {
			return nil, 0, fmt.Errorf("listing %s: %w", kind, err)
		}
		ent.Doc = doc
		out = append(out, ent)
	}
	return out, total, rows.Err()
}

func (e *entities) Put(ctx context.Context, ent *storage.Entity, ifVersion int64) (int64, error) {
	tx, err := e.s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("storing %s %q: %w: %w", ent.Kind, ent.ID, storage.ErrUnavailable, err)
	}
	defer tx.Rollback()
	var current int64
	err = tx.QueryRowContext(ctx, `SELECT version FROM entities WHERE kind = ? AND id = ?`, ent.Kind, ent.ID).Scan(&current)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("storing %s %q: %w: %w", ent.Kind, ent.ID, storage.ErrUnavailable, err)
	}
	switch {
	case ifVersion == 0 && current != 0:
		return 0, fmt.Errorf("%s %q already exists: %w", ent.Kind, ent.ID, storage.ErrConflict)
	case ifVersion > 0 && current == 0:
		return 0, fmt.Errorf("%s %q: %w", ent.Kind, ent.ID, storage.ErrNotFound)
	case ifVersion > 0 && current != ifVersion:
		return 0, fmt.Errorf("%s %q is at version %d, not %d: %w", ent.Kind, ent.ID, current, ifVersion, storage.ErrConflict)
	}
	next := current + 1
	_, err = tx.ExecContext(ctx, `INSERT INTO entities(kind, id, version, updated, doc) VALUES(?,?,?,?,?)
		ON CONFLICT(kind, id) DO UPDATE SET version=excluded.version, updated=excluded.updated, doc=excluded.doc`,
		ent.Kind, ent.ID, next, domain.Now().String(), []byte(ent.Doc))
	if err != nil {
		return 0, fmt.Errorf("storing %s %q: %w: %w", ent.Kind, ent.ID, storage.ErrUnavailable, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("storing %s %q: %w: %w", ent.Kind, ent.ID, storage.ErrUnavailable, err)
	}
	return next, nil
}

func (e *entities) Delete(ctx context.Context, kind, id string) error {
	res, err := e.s.w.ExecContext(ctx, `DELETE FROM entities WHERE kind = ? AND id = ?`, kind, id)
	if err != nil {
		return fmt.Errorf("deleting %s %q: %w: %w", kind, id, storage.ErrUnavailable, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s %q: %w", kind, id, storage.ErrNotFound)
	}
	return nil
}
