package sqlgen_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/querytest"
	"github.com/thamesthrive/thamesthrive/internal/query/sqlgen"
)

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+t.TempDir()+"/q.db")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE docs (id TEXT PRIMARY KEY, doc TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// loadDocs replaces the docs table's rows with docs.
func loadDocs(db *sql.DB, docs []map[string]any) error {
	if _, err := db.Exec(`DELETE FROM docs`); err != nil {
		return err
	}
	for _, d := range docs {
		raw, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if _, err := db.Exec(`INSERT INTO docs (id, doc) VALUES (?, ?)`, d["id"], string(raw)); err != nil {
			return err
		}
	}
	return nil
}

// backend stores a case's documents in a real SQLite table and runs the
// generated WHERE over it.
type backend struct{ db *sql.DB }

func (b backend) Match(t *testing.T, c querytest.Case) ([]string, error) {
	if err := loadDocs(b.db, c.Docs); err != nil {
		return nil, err
	}
	e, err := c.Parse()
	if err != nil {
		return nil, err
	}
	where, args, err := sqlgen.Where(e, sqlgen.Options{Columns: map[string]string{c.DocScope(): "d.doc"}, Now: querytest.Now})
	if err != nil {
		return nil, err
	}
	return query1(b.db, where, args)
}

func query1(db *sql.DB, where string, args []any) ([]string, error) {
	rows, err := db.Query(`SELECT d.id FROM docs AS d WHERE `+where+` ORDER BY d.id`, args...)
	if err != nil {
		if len(where) > 300 {
			where = where[:300] + "…"
		}
		return nil, fmt.Errorf("running %s: %w", where, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func TestCorpus(t *testing.T) {
	querytest.Run(t, backend{openDB(t)})
}

func TestScopeErrors(t *testing.T) {
	e := query.MustParse(`profile@a == 1 AND session@device.type == "mobile"`)
	_, _, err := sqlgen.Where(e, sqlgen.Options{Columns: map[string]string{"profile": "p.doc"}})
	var qe *query.Error
	if !errors.As(err, &qe) || err.Error() != "line 1, col 20: scope session cannot be used here (available: profile)" {
		t.Errorf("err = %v", err)
	}
	if _, _, err := sqlgen.Where(nil, sqlgen.Options{}); err == nil {
		t.Error("nil expression accepted")
	}
	bad := &query.Check{Op: query.Exists, X: &query.Field{Scope: "profile", Path: []string{`a"b`}}}
	if _, _, err := sqlgen.Where(bad, sqlgen.Options{Columns: map[string]string{"profile": "p.doc"}}); err == nil {
		t.Error("invalid segment accepted")
	}
}

func TestArgs(t *testing.T) {
	e := query.MustParse(`profile@a == "x'y" AND profile@b > 2 AND profile@c < now.offset("-1d")`)
	where, args, err := sqlgen.Where(e, sqlgen.Options{Columns: map[string]string{"profile": "p.doc"}, Now: querytest.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The parameters appear twice: once for rows read directly, once for
	// rows that need the walk.
	want := []any{"x'y", 2.0, "2024-06-14T12:00:00.000Z", "x'y", 2.0, "2024-06-14T12:00:00.000Z"}
	if fmt.Sprint(args) != fmt.Sprint(want) {
		t.Errorf("args = %#v, want %#v", args, want)
	}
	if strings.Count(where, "?") != len(args) {
		t.Errorf("%d placeholders for %d args", strings.Count(where, "?"), len(args))
	}
	if strings.Contains(where, "x'y") {
		t.Error("a literal was written into the SQL")
	}
}

// TestLimits runs the largest conditions the parser accepts.
func TestLimits(t *testing.T) {
	db := openDB(t)
	if _, err := db.Exec(`INSERT INTO docs VALUES ('a', '{"n": 1, "s": "x"}')`); err != nil {
		t.Fatal(err)
	}
	long := `profile@n == 2` + strings.Repeat(` OR profile@n == 2`, 495) + ` OR profile@n == 1`
	deep := strings.Repeat(`NOT (`, 30) + `profile@s == "x"` + strings.Repeat(`)`, 30)
	mixed := strings.Repeat(`(profile@n == 1 AND `, 30) + `profile@s EXISTS` + strings.Repeat(`)`, 30)
	for name, cond := range map[string]string{"long": long, "deep": deep, "mixed": mixed} {
		e, err := query.Parse(cond)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		where, args, err := sqlgen.Where(e, sqlgen.Options{Columns: map[string]string{"profile": "d.doc"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ids, err := query1(db, where, args)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(ids) != 1 {
			t.Errorf("%s matched %v", name, ids)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	db := openDB(b)
	tx, _ := db.Begin()
	for i := range 5000 {
		doc := fmt.Sprintf(`{"stats":{"visits":%d},"data":{"contact":{"email":{"main":"u%d@example.com"}}},"segments":["s%d","all"],"metadata":{"time":{"insert":"2024-06-%02dT10:00:00.000000Z"}}}`,
			i%100, i, i%7, 1+i%28)
		if _, err := tx.Exec(`INSERT INTO docs VALUES (?, ?)`, fmt.Sprint(i), doc); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	for _, cond := range []string{
		`profile@stats.visits > 50`,
		`profile@segments CONTAINS "s3"`,
		`profile@data.contact.email.main ENDS WITH "7@example.com" AND profile@traits.vip NOT EXISTS`,
		`profile@metadata.time.insert > now.offset("-7d")`,
	} {
		e := query.MustParse(cond)
		where, args, err := sqlgen.Where(e, sqlgen.Options{Columns: map[string]string{"profile": "d.doc"}, Now: time.Date(2024, 6, 29, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(cond, func(b *testing.B) {
			for b.Loop() {
				if _, err := query1(db, where, args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestScopes reads two scopes from two rows of a join.
func TestScopes(t *testing.T) {
	db := openDB(t)
	if _, err := db.Exec(`INSERT INTO docs VALUES ('p', '{"n": 3, "tags": ["a", "b"]}'), ('e', '{"n": 3, "items": [{"t": "b"}]}')`); err != nil {
		t.Fatal(err)
	}
	for cond, want := range map[string]bool{
		`profile@n == event@n`:                             true,
		`profile@tags CONTAINS event@items.t`:              true,
		`profile@n > event@n OR event@items.0.t == "c"`:    false,
		`event@items.0.t == "b" AND profile@tags.1 == "b"`: true,
	} {
		where, args, err := sqlgen.Where(query.MustParse(cond), sqlgen.Options{Columns: map[string]string{"profile": "p.doc", "event": "e.doc"}})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM docs AS p, docs AS e WHERE p.id = 'p' AND e.id = 'e' AND `+where, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
		if (n == 1) != want {
			t.Errorf("%s = %v, want %v", cond, n == 1, want)
		}
	}
}

// prefiltered runs each case with every field of its condition indexed (an expression
// index on PathExpr, as the embedded store keeps for INDEXED_PATHS), through
// WhereIndexed: the corpus then checks that stating the comparisons on the index changes
// no answer, and the plans that SQLite answers them from the index.
type prefiltered struct {
	db         *sql.DB
	plans      *int // cases whose plan searched an index
	noSentinel bool // set sqlgen.Index.NoSentinel where no document has an array on the path
}

func fieldsOf(e query.Expr, out map[string][]string) {
	add := func(o query.Operand) {
		if f, ok := o.(*query.Field); ok && sqlgen.IndexablePath(f.Path) {
			out[f.Scope+"@"+strings.Join(f.Path, ".")] = f.Path
		}
	}
	switch e := e.(type) {
	case *query.Binary:
		fieldsOf(e.X, out)
		fieldsOf(e.Y, out)
	case *query.Not:
		fieldsOf(e.X, out)
	case *query.Compare:
		add(e.X)
		add(e.Y)
	case *query.Between:
		add(e.X)
	case *query.Check:
		add(e.X)
	}
}

func (b prefiltered) Match(t *testing.T, c querytest.Case) ([]string, error) {
	e, err := c.Parse()
	if err != nil {
		return nil, err
	}
	fields := map[string][]string{}
	fieldsOf(e, fields)
	indexed := map[string]sqlgen.Index{}
	var drops []string
	for key, path := range fields {
		if !strings.HasPrefix(key, c.DocScope()+"@") {
			continue
		}
		name := fmt.Sprintf("ix%d", len(drops))
		if _, err := b.db.Exec(`CREATE INDEX ` + name + ` ON docs(` + sqlgen.PathExpr("doc", path) + `)`); err != nil {
			return nil, err
		}
		drops = append(drops, name)
		indexed[key] = sqlgen.Index{Expr: sqlgen.PathExpr("d.doc", path), Kind: sqlgen.IndexValue}
	}
	defer func() {
		for _, n := range drops {
			b.db.Exec(`DROP INDEX ` + n)
		}
	}()
	if err := loadDocs(b.db, c.Docs); err != nil {
		return nil, err
	}
	if b.noSentinel {
		// as the embedded store does: a path no document has an array on is compared on
		// the index alone
		for key, ix := range indexed {
			var some int
			if err := b.db.QueryRow(`SELECT EXISTS (SELECT 1 FROM docs AS d WHERE ` + ix.Expr + ` = ` + sqlgen.Sentinel + `)`).Scan(&some); err != nil {
				return nil, err
			}
			ix.NoSentinel = some == 0
			indexed[key] = ix
		}
	}
	where, args, err := sqlgen.WhereIndexed(e, sqlgen.Options{Columns: map[string]string{c.DocScope(): "d.doc"}, Now: querytest.Now}, indexed)
	if err != nil {
		return nil, err
	}
	if len(indexed) > 0 {
		var plan []string
		rows, err := b.db.Query(`EXPLAIN QUERY PLAN SELECT d.id FROM docs AS d WHERE `+where, args...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		for rows.Next() {
			var a, p, x int
			var d string
			rows.Scan(&a, &p, &x, &d)
			plan = append(plan, d)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); strings.Contains(p, "INDEX ix") {
			*b.plans++
		}
	}
	return query1(b.db, where, args)
}

func TestCorpusPrefiltered(t *testing.T) {
	for _, noSentinel := range []bool{false, true} {
		t.Run(fmt.Sprintf("noSentinel=%v", noSentinel), func(t *testing.T) {
			var plans int
			querytest.Run(t, prefiltered{openDB(t), &plans, noSentinel})
			if plans < 50 {
				t.Errorf("only %d cases were planned on a path index", plans)
			}
			t.Logf("%d cases were planned on a path index", plans)
		})
	}
}

// TestIndexedTime checks IndexTime's exact comparisons against Where on times in the
// stored layout around a bound: same second, a millisecond and a microsecond either
// side, and a row without a time (null in the document, "" in the column).
func TestIndexedTime(t *testing.T) {
	db := openDB(t)
	if _, err := db.Exec(`ALTER TABLE docs ADD COLUMN at TEXT`); err != nil {
		t.Fatal(err)
	}
	bound := querytest.Now.Add(-24 * time.Hour)
	var n int
	for _, d := range []time.Duration{-2 * time.Second, -time.Second, -time.Millisecond, -time.Microsecond, 0, time.Microsecond,
		500 * time.Microsecond, time.Millisecond, 999 * time.Millisecond, time.Second, 3 * time.Second} {
		for _, base := range []time.Time{bound, bound.Add(123456 * time.Microsecond)} {
			at := base.Add(d).UTC().Format("2006-01-02T15:04:05.000000Z")
			raw, _ := json.Marshal(map[string]any{"metadata": map[string]any{"time": map[string]any{"insert": at}}})
			if _, err := db.Exec(`INSERT INTO docs (id, doc, at) VALUES (?, ?, ?)`, fmt.Sprint(n), string(raw), at); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if _, err := db.Exec(`INSERT INTO docs (id, doc, at) VALUES ('zero', '{"metadata":{"time":{"insert":null}}}', '')`); err != nil {
		t.Fatal(err)
	}
	indexed := map[string]sqlgen.Index{"event@metadata.time.insert": {Expr: "d.at", Kind: sqlgen.IndexTime}}
	for _, b := range []string{`now.offset("-1d")`, `datetime("` + bound.Add(123456*time.Microsecond).Format(time.RFC3339Nano) + `")`,
		`datetime("` + bound.Add(time.Second).Format(time.RFC3339) + `")`, `"` + bound.Add(123456*time.Microsecond).Format("2006-01-02T15:04:05.000000Z") + `"`} {
		for _, cond := range []string{"event@metadata.time.insert > " + b, "event@metadata.time.insert >= " + b,
			"event@metadata.time.insert < " + b, "event@metadata.time.insert <= " + b, "event@metadata.time.insert == " + b,
			"event@metadata.time.insert BETWEEN " + b + " AND " + b, "event@metadata.time.insert == [" + b + "]"} {
			if strings.Contains(cond, "[") && !strings.HasPrefix(b, `"`) {
				continue // lists hold literals
			}
			e, err := query.Parse(cond)
			if err != nil {
				t.Fatal(err)
			}
			where, args, err := sqlgen.Where(e, sqlgen.Options{Columns: map[string]string{"event": "d.doc"}, Now: querytest.Now})
			if err != nil {
				t.Fatal(err)
			}
			want, err := query1(db, where, args)
			if err != nil {
				t.Fatal(err)
			}
			on, oargs, err := sqlgen.WhereIndexed(e, sqlgen.Options{Columns: map[string]string{"event": "d.doc"}, Now: querytest.Now}, indexed)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(on, "json_") {
				t.Errorf("%s: %s reads the document", cond, on)
			}
			got, err := query1(db, on, oargs)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") || len(want) == 0 && !strings.Contains(cond, "==") && !strings.Contains(cond, "BETWEEN") {
				t.Errorf("%s: prefiltered %v, exact %v", cond, got, want)
			}
		}
	}
}
