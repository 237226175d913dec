package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

type erasure struct{ s *Store }

// Erasure implements storage.Store.
func (s *Store) Erasure() storage.Erasure { return erasure{s} }

// SessionsOf implements storage.Erasure.
func (e erasure) SessionsOf(ctx context.Context, profileIDs []string, limit int) ([]*domain.Session, error) {
	s := e.s
	if len(profileIDs) == 0 || limit <= 0 {
		return nil, nil
	}
	if err := s.refresh(ctx, kindSessions); err != nil {
		return nil, err
	}
	res, err := s.search(ctx, kindSessions, map[string]any{
		"query": map[string]any{"terms": map[string]any{"profile.id": profileIDs}},
		"sort":  []any{map[string]any{"id": "asc"}}, "size": min(limit, maxWindow),
	})
	if err != nil {
		return nil, err
	}
	return decodeHits[domain.Session](res)
}

// EventsOf implements storage.Erasure.
func (e erasure) EventsOf(ctx context.Context, profileIDs []string, limit int) ([]*domain.Event, int64, error) {
	if err := e.s.refresh(ctx, kindEvents); err != nil {
		return nil, 0, err
	}
	return e.s.events.ListByProfile(ctx, profileIDs, storage.Page{Limit: min(limit, maxWindow)})
}

// refresh makes everything written to kind's indices by any replica visible to
// searches, as deleting by query only deletes what a search finds.
func (s *Store) refresh(ctx context.Context, kind string) error {
	if err := s.c.doJSON(ctx, http.MethodPost, "/"+s.names.alias(kind)+"/_refresh", nil, nil); err != nil {
		return fmt.Errorf("refreshing %s: %w: %w", s.names.alias(kind), storage.ErrUnavailable, err)
	}
	return nil
}

// deleteByQuery deletes kind's documents matching q and returns how many went. It
// searches for them and deletes them by id with _bulk, page by page, rather than with
// _delete_by_query, which not every engine has (the Elasticsearch test distribution
// lacks the reindex module that provides it).
func (s *Store) deleteByQuery(ctx context.Context, kind string, q map[string]any) (int64, error) {
	const page = 1000
	var deleted int64
	for {
		if err := s.refresh(ctx, kind); err != nil {
			return deleted, err
		}
		res, err := s.search(ctx, kind, map[string]any{"query": q, "size": page, "_source": false})
		if err != nil {
			return deleted, err
		}
		if len(res.Hits.Hits) == 0 {
			return deleted, nil
		}
		var body bytes.Buffer
		for _, h := range res.Hits.Hits {
			line, _ := json.Marshal(map[string]any{"delete": map[string]string{"_index": h.Index, "_id": h.ID}})
			body.Write(line)
			body.WriteByte('\n')
		}
		var out struct {
			Errors bool `json:"errors"`
			Items  []map[string]struct {
				Status int `json:"status"`
			} `json:"items"`
		}
		if _, err := s.c.do(ctx, http.MethodPost, "/_bulk?refresh=true", body.Bytes(), &out); err != nil {
			return deleted, classify("deleting from "+s.names.alias(kind), err)
		}
		for _, it := range out.Items {
			for _, r := range it {
				switch {
				case r.Status == http.StatusOK:
					deleted++
				case r.Status != http.StatusNotFound:
					return deleted, fmt.Errorf("deleting from %s: item status %d: %w", s.names.alias(kind), r.Status, storage.ErrUnavailable)
				}
			}
		}
		if len(res.Hits.Hits) < page {
			return deleted, nil
		}
	}
}

// deleteDoc deletes one document of a single-index kind by id; found is false when
// there was none.
func (s *Store) deleteDoc(ctx context.Context, kind, id string) (found bool, err error) {
	err = s.c.doJSON(ctx, http.MethodDelete, "/"+s.names.alias(kind)+"/_doc/"+url.PathEscape(id)+"?refresh=true", nil, nil)
	switch {
	case err == nil:
		found = true
	case statusOf(err) == http.StatusNotFound:
		err = nil
	default:
		err = classify("deleting "+kind+" "+id, err)
	}
	if kind == kindProfiles || kind == kindSessions {
		// The next write of this id creates the document afresh.
		s.fences.Add(fenceKey(kind, id), fence{absent: true})
		if s.cfg.Cache != nil {
			if cerr := s.cfg.Cache.Delete(ctx, cacheKey(kind, id)); cerr != nil && err == nil {
				err = fmt.Errorf("dropping %s %s from the document cache: %w: %w", kind, id, storage.ErrUnavailable, cerr)
			}
		}
	}
	return found, err
}

// Erase implements storage.Erasure: events and sessions by query, then the profiles and
// the key-index entries of their key values by id, dropping each from the document cache.
func (e erasure) Erase(ctx context.Context, profileIDs []string) (storage.Erased, error) {
	s := e.s
	var n storage.Erased
	if len(profileIDs) == 0 {
		return n, nil
	}
	profiles, err := mgetDocs[domain.Profile](ctx, s, s.names.alias(kindProfiles), profileIDs)
	if err != nil {
		return n, err
	}
	sessions, err := e.SessionsOf(ctx, profileIDs, maxWindow)
	if err != nil {
		return n, err
	}
	byProfile := map[string]any{"terms": map[string]any{"profile.id": profileIDs}}
	if n.Events, err = s.deleteByQuery(ctx, kindEvents, byProfile); err != nil {
		return n, err
	}
	if n.Sessions, err = s.deleteByQuery(ctx, kindSessions, byProfile); err != nil {
		return n, err
	}
	for _, x := range sessions {
		if _, err := s.deleteDoc(ctx, kindSessions, x.ID); err != nil {
			return n, err
		}
	}
	for _, id := range profileIDs {
		found, err := s.deleteDoc(ctx, kindProfiles, id)
		if err != nil {
			return n, err
		}
		if found {
			n.Profiles++
		}
	}
	for _, p := range profiles {
		for path := range s.keyPaths {
			if v, ok := profileValue(p, path); ok && v != "" {
				if _, err := s.deleteDoc(ctx, kindKeys, keyDocID(path, v)); err != nil {
					return n, err
				}
			}
		}
	}
	s.keysDone.Purge() // entries of the erased ids must be written again if they come back
	return n, nil
}

// DeleteSession implements storage.Erasure.
func (e erasure) DeleteSession(ctx context.Context, id string) error {
	found, err := e.s.deleteDoc(ctx, kindSessions, id)
	if err == nil && !found {
		err = fmt.Errorf("session %q: %w", id, storage.ErrNotFound)
	}
	return err
}

// DeleteEvent implements storage.Erasure. Events live in monthly indices behind one
// alias, so the event is deleted by query on its id.
func (e erasure) DeleteEvent(ctx context.Context, id string) error {
	n, err := e.s.deleteByQuery(ctx, kindEvents, map[string]any{"ids": map[string]any{"values": []string{id}}})
	if err == nil && n == 0 {
		err = fmt.Errorf("event %q: %w", id, storage.ErrNotFound)
	}
	return err
}
