package sqlite

import (
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// migrations are applied in order; PRAGMA user_version records how many ran. Append
// only: a released migration never changes.
//
// events.seq is a plain INTEGER PRIMARY KEY (the rowid), not AUTOINCREMENT, which would
// read and rewrite sqlite_sequence on every insert (18% of the writer's CPU per commit,
// docs/performance.md). A new rowid is the largest stored one plus one, so seq still
// orders the stored events by insertion (the tie-break of ListByProfile); only the seq
// of erased newest events can be given again, and nothing keeps seq values.
var migrations = []migration{
	{sql: `CREATE TABLE profiles (
		id TEXT PRIMARY KEY,
		merged_into TEXT,
		created TEXT NOT NULL,
		updated TEXT NOT NULL,
		doc TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE TABLE sessions (
		id TEXT PRIMARY KEY,
		profile_id TEXT NOT NULL,
		created TEXT NOT NULL,
		updated TEXT NOT NULL,
		doc TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX sessions_profile ON sessions(profile_id);
	CREATE TABLE events (
		seq INTEGER PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		profile_id TEXT NOT NULL,
		session_id TEXT NOT NULL,
		type TEXT NOT NULL,
		inserted TEXT NOT NULL,
		doc TEXT NOT NULL
	);
	CREATE INDEX events_profile ON events(profile_id, inserted);
	CREATE INDEX events_inserted ON events(inserted);
	CREATE TABLE entities (
		kind TEXT NOT NULL,
		id TEXT NOT NULL,
		version INTEGER NOT NULL,
		updated TEXT NOT NULL,
		doc TEXT NOT NULL,
		PRIMARY KEY (kind, id)
	) WITHOUT ROWID;`},
	// The work queue (the transactional outbox: rows are written in the transaction of
	// the event that caused them), its dead letters, and the destinations' delivery
	// log. Times are unix milliseconds.
	{sql: `CREATE TABLE work (
		seq INTEGER PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		topic TEXT NOT NULL,
		payload BLOB NOT NULL,
		enqueued INTEGER NOT NULL,
		due INTEGER NOT NULL,
		deliveries INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX work_due ON work(topic, due);
	CREATE TABLE work_dead (
		seq INTEGER PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		topic TEXT NOT NULL,
		payload BLOB NOT NULL,
		enqueued INTEGER NOT NULL,
		deliveries INTEGER NOT NULL,
		last_error TEXT NOT NULL,
		died INTEGER NOT NULL
	);
	CREATE INDEX work_dead_topic ON work_dead(topic, seq);
	CREATE TABLE delivery_log (
		seq INTEGER PRIMARY KEY,
		destination TEXT NOT NULL,
		doc TEXT NOT NULL
	);
	CREATE INDEX delivery_log_destination ON delivery_log(destination, seq);
	CREATE TABLE delivery_last (
		destination TEXT NOT NULL,
		subject TEXT NOT NULL,
		version TEXT NOT NULL,
		hash TEXT NOT NULL,
		PRIMARY KEY (destination, subject)
	) WITHOUT ROWID;`},
	// Version 3 (issue 16 C, docs/performance.md): reports at scale. event_counts holds the number of stored events per hour (unix seconds / 3600 of
	// inserted) and type, so that the events histogram and the breakdown by type read
	// whole hours from it instead of scanning events. The writer adds the events it
	// inserts in the same transaction (Store.insertEvents: far cheaper than a trigger per
	// row); the triggers count down every deletion (erasure, retention) and would follow
	// an update of an event's type or time. Events without a time ("") are not counted
	// (no report range holds them). The migration builds the table from the stored events.
	{sql: `CREATE TABLE event_counts (
		hour INTEGER NOT NULL,
		type TEXT NOT NULL,
		n INTEGER NOT NULL,
		PRIMARY KEY (hour, type)
	) WITHOUT ROWID;
	INSERT INTO event_counts(hour, type, n)
		SELECT CAST(strftime('%s', inserted) AS INTEGER) / 3600 AS h, type, count(*) FROM events WHERE h IS NOT NULL GROUP BY h, type;
	CREATE TRIGGER events_count_delete AFTER DELETE ON events BEGIN
		UPDATE event_counts SET n = n - 1 WHERE hour = CAST(strftime('%s', OLD.inserted) AS INTEGER) / 3600 AND type = OLD.type;
		DELETE FROM event_counts WHERE hour = CAST(strftime('%s', OLD.inserted) AS INTEGER) / 3600 AND type = OLD.type AND n <= 0;
	END;
	CREATE TRIGGER events_count_update AFTER UPDATE OF type, inserted ON events BEGIN
		UPDATE event_counts SET n = n - 1 WHERE hour = CAST(strftime('%s', OLD.inserted) AS INTEGER) / 3600 AND type = OLD.type;
		DELETE FROM event_counts WHERE hour = CAST(strftime('%s', OLD.inserted) AS INTEGER) / 3600 AND type = OLD.type AND n <= 0;
		INSERT INTO event_counts(hour, type, n)
			SELECT CAST(strftime('%s', NEW.inserted) AS INTEGER) / 3600 AS h, NEW.type, 1 WHERE h IS NOT NULL
			ON CONFLICT(hour, type) DO UPDATE SET n = n + 1;
	END;`},
	// Version 4 (issue 16 C, docs/performance.md "C, round 3"): profiles becomes a rowid
	// table. On a WITHOUT ROWID table SQLite seeks the table row for every entry of an
	// index on an expression, even where the index covers the query, so the total of a
	// search on an indexed path cost one B-tree seek per match; on a rowid table the
	// count is answered by the index alone. id stays the primary key (SQLite keeps it in
	// an automatic unique index, id → rowid), so every statement keeps working
	// unchanged, ON CONFLICT(id) included. The rows are copied in id order; every index
	// of the old table is made again from its own definition, except the path indexes
	// (Config.IndexedPaths), whose definition this version changes (id added, so that a
	// range's page is sorted on the index too): Open builds those.
	{run: rowidProfiles},
	// Version 5 (issue 16 C, docs/performance.md "C, round 4"): events_inserted carries
	// the type, so that the partial hours at either end of a report's range (the whole
	// hours come from event_counts) are counted by type on the index alone; keyed by
	// time only, each of those events was a look-up of its row (about 14,000 per
	// breakdown at 10,000,000 events over 60 days: 0.3 s). Range conditions on
	// metadata.time.insert use the same index as before (its first column).
	{sql: `DROP INDEX events_inserted;
	CREATE INDEX events_inserted ON events(inserted, type);`},
}

// migration is one step of the schema: SQL, or a function for a step that depends on
// what the database holds.
type migration struct {
	sql string
	run func(tx *sql.Tx) error
}

// rowidProfiles is migration 4: profiles rewritten as a rowid table.
func rowidProfiles(tx *sql.Tx) error {
	rows, err := tx.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'profiles' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		return err
	}
	var indexes []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return err
		}
		// "profiles_path_": pathIndexPrefix when this migration was written, spelled out
		// so that the migration stays what it was
		if !strings.HasPrefix(name, "profiles_path_") {
			indexes = append(indexes, def)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, q := range append([]string{
		`ALTER TABLE profiles RENAME TO profiles_v3`,
		`CREATE TABLE profiles (
			id TEXT PRIMARY KEY,
			merged_into TEXT,
			created TEXT NOT NULL,
			updated TEXT NOT NULL,
			doc TEXT NOT NULL
		)`,
		`INSERT INTO profiles(id, merged_into, created, updated, doc)
			SELECT id, merged_into, created, updated, doc FROM profiles_v3 ORDER BY id`,
		`DROP TABLE profiles_v3`,
	}, indexes...) {
		if _, err := tx.Exec(q); err != nil {
			return err
		}
	}
	return nil
}

// migrate brings db to the newest schema version, one transaction per migration, and
// logs each step with its duration (a rewrite of a large store takes minutes).
func migrate(db *sql.DB, log *slog.Logger) error {
	var version int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d): upgrade thamesthrive", version, len(migrations))
	}
	if version > 0 && version < len(migrations) {
		log.Info("store_upgrading", "from_version", version, "to_version", len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		start := time.Now()
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		m := migrations[i]
		if m.run != nil {
			err = m.run(tx)
		} else {
			_, err = tx.Exec(m.sql)
		}
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("applying migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("recording migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("committing migration %d: %w", i+1, err)
		}
		if version > 0 {
			log.Info("store_migrated", "version", i+1, "seconds", time.Since(start).Seconds())
		}
	}
	return nil
}
