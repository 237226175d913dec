//go:build modernc || ncruces || mattn

package main

import (
	"database/sql"
	"path/filepath"
)

// The schema and statements of internal/storage/sqlite (schema.go, sqlite.go), with the
// partial index FindByKey adds for the e-mail merge key.
const schema = `CREATE TABLE profiles (id TEXT PRIMARY KEY, merged_into TEXT, created TEXT NOT NULL, updated TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sessions (id TEXT PRIMARY KEY, profile_id TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX sessions_profile ON sessions(profile_id);
CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, profile_id TEXT NOT NULL, session_id TEXT NOT NULL, type TEXT NOT NULL, inserted TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX events_profile ON events(profile_id, inserted);
CREATE INDEX events_inserted ON events(inserted);
CREATE INDEX profiles_key_email ON profiles(json_extract(doc,'$.data.contact.email.main')) WHERE merged_into IS NULL AND json_extract(doc,'$.data.contact.email.main') IS NOT NULL;`

const (
	now           = "2026-11-27T02:24:04.986029Z"
	upsertProfile = `INSERT INTO profiles VALUES (?,NULL,?,?,?) ON CONFLICT(id) DO UPDATE SET updated=excluded.updated, doc=excluded.doc`
	upsertSession = `INSERT INTO sessions VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET updated=excluded.updated, doc=excluded.doc WHERE profile_id = excluded.profile_id`
	insertEvent   = `INSERT INTO events(id,profile_id,session_id,type,inserted,doc) VALUES (?,?,?,'page-view',?,?)`
)

type sqlEngine struct {
	w, r           *sql.DB
	getP, getS     *sql.Stmt
	upP, upS, insE *sql.Stmt
}

// openSQL opens a writer (page cache 8 MB) and a reader (2 MB) on the same file, as the
// product does.
func openSQL(driver, dir, sync string) (engine, error) {
	path := "file:" + filepath.Join(dir, "floor.db")
	w, err := sql.Open(driver, path)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	for _, p := range []string{"PRAGMA journal_mode=WAL", "PRAGMA synchronous=" + sync, "PRAGMA cache_size=-8000",
		"PRAGMA wal_autocheckpoint=4000", "PRAGMA busy_timeout=5000"} {
		if _, err := w.Exec(p); err != nil {
			return nil, err
		}
	}
	if _, err := w.Exec(`CREATE TABLE IF NOT EXISTS probe(x)`); err != nil {
		return nil, err
	}
	r, err := sql.Open(driver, path)
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(1)
	if _, err := r.Exec("PRAGMA cache_size=-2000"); err != nil {
		return nil, err
	}
	return &sqlEngine{w: w, r: r}, nil
}

func (e *sqlEngine) prepare() (err error) {
	for _, p := range []struct {
		db  *sql.DB
		st  **sql.Stmt
		sql string
	}{
		{e.r, &e.getP, `SELECT doc FROM profiles WHERE id = ?`},
		{e.r, &e.getS, `SELECT doc FROM sessions WHERE id = ?`},
		{e.w, &e.upP, upsertProfile},
		{e.w, &e.upS, upsertSession},
		{e.w, &e.insE, insertEvent},
	} {
		if *p.st, err = p.db.Prepare(p.sql); err != nil {
			return err
		}
	}
	return nil
}

func (e *sqlEngine) load(pids, sids []string, newID func() string) error {
	if _, err := e.w.Exec(schema); err != nil {
		return err
	}
	tx, err := e.w.Begin()
	if err != nil {
		return err
	}
	for i := range pids {
		if _, err := tx.Exec(upsertProfile, pids[i], now, now, sprintfProfile(pids[i], 1)); err != nil {
			return err
		}
		if _, err := tx.Exec(upsertSession, sids[i], pids[i], now, now, sprintfSession(sids[i], pids[i], 1)); err != nil {
			return err
		}
		if _, err := tx.Exec(insertEvent, newID(), pids[i], sids[i], now, eventDoc); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = e.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

func (e *sqlEngine) read(sid, pid string) error {
	if e.getP == nil {
		if err := e.prepare(); err != nil {
			return err
		}
	}
	var doc []byte
	if err := e.getS.QueryRow(sid).Scan(&doc); err != nil {
		return err
	}
	return e.getP.QueryRow(pid).Scan(&doc)
}

func (e *sqlEngine) write(vs []visit) error {
	tx, err := e.w.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	upP, upS, insE := tx.Stmt(e.upP), tx.Stmt(e.upS), tx.Stmt(e.insE)
	for _, v := range vs {
		if _, err := upP.Exec(v.pid, now, now, v.profile); err != nil {
			return err
		}
		if _, err := upS.Exec(v.sid, v.pid, now, now, v.session); err != nil {
			return err
		}
		if _, err := insE.Exec(v.eventID, v.pid, v.sid, now, eventDoc); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (e *sqlEngine) close() error {
	e.r.Close()
	return e.w.Close()
}
