package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// schemaHistory says what each SchemaVersion changed; migrate brings a cluster of any
// earlier version to SchemaVersion. Every version so far adds to what exists (indices,
// fields, settings), so the step is the same from each: store the current templates,
// create the indices that are missing, and put the current mappings on the existing
// indices, which adds their new fields and records the version in their _meta. A
// version whose mappings existing indices cannot take (a field changing type) must bump
// indexGeneration and copy the data into the new indices here.
var schemaHistory = map[int]string{
	1: "profiles, sessions, monthly events, configuration and profile-key indices",
	2: "the outbox index (work items committed in the events' _bulk)",
	3: "strings of sessions and events that are never instants (ids, addresses, statuses, user agents, URLs, device, OS and app) mapped as plain keywords, without the date sub-field; existing indices keep the sub-fields they have, new monthly event indices are created without them",
	4: "profile, session and event indices refreshed every ELASTIC_REFRESH_INTERVAL (5s by default) instead of the cluster's one second; migrate sets it on the existing indices too",
}

// kindVersion is what the cluster records for one kind: the versions in the mappings of
// its indices (lowest and highest; 0 when it has none) and of its template (0 when
// missing).
type kindVersion struct {
	kind          string
	lowest, index int
	template      int
}

// versions reads the recorded version of every kind.
func (s *Store) versions(ctx context.Context) ([]kindVersion, error) {
	tmpl, err := s.templateVersions(ctx)
	if err != nil {
		return nil, err
	}
	var out []kindVersion
	for _, kind := range allKinds() {
		lo, hi, err := s.aliasVersion(ctx, kind)
		if err != nil {
			return nil, err
		}
		out = append(out, kindVersion{kind: kind, lowest: lo, index: hi, template: tmpl[s.names.index(kind)]})
	}
	return out, nil
}

// templateVersions maps the names of this prefix's templates to their recorded version.
func (s *Store) templateVersions(ctx context.Context) (map[string]int, error) {
	var res struct {
		IndexTemplates []struct {
			Name          string `json:"name"`
			IndexTemplate struct {
				Version int `json:"version"`
				Meta    struct {
					SchemaVersion int `json:"schema_version"`
				} `json:"_meta"`
			} `json:"index_template"`
		} `json:"index_templates"`
	}
	err := s.c.doJSON(ctx, http.MethodGet, "/_index_template/"+url.PathEscape(s.names.prefix+"-*"), nil, &res)
	if statusOf(err) == http.StatusNotFound {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading index templates %s-*: %w", s.names.prefix, err)
	}
	out := map[string]int{}
	for _, t := range res.IndexTemplates {
		out[t.Name] = max(t.IndexTemplate.Version, t.IndexTemplate.Meta.SchemaVersion)
	}
	return out, nil
}

// aliasVersion returns the lowest and highest schema version recorded in the mappings
// of the indices behind kind's alias: 0, 0 when there are none.
func (s *Store) aliasVersion(ctx context.Context, kind string) (lowest, highest int, err error) {
	var res map[string]struct {
		Mappings struct {
			Meta struct {
				SchemaVersion int `json:"schema_version"`
			} `json:"_meta"`
		} `json:"mappings"`
	}
	err = s.c.doJSON(ctx, http.MethodGet, "/"+s.names.alias(kind)+"/_mapping", nil, &res)
	if statusOf(err) == http.StatusNotFound {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("reading mapping of %s: %w", s.names.alias(kind), err)
	}
	for _, idx := range res {
		v := idx.Mappings.Meta.SchemaVersion
		if lowest == 0 || v < lowest {
			lowest = v
		}
		highest = max(highest, v)
	}
	return lowest, highest, nil
}

// clusterVersion summarises versions: the highest version anything records, the
// lowest version recorded (0 when nothing is), and whether every kind has its indices
// and template.
func clusterVersion(vs []kindVersion) (newest, at int, complete bool) {
	complete = true
	for _, v := range vs {
		newest = max(newest, v.index, v.template)
		for _, x := range []int{v.lowest, v.template} {
			if x == 0 {
				complete = false
			} else if at == 0 || x < at {
				at = x
			}
		}
	}
	return newest, at, complete
}

// migrate brings the templates and indices of the prefix from any earlier schema
// version (or none) to SchemaVersion. It is idempotent and safe to run from several
// processes at once; a migrate interrupted part-way is finished by the next one. The
// indices' _meta is written last, so serve never sees the new version recorded before
// everything it needs exists.
func (s *Store) migrate(ctx context.Context) error {
	_, err := s.upgrade(ctx)
	return err
}

