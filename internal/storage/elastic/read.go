package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

type profiles struct{ s *Store }
type sessions struct{ s *Store }
type events struct{ s *Store }

// maxWindow is the deepest from+size a search may page to (index.max_result_window).
const maxWindow = 10000

func isDocNotFound(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Type == ""
}

type getResult struct {
	Found       bool            `json:"found"`
	SeqNo       int64           `json:"_seq_no"`
	PrimaryTerm int64           `json:"_primary_term"`
	Source      json.RawMessage `json:"_source"`
}

// getDoc reads one document by id with the real-time GET, and remembers its version
// as the fence for writing it back (profiles and sessions).
func getDoc[T any](ctx context.Context, s *Store, kind, id string) (*T, error) {
	what := kind[:len(kind)-1]
	if id == "" {
		return nil, fmt.Errorf("%s %q: %w", what, id, storage.ErrNotFound)
	}
	var res getResult
	cached := false
	if s.cfg.Cache != nil {
		d, ok, err := s.cfg.Cache.Get(ctx, cacheKey(kind, id))
		if err != nil {
			s.log.Debug("doc_cache_unavailable", "error", err.Error())
		}
		if ok {
			res, cached = getResult{Found: true, SeqNo: d.SeqNo, PrimaryTerm: d.Term, Source: d.Source}, true
		}
	}
	if !cached {
		err := s.c.doJSON(ctx, http.MethodGet, "/"+s.names.alias(kind)+"/_doc/"+url.PathEscape(id), nil, &res)
		if isDocNotFound(err) || err == nil && !res.Found {
			s.fences.Add(fenceKey(kind, id), fence{absent: true})
			return nil, fmt.Errorf("%s %q: %w", what, id, storage.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s %q: %w: %w", what, id, storage.ErrUnavailable, err)
		}
		if s.cfg.Cache != nil {
			// Keeps whichever version is newer, so racing a writer is harmless.
			s.cfg.Cache.Set(ctx, []storage.CachedDoc{{Key: cacheKey(kind, id), SeqNo: res.SeqNo, Term: res.PrimaryTerm, Source: res.Source}})
		}
	}
	v, err := domain.DecodeDoc[T](unwrap(res.Source))
	if err != nil {
		return nil, fmt.Errorf("decoding %s %q: %w", what, id, err)
	}
	s.fences.Add(fenceKey(kind, id), fence{seq: res.SeqNo, term: res.PrimaryTerm})
	return v, nil
}

type mgetDoc struct {
	ID     string          `json:"_id"`
	Found  bool            `json:"found"`
	Source json.RawMessage `json:"_source"`
}

// mgetDocs reads documents by id with the real-time _mget from index (an alias of one
// index), in no particular order; missing ids are left out.
func mgetDocs[T any](ctx context.Context, s *Store, index string, ids []string) ([]*T, error) {
	var res struct {
		Docs []mgetDoc `json:"docs"`
	}
	if err := s.c.doJSON(ctx, http.MethodPost, "/"+index+"/_mget", map[string]any{"ids": ids}, &res); err != nil {
		return nil, fmt.Errorf("reading %s: %w: %w", index, storage.ErrUnavailable, err)
	}
	var out []*T
	for _, d := range res.Docs {
		if !d.Found {
			continue
		}
		v, err := domain.DecodeDoc[T](unwrap(d.Source))
		if err != nil {
			return nil, fmt.Errorf("decoding %s %q: %w", index, d.ID, err)
		}
		out = append(out, v)
	}
	return out, nil
}

type searchHit struct {
	Index  string          `json:"_index"`
	ID     string          `json:"_id"`
	Source json.RawMessage `json:"_source"`
}

type searchResult struct {
	Hits struct {
		Total struct {
			Value int64 `json:"value"`
		} `json:"total"`
		Hits []searchHit `json:"hits"`
	} `json:"hits"`
}

// search runs a search on kind's alias. body holds query, sort, from, size…
func (s *Store) search(ctx context.Context, kind string, body map[string]any) (*searchResult, error) {
	var res searchResult
	err := s.c.doJSON(ctx, http.MethodPost, "/"+s.names.alias(kind)+"/_search", body, &res)
	if err != nil {
		return nil, classify("searching "+s.names.alias(kind), err)
	}
	return &res, nil
}

// searchIDs returns the ids of the documents matching q (no sort) and how many match.
func (s *Store) searchIDs(ctx context.Context, kind string, q map[string]any, from, size int) ([]string, int64, error) {
	res, err := s.search(ctx, kind, map[string]any{"query": q, "from": from, "size": size, "_source": false,
		"track_total_hits": true})
	if err != nil {
		return nil, 0, err
	}
	ids := make([]string, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		ids = append(ids, h.ID)
	}
	return ids, res.Hits.Total.Value, nil
}

func decodeHits[T any](res *searchResult) ([]*T, error) {
	out := make([]*T, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		v, err := domain.DecodeDoc[T](unwrap(h.Source))
		if err != nil {
			return nil, fmt.Errorf("decoding %q: %w", h.ID, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Store) count(ctx context.Context, kind string, q map[string]any) (int64, error) {
	if err := s.readOwnWrites(ctx, kind); err != nil {
		return 0, err
	}
	var res struct {
		Count int64 `json:"count"`
	}
	var body any
	if q != nil {
		body = map[string]any{"query": q}
	}
	if err := s.c.doJSON(ctx, http.MethodPost, "/"+s.names.alias(kind)+"/_count", body, &res); err != nil {
		return 0, classify("counting "+s.names.alias(kind), err)
	}
	return res.Count, nil
}

// window clamps a page to what search can reach; ok is false when nothing can.
func window(p storage.Page) (from, size int, ok bool) {
	from, size = max(p.Offset, 0), max(p.Limit, 0)
	if from >= maxWindow {
		return 0, 0, false
	}
	return from, min(size, maxWindow-from), true
}

// Get implements storage.Profiles.
func (p *profiles) Get(ctx context.Context, id string) (*domain.Profile, error) {
	v, err := getDoc[domain.Profile](ctx, p.s, kindProfiles, id)
	if err != nil {
		return nil, err
	}
	v.Normalize()
	return v, nil
}

var liveProfiles = map[string]any{"bool": map[string]any{
	"must_not": []any{map[string]any{"exists": map[string]any{"field": "metadata.merged_into"}}},
}}

// Count implements storage.Profiles: live profiles (merge tombstones are not counted).
func (p *profiles) Count(ctx context.Context) (int64, error) {
	return p.s.count(ctx, kindProfiles, liveProfiles)
}

// Get implements storage.Sessions.
func (x *sessions) Get(ctx context.Context, id string) (*domain.Session, error) {
	return getDoc[domain.Session](ctx, x.s, kindSessions, id)
}

// Count implements storage.Sessions.
func (x *sessions) Count(ctx context.Context) (int64, error) {
	return x.s.count(ctx, kindSessions, nil)
}

// recentEventIndices are the partitions an event stored a moment ago can be in: this
// month's and, around the turn of a month, the last one's. They are read with the
// real-time _mget; older partitions are searched (long refreshed by then).
func (e *events) recentEventIndices() []string {
	now := time.Now().UTC()
	return []string{e.s.names.eventIndex(now), e.s.names.eventIndex(now.AddDate(0, 0, -now.Day()))}
}

// mgetRecent reads ids from the recent partitions (missing partitions are skipped).
func (e *events) mgetRecent(ctx context.Context, ids []string) (map[string]json.RawMessage, error) {
	var docs []map[string]string
	for _, idx := range e.recentEventIndices() {
		for _, id := range ids {
			docs = append(docs, map[string]string{"_index": idx, "_id": id})
		}
	}
	var res struct {
		Docs []mgetDoc `json:"docs"`
	}
	if err := e.s.c.doJSON(ctx, http.MethodPost, "/_mget", map[string]any{"docs": docs}, &res); err != nil {
		return nil, fmt.Errorf("reading events: %w: %w", storage.ErrUnavailable, err)
	}
	out := map[string]json.RawMessage{}
	for _, d := range res.Docs {
		if d.Found {
			out[d.ID] = d.Source
		}
	}
	return out, nil
}

// Get implements storage.Events.
func (e *events) Get(ctx context.Context, id string) (*domain.Event, error) {
	found, err := e.mgetRecent(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	src, ok := found[id]
	if !ok {
		res, err := e.s.search(ctx, kindEvents, map[string]any{"query": map[string]any{"ids": map[string]any{"values": []string{id}}}, "size": 1})
		if err != nil {
			return nil, err
		}
		if len(res.Hits.Hits) == 0 {
			return nil, fmt.Errorf("event %q: %w", id, storage.ErrNotFound)
		}
		src = res.Hits.Hits[0].Source
	}
	ev, err := domain.DecodeDoc[domain.Event](unwrap(src))
	if err != nil {
		return nil, fmt.Errorf("decoding event %q: %w", id, err)
	}
	return ev, nil
}

// Existing implements storage.Events.
func (e *events) Existing(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool)
	if len(ids) == 0 {
		return out, nil
	}
	found, err := e.mgetRecent(ctx, ids)
	if err != nil {
		return nil, err
	}
	var rest []string
	for _, id := range ids {
		if _, ok := found[id]; ok {
			out[id] = true
		} else {
			rest = append(rest, id)
		}
	}
	older, err := e.olderPartitions(ctx)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 && older != "" {
		var res searchResult
		err := e.s.c.doJSON(ctx, http.MethodPost, "/"+older+"/_search?ignore_unavailable=true&allow_no_indices=true", map[string]any{
			"query": map[string]any{"ids": map[string]any{"values": rest}}, "size": len(rest), "_source": false}, &res)
		if err != nil {
			return nil, classify("searching older events", err)
		}
		for _, h := range res.Hits.Hits {
			out[h.ID] = true
		}
	}
	return out, nil
}

// olderPartitions names the event partitions other than the recent ones ("" when there
// are none: a young installation), as an index expression; the list is read at most
// once a minute.
func (e *events) olderPartitions(ctx context.Context) (string, error) {
	s := e.s
	s.partMu.Lock()
	defer s.partMu.Unlock()
	if time.Since(s.partRead) < time.Minute {
		return s.partOlder, nil
	}
	var res map[string]json.RawMessage
	err := s.c.doJSON(ctx, http.MethodGet, "/"+s.names.alias(kindEvents)+"/_alias/"+s.names.alias(kindEvents), nil, &res)
	if err != nil && statusOf(err) != http.StatusNotFound {
		return "", fmt.Errorf("listing event partitions: %w: %w", storage.ErrUnavailable, err)
	}
	recent := e.recentEventIndices()
	var older []string
	for name := range res {
		if name != recent[0] && name != recent[1] {
			older = append(older, name)
		}
	}
	s.partOlder, s.partRead = "", time.Now()
	if len(older) > 0 {
		s.partOlder = s.names.index(kindEvents) + "-*,-" + recent[0] + ",-" + recent[1]
	}
	return s.partOlder, nil
}

// ListByProfile implements storage.Events.
func (e *events) ListByProfile(ctx context.Context, profileIDs []string, page storage.Page) ([]*domain.Event, int64, error) {
	if len(profileIDs) == 0 {
		return nil, 0, nil
	}
	if err := e.s.readOwnWrites(ctx, kindEvents); err != nil {
		return nil, 0, err
	}
	from, size, ok := window(page)
	if !ok {
		size = 0
	}
	res, err := e.s.search(ctx, kindEvents, map[string]any{
		"query": map[string]any{"bool": map[string]any{"filter": []any{
			map[string]any{"terms": map[string]any{"profile.id": profileIDs}}}}},
		"sort": []any{
			map[string]any{"metadata.time.insert": map[string]any{"order": "desc", "unmapped_type": "keyword"}},
			map[string]any{"id": map[string]any{"order": "desc", "unmapped_type": "keyword"}},
		},
		"from": from, "size": size, "track_total_hits": true,
	})
	if err != nil {
		return nil, 0, err
	}
	evs, err := decodeHits[domain.Event](res)
	if err != nil {
		return nil, 0, err
	}
	return evs, res.Hits.Total.Value, nil
}

// Count implements storage.Events.
func (e *events) Count(ctx context.Context) (int64, error) {
	return e.s.count(ctx, kindEvents, nil)
}
