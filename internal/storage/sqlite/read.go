package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

type profiles struct{ s *Store }
type sessions struct{ s *Store }
type events struct{ s *Store }

// getDoc reads one document with a statement prepared once for the read pool (it is
// prepared on each pooled connection the first time that connection runs it; preparing
// per call was 4% of the CPU with 100,000 profiles, where most lookups miss the cache).
func getDoc[T any](ctx context.Context, st *sql.Stmt, what, id string) (*T, error) {
	var doc []byte
	err := st.QueryRowContext(ctx, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s %q: %w", what, id, storage.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %q: %w: %w", what, id, storage.ErrUnavailable, err)
	}
	v, err := domain.DecodeDoc[T](doc)
	if err != nil {
		return nil, fmt.Errorf("decoding %s %q: %w", what, id, err)
	}
	return v, nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func count(ctx context.Context, db querier, query string, args ...any) (int64, error) {
	var n int64
	if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting: %w: %w", storage.ErrUnavailable, err)
	}
	return n, nil
}

func (p *profiles) Get(ctx context.Context, id string) (*domain.Profile, error) {
	v, err := getDoc[domain.Profile](ctx, p.s.getProfile, "profile", id)
	if err != nil {
		return nil, err
	}
	v.Normalize()
	return v, nil
}

func (p *profiles) Count(ctx context.Context) (int64, error) {
	return count(ctx, p.s.r, `SELECT count(*) FROM profiles WHERE merged_into IS NULL`)
}

// keyExpr is the SQL expression of a profile's value at the dotted path (a ValidKeyPath).
func keyExpr(path string) string { return "json_extract(doc, '$." + path + "')" }

// indexKey makes sure the expression index FindByKey uses for path exists (CREATE INDEX
// IF NOT EXISTS is cheap when it does). The index leaves out profiles without the key
// (most of them): their updates then write no index page. "expr = ?" implies "expr IS
// NOT NULL", so SQLite still uses it for the lookup. Building it reads every profile
// (~0.6 s with 100,000) on the writer's connection, so every commit waits meanwhile:
// Open builds the configured merge keys' indexes (Config.KeyPaths), and only paths
// named elsewhere (a workflow's merge node) are indexed on first use.
func (s *Store) indexKey(ctx context.Context, path string) error {
	if _, done := s.keyIndexes.Load(path); done {
		return nil
	}
	if !domain.ValidKeyPath(path) {
		return fmt.Errorf("key path %q: %w", path, storage.ErrInvalid)
	}
	expr := keyExpr(path)
	name := "profiles_key_" + strings.ReplaceAll(path, ".", "_")
	if _, err := s.w.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS `+name+` ON profiles(`+expr+`) WHERE merged_into IS NULL AND `+expr+` IS NOT NULL`); err != nil {
		return fmt.Errorf("indexing profiles by %s: %w: %w", path, storage.ErrUnavailable, err)
	}
	s.keyIndexes.Store(path, true)
	return nil
}

// FindByKey looks profiles up in the expression index of path (indexKey).
func (p *profiles) FindByKey(ctx context.Context, path, value string, limit int) ([]*domain.Profile, error) {
	if !domain.ValidKeyPath(path) {
		return nil, fmt.Errorf("key path %q: %w", path, storage.ErrInvalid)
	}
	if err := p.s.indexKey(ctx, path); err != nil {
		return nil, err
	}
	expr := keyExpr(path)
	rows, err := p.s.r.QueryContext(ctx, `SELECT doc FROM profiles WHERE `+expr+` = ? AND merged_into IS NULL ORDER BY created, id LIMIT ?`, value, limit)
	if err != nil {
		return nil, fmt.Errorf("finding profiles by %s: %w: %w", path, storage.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []*domain.Profile
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("finding profiles by %s: %w", path, err)
		}
		pr, err := domain.DecodeDoc[domain.Profile](doc)
		if err != nil {
			return nil, fmt.Errorf("decoding profile: %w", err)
		}
		pr.Normalize()
		out = append(out, pr)
	}
	return out, rows.Err()
}

func (x *sessions) Get(ctx context.Context, id string) (*domain.Session, error) {
	return getDoc[domain.Session](ctx, x.s.getSession, "session", id)
}

func (x *sessions) Count(ctx context.Context) (int64, error) {
	return count(ctx, x.s.r, `SELECT count(*) FROM sessions`)
}

func (e *events) Get(ctx context.Context, id string) (*domain.Event, error) {
	return getDoc[domain.Event](ctx, e.s.getEvent, "event", id)
}

func (e *events) Count(ctx context.Context) (int64, error) {
	return count(ctx, e.s.r, `SELECT count(*) FROM events`)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (e *events) Existing(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool)
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := e.s.r.QueryContext(ctx, `SELECT id FROM events WHERE id IN (`+placeholders(len(ids))+`)`, anys(ids)...)
	if err != nil {
		return nil, fmt.Errorf("checking event ids: %w: %w", storage.ErrUnavailable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("checking event ids: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

func (e *events) ListByProfile(ctx context.Context, profileIDs []string, page storage.Page) ([]*domain.Event, int64, error) {
	if len(profileIDs) == 0 {
		return nil, 0, nil
	}
	in := `profile_id IN (` + placeholders(len(profileIDs)) + `)`
	total, err := count(ctx, e.s.r, `SELECT count(*) FROM events WHERE `+in, anys(profileIDs)...)
	if err != nil {
		return nil, 0, err
	}
	args := append(anys(profileIDs), page.Limit, page.Offset)
	rows, err := e.s.r.QueryContext(ctx, `SELECT doc FROM events WHERE `+in+` ORDER BY inserted DESC, seq DESC LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("listing events: %w: %w", storage.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []*domain.Event
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, 0, fmt.Errorf("listing events: %w", err)
		}
		ev, err := domain.DecodeDoc[domain.Event](doc)
		if err != nil {
			return nil, 0, fmt.Errorf("decoding event: %w", err)
		}
		out = append(out, ev)
	}
	return out, total, rows.Err()
}
