package main

import (
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	_ "modernc.org/sqlite"

	"github.com/thamesthrive/thamesthrive/internal/loadtest"
)

// internalSource is the source id of the events the server makes itself (segment-entered,
// segment-left): internal/pipeline.InternalSource.
const internalSource = "internal"

// storedFile is what `loadgen countdb` writes: the counts the nothing-lost check compares
// with what was acknowledged, and beside them what the fixtures left in the database.
type storedFile struct {
	loadtest.StoredCounts
	// Internal events, stored in addition to the /track events counted in Events.
	InternalEvents       int64            `json:"internal_events"`
	InternalEventsByType map[string]int64 `json:"internal_events_by_type,omitempty"`
	Effects              *effects         `json:"effects,omitempty"`
}

// effects counts what rules, flows and segments did: events each rule and flow processed
// (metadata.processed_by) and live profiles holding each segment, counter, interest, trait
// and consent.
type effects struct {
	RuleEvents map[string]int64 `json:"rule_events"`
	FlowEvents map[string]int64 `json:"flow_events"`
	Segments   map[string]int64 `json:"segments"`
	Counters   map[string]int64 `json:"counters"`
	Interests  map[string]int64 `json:"interests"`
	Traits     map[string]int64 `json:"traits"`
	Consents   map[string]int64 `json:"consents"`
}

// cmdCountDB counts stored rows straight from the server's SQLite file, read-only, after the
// server stopped: the nothing-lost check must not trust the server's own word.
func cmdCountDB(args []string) error {
	fs := flag.NewFlagSet("countdb", flag.ExitOnError)
	path := fs.String("db", "", "SQLite database file")
	fs.Parse(args)
	if *path == "" {
		return fmt.Errorf("-db is required")
	}
	if _, err := os.Stat(*path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+*path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	out, err := countStored(db)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// countStored counts the events by type, the /track events (Events, EventsByType) apart
// from the internal ones, and the rows and fixture effects given for information.
func countStored(db *sql.DB) (*storedFile, error) {
	out := &storedFile{}
	rows, err := db.Query(`SELECT type, coalesce(json_extract(doc, '$.source.id'), '') = ?, count(*)
		FROM events GROUP BY 1, 2`, internalSource)
	if err != nil {
		return nil, fmt.Errorf("counting events: %w", err)
	}
	out.EventsByType = map[string]int64{}
	for rows.Next() {
		var t string
		var internal bool
		var n int64
		if err := rows.Scan(&t, &internal, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("counting events: %w", err)
		}
		if internal {
			if out.InternalEventsByType == nil {
				out.InternalEventsByType = map[string]int64{}
			}
			out.InternalEventsByType[t] += n
			out.InternalEvents += n
		} else {
			out.EventsByType[t] += n
			out.Events += n
		}
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("counting events: %w", err)
	}
	// The rest is for information: a schema without it is no failure.
	count := func(q string) *int64 {
		var n int64
		if db.QueryRow(q).Scan(&n) != nil {
			return nil
		}
		return &n
	}
	out.Profiles = count("SELECT count(*) FROM profiles")
	out.Sessions = count("SELECT count(*) FROM sessions")
	out.MergedProfiles = count("SELECT count(*) FROM profiles WHERE " + merged)
	out.Effects = countEffects(db)
	return out, nil
}

const merged = "merged_into IS NOT NULL AND merged_into != ''"

// countEffects counts, per name, the events processed by each rule and flow and the live
// profiles holding each segment, counter, interest, trait and consent. Queries that fail
// leave their map nil.
func countEffects(db *sql.DB) *effects {
	group := func(q string) map[string]int64 {
		rows, err := db.Query(q)
		if err != nil {
			return nil
		}
		defer rows.Close()
		m := map[string]int64{}
		for rows.Next() {
			var k string
			var n int64
			if rows.Scan(&k, &n) != nil {
				return nil
			}
			m[k] = n
		}
		if rows.Err() != nil {
			return nil
		}
		return m
	}
	events := func(path string) map[string]int64 {
		return group(`SELECT j.value, count(*) FROM events, json_each(events.doc, '` + path + `') j GROUP BY 1`)
	}
	profiles := func(path, col string) map[string]int64 {
		return group(`SELECT j.` + col + `, count(*) FROM profiles, json_each(profiles.doc, '` + path + `') j
			WHERE NOT (` + merged + `) GROUP BY 1`)
	}
	return &effects{
		RuleEvents: events("$.metadata.processed_by.rules"),
		FlowEvents: events("$.metadata.processed_by.flows"),
		Segments:   profiles("$.segments", "value"),
		Counters:   profiles("$.stats.counters", "key"),
		Interests:  profiles("$.interests", "key"),
		Traits:     profiles("$.traits", "key"),
		Consents:   profiles("$.consents", "key"),
	}
}
