package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/sqlgen"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// table describes how one kind of document is searched: its table, the scope its
// conditions use, the rows that count (live), and the sort keys that map to columns.
type table struct {
	name  string // table name; searched as alias d
	scope string
	live  string // extra condition on d, or ""
	cols  map[string]string
	// key, when set, is the table's primary key column: a page is then chosen by key
	// first (ORDER BY and LIMIT on what the indexes hold, without reading a document
	// where they answer the condition), and only its documents are read.
	key string
	// indexed are the fields (scope@path) that a column or an indexed expression of the
	// table mirrors: sqlgen.WhereIndexed states a comparison of one of them on the
	// column, which SQLite can answer from an index.
	indexed map[string]sqlgen.Index
}

var (
	// profileTable's indexed fields are completed by Config.IndexedPaths (Store.profileTable).
	profileTable = table{name: "profiles", scope: "profile", live: "d.merged_into IS NULL", key: "d.id",
		cols:    map[string]string{"id": "d.id", "metadata.time.insert": "d.created", "metadata.time.update": "d.updated"},
		indexed: map[string]sqlgen.Index{"profile@id": {Expr: "d.id", Kind: sqlgen.IndexText}}}
	sessionTable = table{name: "sessions", scope: "session",
		cols: map[string]string{"id": "d.id", "metadata.time.insert": "d.created", "profile.id": "d.profile_id"},
		indexed: map[string]sqlgen.Index{"session@id": {Expr: "d.id", Kind: sqlgen.IndexText},
			"session@profile.id": {Expr: "d.profile_id", Kind: sqlgen.IndexText}}}
	eventTable = table{name: "events", scope: "event",
		cols: map[string]string{"id": "d.id", "metadata.time.insert": "d.inserted", "type": "d.type", "profile.id": "d.profile_id", "session.id": "d.session_id"},
		indexed: map[string]sqlgen.Index{"event@id": {Expr: "d.id", Kind: sqlgen.IndexText},
			"event@type":                 {Expr: "d.type", Kind: sqlgen.IndexText},
			"event@profile.id":           {Expr: "d.profile_id", Kind: sqlgen.IndexText},
			"event@session.id":           {Expr: "d.session_id", Kind: sqlgen.IndexText},
			"event@metadata.time.insert": {Expr: "d.inserted", Kind: sqlgen.IndexTime}}}
)

// withPaths returns t with the expression indexes of paths (IndexedPaths) among its
// indexed fields.
func (t table) withPaths(paths []string) table {
	ix := maps.Clone(t.indexed)
	for _, p := range paths {
		ix[t.scope+"@"+p] = sqlgen.Index{Expr: sqlgen.PathExpr("d.doc", strings.Split(p, ".")), Kind: sqlgen.IndexValue}
	}
	t.indexed = ix
	return t
}

// where returns the WHERE clause (without the keyword) for q on t, and its arguments.
func (t table) where(q storage.Query, extra ...string) (string, []any, error) {
	conds := extra
	if t.live != "" {
		conds = append([]string{t.live}, conds...)
	}
	var args []any
	if q.Where != nil {
		if q.Now.IsZero() {
			q.Now = time.Now() // one instant for every part of the condition
		}
		frag, a, err := sqlgen.WhereIndexed(q.Where, sqlgen.Options{Columns: map[string]string{t.scope: "d.doc"}, Now: q.Now}, t.indexed)
		if err != nil {
			var qe *query.Error
			if errors.As(err, &qe) {
				return "", nil, fmt.Errorf("where: %w: %w", qe, storage.ErrInvalid)
			}
			return "", nil, fmt.Errorf("where: %w", err)
		}
		conds = append(conds, "("+frag+")")
		args = a
	}
	if len(conds) == 0 {
		return "1", nil, nil
	}
	return strings.Join(conds, " AND "), args, nil
}

// orderBy returns the ORDER BY list for sorts; missing values sort last either way.
func (t table) orderBy(sorts []storage.Sort) (string, error) {
	if len(sorts) == 0 {
		sorts = []storage.Sort{{Field: "metadata.time.insert", Desc: true}}
	}
	var parts []string
	for _, s := range sorts {
		if !storage.ValidSortField(s.Field) {
			return "", fmt.Errorf("sort: %q is not a field path: %w", s.Field, storage.ErrInvalid)
		}
		dir := " ASC"
		if s.Desc {
			dir = " DESC"
		}
		expr, ok := t.cols[s.Field]
		if !ok {
			// The path is validated above (letters, digits, '_', '-'), so quoting
			// each segment is enough to make it a literal JSON path.
			expr = `json_extract(d.doc, '$."` + strings.ReplaceAll(s.Field, ".", `"."`) + `"')`
			parts = append(parts, expr+" IS NULL")
		}
		parts = append(parts, expr+dir)
	}
	return strings.Join(append(parts, "d.id ASC"), ", "), nil
}

