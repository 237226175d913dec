package elastic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query/esdsl"
)

// SchemaVersion is the version of the index templates and mappings this binary reads
// and writes, recorded in the cluster as each template's `version` and `_meta` and in
// each index's mapping `_meta`. Any change to template() or mapping() bumps it and adds
// a step to schemaHistory (upgrade.go); `thamesthrive migrate` brings a cluster of any
// earlier version up to it, and serve and worker refuse another version.
const SchemaVersion = 4

// indexGeneration is the `vN` in index and template names. It changes only when a new
// version needs new indices (a mapping existing indices cannot take, so data must be
// copied); versions that add fields, indices or settings keep the indices they find.
const indexGeneration = 1

// Index kinds. Each has an alias named <prefix>-<kind> that readers use.
const (
	kindProfiles = "profiles"
	kindSessions = "sessions"
	kindEvents   = "events"
	kindEntities = "entities"
	kindKeys     = "profile-keys"
)

// DefaultRefreshInterval is the refresh interval of the profile, session and event
// indices (Config.RefreshInterval). Each refresh writes a new segment of what was indexed
// since the last one, and the segments are merged again later; a profile or session
// rewritten several times between two refreshes reaches a segment once. The cluster's
// default of a second cost it 1.2 to 1.6 times the CPU per /track request of five
// seconds (docs/performance.md, A.4). The configuration, key and outbox indices keep the
// cluster's default: configuration writes refresh at once, key documents are read by id,
// and the outbox's sweeper waits for a refresh to see new work.
const DefaultRefreshInterval = 5 * time.Second

// refreshedKinds are the kinds whose indices take Config.RefreshInterval.
var refreshedKinds = []string{kindProfiles, kindSessions, kindEvents}

