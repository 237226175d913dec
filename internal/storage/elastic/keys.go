package elastic

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// The key index makes FindByKey consistent across replicas. Search is near-real-time:
// a term query on the profiles index may miss a profile another replica committed a
// moment ago, and identity resolution would then fail to merge two profiles that share
// an e-mail. So every profile commit also upserts, in the same _bulk, one document per
// configured key value, whose _id is derived from (path, value) and whose "ids" object
// collects the ids of the profiles that held the value. FindByKey reads it with the
// real-time GET and then the candidate profiles with a real-time _mget, keeping those
// that are live and still hold the value (entries are only ever added; stale ones are
// filtered out on read). The upsert is a partial-document update ("doc" with
// "doc_as_upsert"), which merges objects without any script, so it works on clusters
// without painless.

func keyDocID(path, value string) string {
	h := sha256.Sum256([]byte(path + "\x00" + value))
	return hex.EncodeToString(h[:])
}

// keyItems returns the key-index upserts for profile p (live profiles only).
func (s *Store) keyItems(p *domain.Profile) []*item {
	var out []*item
	for path := range s.keyPaths {
		v, ok := profileValue(p, path)
		if !ok || v == "" {
			continue
		}
		done := path + "\x00" + v + "\x00" + p.ID
		if s.keysDone.Contains(done) {
			continue
		}
		body, _ := json.Marshal(map[string]any{
			"doc":           map[string]any{"path": path, "value": v, "ids": map[string]bool{p.ID: true}},
			"doc_as_upsert": true,
		})
		out = append(out, &item{kind: kindKeys, op: "update", index: s.names.alias(kindKeys), id: keyDocID(path, v),
			retry: 5, source: body, key: done})
	}
	return out
}

// profileValue returns the string at a dotted path of the profile's free-form parts.
func profileValue(p *domain.Profile, path string) (string, bool) {
	var doc map[string]any
	rest := ""
	for _, part := range []struct {
		prefix string
		doc    map[string]any
	}{{"data.", p.Data}, {"traits.", p.Traits}, {"aux.", p.Aux}} {
		if r, ok := strings.CutPrefix(path, part.prefix); ok {
			doc, rest = part.doc, r
			break
		}
	}
	if doc == nil {
		// Any other path: walk the document as it is stored.
		b, err := json.Marshal(p)
		if err != nil || json.Unmarshal(b, &doc) != nil {
			return "", false
		}
		rest = path
	}
	v, ok := domain.GetPath(doc, rest)
	if !ok {
		return "", false
	}
	str, ok := v.(string)
	return str, ok
}

// FindByKey implements storage.Profiles.
func (p *profiles) FindByKey(ctx context.Context, path, value string, limit int) ([]*domain.Profile, error) {
	s := p.s
	if !domain.ValidKeyPath(path) {
		return nil, fmt.Errorf("key path %q: %w", path, storage.ErrInvalid)
	}
	if limit <= 0 {
		limit = 10
	}
	var ids []string
	if s.keyPaths[path] {
		var doc struct {
			Found  bool `json:"found"`
			Source struct {
				IDs map[string]bool `json:"ids"`
			} `json:"_source"`
		}
		err := s.c.doJSON(ctx, http.MethodGet, "/"+s.names.alias(kindKeys)+"/_doc/"+keyDocID(path, value)+"?_source_includes=ids", nil, &doc)
		if err != nil && !isDocNotFound(err) {
			return nil, fmt.Errorf("reading key %s: %w: %w", path, storage.ErrUnavailable, err)
		}
		for id := range doc.Source.IDs {
			ids = append(ids, id)
		}
	} else if err := s.readOwnWrites(ctx, kindProfiles); err != nil {
		return nil, err
	}
	// Profiles that got their value before the key index knew the path (or from a
	// writer that does not keep it) are found by search.
	q := map[string]any{"bool": map[string]any{
		"filter":   []any{map[string]any{"term": map[string]any{path: value}}},
		"must_not": []any{map[string]any{"exists": map[string]any{"field": "metadata.merged_into"}}},
	}}
	hits, _, err := s.searchIDs(ctx, kindProfiles, q, 0, max(limit, 100))
	if err != nil {
		return nil, err
	}
	for _, id := range hits {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	found, err := mgetDocs[domain.Profile](ctx, s, s.names.alias(kindProfiles), ids)
	if err != nil {
		return nil, err
	}
	var out []*domain.Profile
	for _, pr := range found {
		if pr.Merged() {
			continue
		}
		if v, ok := profileValue(pr, path); !ok || v != value {
			continue
		}
		pr.Normalize()
		out = append(out, pr)
	}
	slices.SortFunc(out, func(a, b *domain.Profile) int {
		if c := a.Metadata.Time.Insert.Compare(b.Metadata.Time.Insert.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