// withoutSentinels returns t with NoSentinel set on each expression index of a path
// that no document of t has an array on (as the snapshot of tx sees it; one look-up in
// the index each): conditions on those paths are then answered by the index alone.
func (t table) withoutSentinels(ctx context.Context, tx querier) (table, error) {
	var ix map[string]sqlgen.Index
	for k, x := range t.indexed {
		if x.Kind != sqlgen.IndexValue {
			continue
		}
		var some int
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+t.name+` AS d WHERE `+x.Expr+` = `+sqlgen.Sentinel+`)`).Scan(&some)
		if err != nil {
			return t, fmt.Errorf("searching %s: %w: %w", t.name, storage.ErrUnavailable, err)
		}
		if some == 0 {
			if ix == nil {
				ix = maps.Clone(t.indexed)
			}
			x.NoSentinel = true
			ix[k] = x
		}
	}
	if ix != nil {
		t.indexed = ix
	}
	return t, nil
}

// search answers q on t in one read transaction: the check for documents with arrays
// on the indexed paths, the total and the page see the same data.
func search[T any](ctx context.Context, db *sql.DB, t table, q storage.Query, fix func(*T)) ([]*T, int64, error) {
	order, err := t.orderBy(q.Sort)
	if err != nil {
		return nil, 0, err
	}
	if q.Page.Offset < 0 {
		return nil, 0, fmt.Errorf("offset: must not be negative: %w", storage.ErrInvalid)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("searching %s: %w: %w", t.name, storage.ErrUnavailable, err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	if q.Where != nil {
		if t, err = t.withoutSentinels(ctx, tx); err != nil {
			return nil, 0, err
		}
	}
	where, args, err := t.where(q)
	if err != nil {
		return nil, 0, err
	}
	counted := `SELECT count(*) FROM ` + t.name + ` AS d WHERE ` + where
	countArgs := args
	if q.TotalLimit > 0 {
		counted = `SELECT count(*) FROM (SELECT 1 FROM ` + t.name + ` AS d WHERE ` + where + ` LIMIT ?)`
		countArgs = append(slices.Clip(args), q.TotalLimit+1)
	}
	total, err := count(ctx, tx, counted, countArgs...)
	if err != nil {
		return nil, 0, fmt.Errorf("searching %s: %w", t.name, err)
	}
	bounded := q.TotalLimit > 0 && total > int64(q.TotalLimit)
	if q.Page.Limit <= 0 || total == 0 || int64(q.Page.Offset) >= total && !bounded {
		return []*T{}, total, nil
	}
	page := `SELECT d.doc FROM ` + t.name + ` AS d WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	if t.key != "" {
		page = `SELECT d.doc FROM ` + t.name + ` AS d WHERE ` + t.key + ` IN (SELECT ` + t.key + ` FROM ` + t.name + ` AS d WHERE ` +
			where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?) ORDER BY ` + order
	}
	items, err := readDocs(ctx, tx, t.name, fix, page, append(args, q.Page.Limit, q.Page.Offset)...)
	return items, total, err
}

func readDocs[T any](ctx context.Context, db querier, what string, fix func(*T), query string, args ...any) ([]*T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("searching %s: %w: %w", what, storage.ErrUnavailable, err)
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("searching %s: %w: %w", what, storage.ErrUnavailable, err)
		}
		v, err := domain.DecodeDoc[T](doc)
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", what, err)
		}
		if fix != nil {
			fix(v)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("searching %s: %w: %w", what, storage.ErrUnavailable, err)
	}
	return out, nil
}

// Search implements storage.Profiles.
func (p *profiles) Search(ctx context.Context, q storage.Query) ([]*domain.Profile, int64, error) {
	return search(ctx, p.s.r, p.s.profileTable, q, (*domain.Profile).Normalize)
}

// Scan implements storage.Profiles.
func (p *profiles) Scan(ctx context.Context, where query.Expr, after string, limit int) ([]*domain.Profile, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("limit: must be positive: %w", storage.ErrInvalid)
	}
	cond, args, err := p.s.profileTable.where(storage.Query{Where: where}, "d.id > ?")
	if err != nil {
		return nil, err
	}
	// "d.id > ?" comes right after the live condition, before the generated fragment.
	args = append([]any{after}, args...)
	return readDocs(ctx, p.s.r, "profiles", (*domain.Profile).Normalize,
		`SELECT d.doc FROM profiles AS d WHERE `+cond+` ORDER BY d.id LIMIT ?`, append(args, limit)...)
}

// Search implements storage.Sessions.
func (x *sessions) Search(ctx context.Context, q storage.Query) ([]*domain.Session, int64, error) {
	return search[domain.Session](ctx, x.s.r, sessionTable, q, nil)
}

// Search implements storage.Events.
func (e *events) Search(ctx context.Context, q storage.Query) ([]*domain.Event, int64, error) {
	return search[domain.Event](ctx, e.s.r, eventTable, q, nil)
}
