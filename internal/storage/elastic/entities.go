package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Configuration entities are few and rarely written, and every replica must see a
// change at once (a new event source, a deployed flow): writes refresh the index before
// they return, so lists and searches on any replica include them. Optimistic
// concurrency uses the cluster's sequence numbers (if_seq_no), so two replicas updating
// the same entity cannot both win.
type entities struct{ s *Store }

type entityDoc struct {
	Kind    string          `json:"kind"`
	ID      string          `json:"id"`
	Version int64           `json:"version"`
	Updated string          `json:"updated"`
	Doc     json.RawMessage `json:"doc"`
}

func entityID(kind, id string) string { return kind + ":" + id }

func (e *entities) path(kind, id string) string {
	return "/" + e.s.names.alias(kindEntities) + "/_doc/" + url.PathEscape(entityID(kind, id))
}

func (e *entities) get(ctx context.Context, kind, id string) (*entityDoc, *fence, error) {
	var res getResult
	err := e.s.c.doJSON(ctx, http.MethodGet, e.path(kind, id), nil, &res)
	if isDocNotFound(err) || err == nil && !res.Found {
		return nil, nil, fmt.Errorf("%s %q: %w", kind, id, storage.ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s %q: %w: %w", kind, id, storage.ErrUnavailable, err)
	}
	var d entityDoc
	if err := json.Unmarshal(res.Source, &d); err != nil {
		return nil, nil, fmt.Errorf("decoding %s %q: %w", kind, id, err)
	}
	return &d, &fence{seq: res.SeqNo, term: res.PrimaryTerm}, nil
}

// Get implements storage.Entities.
func (e *entities) Get(ctx context.Context, kind, id string) (*storage.Entity, error) {
	d, _, err := e.get(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	return &storage.Entity{Kind: kind, ID: id, Version: d.Version, Doc: d.Doc}, nil
}

// List implements storage.Entities: entities of kind ordered by id.
func (e *entities) List(ctx context.Context, kind string, o storage.ListOptions) ([]*storage.Entity, int64, error) {
	from, size, ok := window(o.Page)
	if o.Limit <= 0 {
		size = maxWindow - from
	}
	if !ok {
		size = 0
	}
	res, err := e.s.search(ctx, kindEntities, map[string]any{
		"query":            map[string]any{"bool": map[string]any{"filter": []any{map[string]any{"term": map[string]any{"kind": kind}}}}},
		"sort":             []any{map[string]any{"id": "asc"}},
		"from":             from,
		"size":             size,
		"track_total_hits": true,
	})
	if err != nil {
		return nil, 0, err
	}
	docs, err := decodeHits[entityDoc](res)
	if err != nil {
		return nil, 0, err
	}
	out := make([]*storage.Entity, 0, len(docs))
	for _, d := range docs {
		out = append(out, &storage.Entity{Kind: d.Kind, ID: d.ID, Version: d.Version, Doc: d.Doc})
	}
	return out, res.Hits.Total.Value, nil
}

// Put implements storage.Entities.
func (e *entities) Put(ctx context.Context, ent *storage.Entity, ifVersion int64) (int64, error) {
	doc := ent.Doc
	if len(doc) == 0 {
		doc = json.RawMessage("{}")
	}
	for attempt := 0; ; attempt++ {
		cur, f, err := e.get(ctx, ent.Kind, ent.ID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return 0, err
		}
		var current int64
		if cur != nil {
			current = cur.Version
		}
		switch {
		case ifVersion == 0 && cur != nil:
			return 0, fmt.Errorf("%s %q already exists: %w", ent.Kind, ent.ID, storage.ErrConflict)
		case ifVersion > 0 && cur == nil:
			return 0, fmt.Errorf("%s %q: %w", ent.Kind, ent.ID, storage.ErrNotFound)
		case ifVersion > 0 && current != ifVersion:
			return 0, fmt.Errorf("%s %q is at version %d, not %d: %w", ent.Kind, ent.ID, current, ifVersion, storage.ErrConflict)
		}
		next := current + 1
		body, err := json.Marshal(entityDoc{Kind: ent.Kind, ID: ent.ID, Version: next, Updated: domain.Now().String(), Doc: doc})
		if err != nil {
			return 0, fmt.Errorf("encoding %s %q: %w", ent.Kind, ent.ID, err)
		}
		q := "?refresh=true"
		if cur == nil {
			q += "&op_type=create"
		} else {
			q += fmt.Sprintf("&if_seq_no=%d&if_primary_term=%d", f.seq, f.term)
		}
		err = e.s.c.doJSON(ctx, http.MethodPut, e.path(ent.Kind, ent.ID)+q, json.RawMessage(body), nil)
		switch {
		case err == nil:
			return next, nil
		case statusOf(err) == http.StatusConflict && ifVersion == -1 && attempt < 5:
			continue // an unconditional upsert raced another writer: read again
		case statusOf(err) == http.StatusConflict:
			return 0, fmt.Errorf("%s %q was changed concurrently: %w", ent.Kind, ent.ID, storage.ErrConflict)
		case statusOf(err) == http.StatusBadRequest:
			return 0, fmt.Errorf("storing %s %q: %w: %w", ent.Kind, ent.ID, storage.ErrInvalid, err)
		default:
			return 0, fmt.Errorf("storing %s %q: %w: %w", ent.Kind, ent.ID, storage.ErrUnavailable, err)
		}
	}
}

// Delete implements storage.Entities.
func (e *entities) Delete(ctx context.Context, kind, id string) error {
	err := e.s.c.doJSON(ctx, http.MethodDelete, e.path(kind, id)+"?refresh=true", nil, nil)
	switch {
	case err == nil:
		return nil
	case isDocNotFound(err):
		return fmt.Errorf("%s %q: %w", kind, id, storage.ErrNotFound)
	default:
		return fmt.Errorf("deleting %s %q: %w: %w", kind, id, storage.ErrUnavailable, err)
	}
}