func (s *Store) upgrade(ctx context.Context) (from int, err error) {
	vs, err := s.versions(ctx)
	if err != nil {
		return 0, err
	}
	newest, from, _ := clusterVersion(vs)
	if newest > SchemaVersion {
		return from, fmt.Errorf("%w: the indices %s-* were made by a newer thamesthrive (schema %d, this binary knows %d): upgrade thamesthrive",
			ErrSchema, s.names.prefix, newest, SchemaVersion)
	}
	for _, kind := range allKinds() {
		if err := s.c.doJSON(ctx, http.MethodPut, "/_index_template/"+s.names.index(kind), s.template(kind), nil); err != nil {
			return from, fmt.Errorf("storing index template %s: %w", s.names.index(kind), err)
		}
	}
	for _, kind := range singleKinds {
		if err := s.createIndex(ctx, s.names.index(kind)); err != nil {
			return from, err
		}
	}
	now := time.Now().UTC()
	for _, t := range []time.Time{now, now.AddDate(0, 1, 0)} {
		if err := s.createIndex(ctx, s.names.eventIndex(t)); err != nil {
			return from, err
		}
	}
	// Settings that existing indices can take (dynamic ones) are put on them too; migrate
	// run again with another ELASTIC_REFRESH_INTERVAL changes it.
	for _, kind := range refreshedKinds {
		target := s.names.index(kind)
		if kind == kindEvents {
			target += "-*"
		}
		path := "/" + url.PathEscape(target) + "/_settings?allow_no_indices=true&expand_wildcards=open"
		body := map[string]any{"index": map[string]any{"refresh_interval": refreshSetting(s.refreshInterval())}}
		if err := s.c.doJSON(ctx, http.MethodPut, path, body, nil); err != nil {
			return from, fmt.Errorf("setting the refresh interval of %s: %w", target, err)
		}
	}
	// Existing indices take the current mappings: new fields are added, and their _meta
	// records the version. Indices created above have them already; putting them again
	// is a no-op.
	for _, kind := range allKinds() {
		target := s.names.index(kind)
		if kind == kindEvents {
			target += "-*"
		}
		path := "/" + url.PathEscape(target) + "/_mapping?allow_no_indices=true&expand_wildcards=open"
		if err := s.c.doJSON(ctx, http.MethodPut, path, mapping(kind), nil); err != nil {
			return from, fmt.Errorf("updating the mapping of %s to schema %d (a mapping the index cannot take needs a new index generation): %w",
				target, SchemaVersion, err)
		}
	}
	path := "/_cluster/health/" + url.PathEscape(s.names.prefix+"-*") + "?wait_for_status=yellow&timeout=60s"
	if err := s.c.doJSON(ctx, http.MethodGet, path, nil, nil); err != nil {
		return from, fmt.Errorf("waiting for the indices to be allocated: %w", err)
	}
	return from, nil
}

// check verifies that the cluster is at SchemaVersion: templates and indices of every
// kind exist and record it. Anything older says to run migrate, anything newer to
// upgrade the binary.
func (s *Store) check(ctx context.Context) error {
	vs, err := s.versions(ctx)
	if err != nil {
		return err
	}
	newest, at, complete := clusterVersion(vs)
	switch {
	case newest > SchemaVersion:
		return fmt.Errorf("%w: the indices %s-* are at schema %d, made by a newer thamesthrive; this binary knows %d: upgrade thamesthrive",
			ErrSchema, s.names.prefix, newest, SchemaVersion)
	case newest == 0:
		return fmt.Errorf("%w: index %s does not exist: run `thamesthrive migrate` (with the same ELASTIC_* settings) first",
			ErrSchema, s.names.alias(kindProfiles))
	case !complete || at < SchemaVersion:
		var behind []string
		for _, v := range vs {
			switch {
			case v.index == 0:
				behind = append(behind, fmt.Sprintf("index %s missing", s.names.alias(v.kind)))
			case v.lowest < SchemaVersion:
				behind = append(behind, fmt.Sprintf("%s at schema %d", s.names.alias(v.kind), v.lowest))
			}
			switch {
			case v.template == 0:
				behind = append(behind, fmt.Sprintf("template %s missing", s.names.index(v.kind)))
			case v.template < SchemaVersion:
				behind = append(behind, fmt.Sprintf("template %s at schema %d", s.names.index(v.kind), v.template))
			}
		}
		return fmt.Errorf("%w: the indices %s-* are at schema %d, this binary needs %d (%s): run `thamesthrive migrate` (with the same ELASTIC_* settings)",
			ErrSchema, s.names.prefix, at, SchemaVersion, strings.Join(behind, "; "))
	}
	return nil
}

// Upgrade is Migrate that also says which version the cluster was at before (0: no
// indices).
func Upgrade(ctx context.Context, cfg Config) (from int, err error) {
	s, err := newStore(cfg)
	if err != nil {
		return 0, err
	}
	return s.upgrade(ctx)
}

// SchemaChanges describes the versions after from, oldest first.
func SchemaChanges(from int) []string {
	var out []string
	for v := from + 1; v <= SchemaVersion; v++ {
		out = append(out, fmt.Sprintf("%d: %s", v, schemaHistory[v]))
	}
	return out
}

// Templates returns the index templates this binary stores, by name, for prefix: the
// golden test that ties them to SchemaVersion compares them.
func Templates(prefix string) map[string]json.RawMessage {
	s := &Store{names: names{prefix}, cfg: Config{Shards: 1, Replicas: 0}}
	out := map[string]json.RawMessage{}
	for _, kind := range allKinds() {
		b, _ := json.MarshalIndent(s.template(kind), "", "  ")
		out[s.names.index(kind)] = b
	}
	return out
}