// refreshSetting is the index setting for d: whole seconds as "5s", else milliseconds.
func refreshSetting(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// singleKinds are the kinds stored in one index each (one document per id).
var singleKinds = []string{kindProfiles, kindSessions, kindEntities, kindKeys, kindOutbox}

func allKinds() []string { return append([]string{kindEvents}, singleKinds...) }

type names struct{ prefix string }

// alias is the name readers (and, for single indices, writers) use.
func (n names) alias(kind string) string { return n.prefix + "-" + kind }

// index is the concrete index of a single kind, and the name of its template.
func (n names) index(kind string) string {
	return fmt.Sprintf("%s-%s-v%d", n.prefix, kind, indexGeneration)
}

// eventIndex is the monthly partition that holds events inserted at t.
func (n names) eventIndex(t time.Time) string {
	return n.index(kindEvents) + "-" + t.UTC().Format("2006.01")
}

// rawField holds a document whose free-form parts could not be indexed as they are
// (a value whose type clashes with the mapping): the whole document is kept there,
// unindexed, so that the write is never lost; reads unwrap it.
const rawField = "tt_raw"

func keyword() map[string]any { return map[string]any{"type": "keyword"} }

func unindexedObject() map[string]any { return map[string]any{"type": "object", "enabled": false} }

// plainKeyword is a string field mapped without the date sub-field that the dynamic
// rule gives every other string (esdsl.Mapping): a field whose values are never instants
// (ids, addresses, statuses, user agents, URLs, names derived from the user agent). Its
// values are matched, ordered and searched as keywords as before; compared with a date
// it matches nothing, as query/eval answers for a value that is not a date. Each such
// field spares the cluster a failed date parse and an `_ignored` entry per document,
// most of an event's strings (docs/performance.md, production path).
func plainKeyword() map[string]any { return map[string]any{"type": "keyword", "ignore_above": 1024} }

// addPlainKeywords maps each dotted path under props as plainKeyword.
func addPlainKeywords(props map[string]any, paths ...string) {
	for _, p := range paths {
		m := props
		parts := strings.Split(p, ".")
		for _, part := range parts[:len(parts)-1] {
			obj, ok := m[part].(map[string]any)
			if !ok {
				obj = map[string]any{"properties": map[string]any{}}
				m[part] = obj
			}
			m = obj["properties"].(map[string]any)
		}
		m[parts[len(parts)-1]] = plainKeyword()
	}
}

// Strings of sessions and events set by the server from the request (its address, the
// user agent and what is parsed from it) or by processing, never instants.
var deviceKeywords = []string{"device.name", "device.brand", "device.model", "device.type", "device.ip", "device.resolution",
	"os.name", "os.version", "app.type", "app.name", "app.version", "app.language"}

// mapping returns the mappings of an index kind: the dynamic rules esdsl relies on
// (strings as keyword with a date sub-field, numbers as double, no date detection) plus
// explicit fields the store itself filters and sorts on.
func mapping(kind string) map[string]any {
	m := esdsl.Mapping()
	m["_meta"] = map[string]any{"schema_version": SchemaVersion, "kind": kind}
	props := map[string]any{"id": keyword(), rawField: unindexedObject()}
	switch kind {
	case kindProfiles:
		props["ids"] = keyword()
		// applied (the events last applied, read back with the document, never searched)
		// is kept out of the index: 32 ids and times per profile write.
		props["metadata"] = map[string]any{"properties": map[string]any{"merged_into": keyword(), "applied": unindexedObject()}}
	case kindSessions:
		props["profile"] = map[string]any{"properties": map[string]any{"id": keyword()}}
		addPlainKeywords(props, deviceKeywords...)
		addPlainKeywords(props, "metadata.status", "context.user_agent")
	case kindEvents:
		props["type"] = keyword()
		props["profile"] = map[string]any{"properties": map[string]any{"id": keyword()}}
		props["session"] = map[string]any{"properties": map[string]any{"id": keyword()}}
		addPlainKeywords(props, deviceKeywords...)
		addPlainKeywords(props, "metadata.ip", "metadata.status", "metadata.channel",
			"metadata.processed_by.rules", "metadata.processed_by.flows", "source.id",
			"hit.url", "hit.referer", "context.page.url", "context.page.referer.host",
			"context.browser.local.browser.userAgent", "context.browser.local.browser.language")
	case kindEntities:
		// Each kind of entity has its own document shape; keeping doc unindexed means
		// two kinds can never clash in one mapping.
		m = map[string]any{"dynamic": "strict", "_meta": m["_meta"]}
		props = map[string]any{"kind": keyword(), "id": keyword(), "version": map[string]any{"type": "long"},
			"updated": keyword(), "doc": unindexedObject()}
	case kindOutbox:
		return outboxMapping(m["_meta"])
	case kindKeys:
		m = map[string]any{"dynamic": "strict", "_meta": m["_meta"]}
		props = map[string]any{"path": keyword(), "value": map[string]any{"type": "keyword", "index": false},
			"ids": unindexedObject()}
	}
	m["properties"] = props
	return m
}

// refreshInterval is the configured refresh interval, or the default for a Store made
// without defaults (Templates).
func (s *Store) refreshInterval() time.Duration {
	if s.cfg.RefreshInterval > 0 {
		return s.cfg.RefreshInterval
	}
	return DefaultRefreshInterval
}

func (s *Store) template(kind string) map[string]any {
	pattern := s.names.index(kind)
	alias := map[string]any{"is_write_index": true}
	if kind == kindEvents {
		pattern += "-*"
		alias = map[string]any{} // read alias over the monthly partitions; writes name the partition
	}
	settings := map[string]any{
		"number_of_shards":   s.cfg.Shards,
		"number_of_replicas": s.cfg.Replicas,
		// Free-form traits, properties and context add fields; a clash of types within
		// a numeric or date field is ignored rather than refusing the document.
		"mapping.total_fields.limit": 10000,
		"mapping.ignore_malformed":   true,
	}
	if kind == kindEntities || kind == kindKeys || kind == kindOutbox {
		settings["number_of_shards"] = 1
	}
	if slices.Contains(refreshedKinds, kind) {
		settings["refresh_interval"] = refreshSetting(s.refreshInterval())
	}
	return map[string]any{
		"index_patterns": []string{pattern},
		"priority":       200,
		"version":        SchemaVersion,
		"_meta":          map[string]any{"schema_version": SchemaVersion, "owner": "thamesthrive"},
		"template": map[string]any{
			"settings": map[string]any{"index": settings},
			"mappings": mapping(kind),
			"aliases":  map[string]any{s.names.alias(kind): alias},
		},
	}
}

// ErrSchema is returned by Open when the indices are missing or of another version.
var ErrSchema = errors.New("index schema")

// createIndex creates an index (its template supplies settings, mappings and alias);
// one that exists already is fine.
func (s *Store) createIndex(ctx context.Context, name string) error {
	err := s.c.doJSON(ctx, http.MethodPut, "/"+name, map[string]any{}, nil)
	var ae *apiError
	if err == nil || errors.As(err, &ae) && ae.Status == http.StatusBadRequest &&
		strings.Contains(ae.Type, "already_exists") {
		return nil
	}
	return fmt.Errorf("creating index %s: %w", name, err)
}

// drop deletes every index and template of the prefix (tests only).
func (s *Store) drop(ctx context.Context) error {
	var res map[string]json0
	err := s.c.doJSON(ctx, http.MethodGet, "/"+url.PathEscape(s.names.prefix+"-*")+"/_mapping", nil, &res)
	if err != nil && statusOf(err) != http.StatusNotFound {
		return fmt.Errorf("listing indices: %w", err)
	}
	var indices []string
	for name := range res {
		if strings.HasPrefix(name, s.names.prefix+"-") {
			indices = append(indices, name)
		}
	}
	sort.Strings(indices)
	if len(indices) > 0 {
		if err := s.c.doJSON(ctx, http.MethodDelete, "/"+strings.Join(indices, ","), nil, nil); err != nil {
			return fmt.Errorf("deleting indices: %w", err)
		}
	}
	for _, kind := range allKinds() {
		err := s.c.doJSON(ctx, http.MethodDelete, "/_index_template/"+s.names.index(kind), nil, nil)
		if err != nil && statusOf(err) != http.StatusNotFound {
			return fmt.Errorf("deleting index template: %w", err)
		}
	}
	return nil
}

type json0 = struct{}
