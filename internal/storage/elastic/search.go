package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/cache"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/esdsl"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Searches translate the condition with esdsl, which needs the mapped kind of every
// field it compares (a number never equals a keyword "5"). Mappings grow as documents
// bring new fields, so the kinds of each index kind are cached (internal/cache: a failed
// fetch keeps the known kinds) and fetched again when a condition names a field the
// cache does not know (at most once a second).
type kindsCache struct {
	once sync.Once
	m    *cache.Map[string, esdsl.Kinds]
}

func (s *Store) kindsFor(ctx context.Context, kind string, where query.Expr) (esdsl.Kinds, error) {
	var fields []string
	query.Inspect(where, func(n query.Node) bool {
		if f, ok := n.(*query.Field); ok {
			fields = append(fields, strings.Join(f.Path, "."))
		}
		return true
	})
	kc := &s.kinds
	kc.once.Do(func() {
		kc.m = cache.NewMap(cache.Config{}, 0, func(ctx context.Context, kind string, _ esdsl.Kinds, _ bool) (esdsl.Kinds, error) {
			return s.fetchKinds(ctx, kind)
		})
	})
	cached, err := kc.m.Get(ctx, kind)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		if _, known := cached[f]; !known {
			return kc.m.Refresh(ctx, kind, time.Second)
		}
	}
	return cached, nil
}

// fetchKinds reads the mapped kinds of kind's indices.
func (s *Store) fetchKinds(ctx context.Context, kind string) (esdsl.Kinds, error) {
	var res map[string]json.RawMessage
	if err := s.c.doJSON(ctx, http.MethodGet, "/"+s.names.alias(kind)+"/_mapping", nil, &res); err != nil {
		return nil, fmt.Errorf("reading mapping of %s: %w: %w", s.names.alias(kind), storage.ErrUnavailable, err)
	}
	merged := esdsl.Kinds{}
	for _, raw := range res { // one entry per index (events: one per month)
		k, err := esdsl.KindsFromMapping(raw)
		if err != nil {
			return nil, err
		}
		for f, v := range k {
			if merged[f] == esdsl.Unmapped {
				merged[f] = v
			}
		}
	}
	return merged, nil
}

// filterFor returns the bool filter clauses for a condition on kind's documents.
func (s *Store) filterFor(ctx context.Context, kind, scope string, where query.Expr, now time.Time) ([]any, error) {
	var filters []any
	if kind == kindProfiles {
		filters = append(filters, map[string]any{"bool": map[string]any{"must_not": []any{
			map[string]any{"exists": map[string]any{"field": "metadata.merged_into"}}}}})
	}
	if where == nil {
		return filters, nil
	}
	kinds, err := s.kindsFor(ctx, kind, where)
	if err != nil {
		return nil, err
	}
	q, err := esdsl.Query(where, esdsl.Options{Prefix: map[string]string{scope: ""}, Kinds: kinds, Now: now})
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) || errors.Is(err, query.ErrUnsupported) {
			return nil, fmt.Errorf("where: %w: %w", err, storage.ErrInvalid)
		}
		return nil, fmt.Errorf("where: %w", err)
	}
	return append(filters, q), nil
}

// insertTime is the sort key of metadata.time.insert: its date sub-field. A date (a long
// in the index) sorts by value, and with a bounded total (storage.Query.TotalLimit) the
// engine skips the documents that cannot make the page; on the keyword itself the
// newest 20 of a day's events (hundreds of thousands) were picked by comparing every
// match's bytes (docs/performance.md, C round 4).
const insertTime = "metadata.time.insert"

func sortFor(sorts []storage.Sort) ([]any, error) {
	var out []any
	seen := map[string]bool{}
	add := func(field, order string) {
		if !seen[field] {
			seen[field] = true
			key, unmapped := field, "keyword"
			if field == insertTime {
				key, unmapped = field+"."+esdsl.DateSubfield, "date"
			}
			out = append(out, map[string]any{key: map[string]any{"order": order, "missing": "_last", "unmapped_type": unmapped}})
		}
	}
	for _, s := range sorts {
		if !storage.ValidSortField(s.Field) {
			return nil, fmt.Errorf("sort: %q is not a field path: %w", s.Field, storage.ErrInvalid)
		}
		order := "asc"
		if s.Desc {
			order = "desc"
		}
		add(s.Field, order)
	}
	add(insertTime, "desc")
	add("id", "asc")
	return out, nil
}

func searchKind[T any](ctx context.Context, s *Store, kind, scope string, q storage.Query) ([]*T, int64, error) {
	if q.Page.Offset < 0 {
		return nil, 0, fmt.Errorf("offset: must not be negative: %w", storage.ErrInvalid)
	}
	filters, err := s.filterFor(ctx, kind, scope, q.Where, q.Now)
	if err != nil {
		return nil, 0, err
	}
	sort, err := sortFor(q.Sort)
	if err != nil {
		return nil, 0, err
	}
	if err := s.readOwnWrites(ctx, kind); err != nil {
		return nil, 0, err
	}
	from, size, ok := window(q.Page)
	if !ok {
		size = 0
	}
	res, err := s.search(ctx, kind, map[string]any{
		"query": map[string]any{"bool": map[string]any{"filter": filters}},
		"sort":  sort, "from": from, "size": size, "track_total_hits": trackTotal(q.TotalLimit),
	})
	if err != nil {
		return nil, 0, err
	}
	items, err := decodeHits[T](res)
	return items, res.Hits.Total.Value, err
}

// trackTotal is track_total_hits for storage.Query.TotalLimit: the search engine counts
// up to n+1 matches and then reports that many with the relation "gte".
func trackTotal(n int) any {
	if n <= 0 {
		return true
	}
	return n + 1
}

// Search implements storage.Profiles.
func (p *profiles) Search(ctx context.Context, q storage.Query) ([]*domain.Profile, int64, error) {
	items, total, err := searchKind[domain.Profile](ctx, p.s, kindProfiles, "profile", q)
	for _, x := range items {
		x.Normalize()
	}
	return items, total, err
}

// Scan implements storage.Profiles: a keyset walk in id order.
func (p *profiles) Scan(ctx context.Context, where query.Expr, after string, limit int) ([]*domain.Profile, error) {
	s := p.s
	if limit <= 0 {
		return nil, fmt.Errorf("limit: must be positive: %w", storage.ErrInvalid)
	}
	filters, err := s.filterFor(ctx, kindProfiles, "profile", where, time.Time{})
	if err != nil {
		return nil, err
	}
	if err := s.readOwnWrites(ctx, kindProfiles); err != nil {
		return nil, err
	}
	filters = append(filters, map[string]any{"range": map[string]any{"id": map[string]any{"gt": after}}})
	res, err := s.search(ctx, kindProfiles, map[string]any{
		"query": map[string]any{"bool": map[string]any{"filter": filters}},
		"sort":  []any{map[string]any{"id": "asc"}}, "size": min(limit, maxWindow),
	})
	if err != nil {
		return nil, err
	}
	items, err := decodeHits[domain.Profile](res)
	for _, x := range items {
		x.Normalize()
	}
	return items, err
}

// Search implements storage.Sessions.
func (x *sessions) Search(ctx context.Context, q storage.Query) ([]*domain.Session, int64, error) {
	return searchKind[domain.Session](ctx, x.s, kindSessions, "session", q)
}

// Search implements storage.Events.
func (e *events) Search(ctx context.Context, q storage.Query) ([]*domain.Event, int64, error) {
	return searchKind[domain.Event](ctx, e.s, kindEvents, "event", q)
}
