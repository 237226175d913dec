package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/eval"
	"github.com/thamesthrive/thamesthrive/internal/query/sqlgen"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

var scaleTypes = []string{"page-view", "purchase", "sign-in"}

// eventsAround builds n events of profiles p0..p4 at times spread over the days
// before end, some of them exactly on an hour.
func eventsAround(end time.Time, n int, seed uint64) *storage.Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := &storage.Batch{}
	for i := range n {
		at := end.Add(-time.Duration(rng.Int64N(int64(10 * 24 * time.Hour))))
		if i%7 == 0 {
			at = at.Truncate(time.Hour)
		}
		t := domain.NewTime(at)
		pid := fmt.Sprintf("p%d", i%5)
		e := &domain.Event{ID: fmt.Sprintf("e%d-%d", seed, i), Type: scaleTypes[rng.IntN(len(scaleTypes))],
			Profile: domain.Ref{ID: pid}, Session: domain.EventSession{ID: "s" + pid}, Properties: map[string]any{},
			Traits: map[string]any{}, Context: map[string]any{}, Data: map[string]any{}}
		e.Metadata.Time = domain.EventTime{Insert: t, Create: t}
		b.Events = append(b.Events, e)
	}
	return b
}

// checkCounts compares event_counts with the events table, and the reports read from
// it with the same reports computed by scanning events.
func checkCounts(t *testing.T, s *Store, end time.Time, stage string) {
	t.Helper()
	ctx := context.Background()
	var diff int
	err := s.r.QueryRow(`SELECT count(*) FROM (
		SELECT hour, type, n FROM event_counts EXCEPT
		SELECT CAST(strftime('%s', inserted) AS INTEGER) / 3600, type, count(*) FROM events GROUP BY 1, 2) `).Scan(&diff)
	if err != nil {
		t.Fatal(err)
	}
	var rows, events, sum int64
	s.r.QueryRow(`SELECT count(*), coalesce(sum(n), 0) FROM event_counts`).Scan(&rows, &sum)
	s.r.QueryRow(`SELECT count(*) FROM events WHERE inserted != ''`).Scan(&events)
	if diff != 0 || sum != events {
		t.Fatalf("%s: event_counts has %d rows unlike events', sums to %d for %d events", stage, diff, sum, events)
	}
	r := reports{s}
	for _, rg := range [][2]time.Time{
		{end.Add(-30 * 24 * time.Hour), end},
		{end.Add(-3*24*time.Hour - 17*time.Minute), end.Add(-90 * time.Second)},
		{end.Truncate(time.Hour).Add(-48 * time.Hour), end.Truncate(time.Hour)},
		{end.Add(-50 * time.Minute), end.Add(-10 * time.Minute)}, // no whole hour
	} {
		for _, iv := range []time.Duration{time.Hour, 24 * time.Hour, storage.Week, 30 * time.Minute} {
			q := storage.Histogram{From: rg[0], To: rg[1], Interval: iv}
			got, err := r.EventHistogram(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := r.histogram(ctx, eventTable, "d.inserted", q)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: histogram %v by %v: summary %v, scan %v", stage, rg, iv, got, want)
			}
		}
		got, err := r.EventBreakdown(ctx, storage.Breakdown{From: rg[0], To: rg[1], Field: "type", Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		var want []storage.Count
		rs, err := s.r.Query(`SELECT type, count(*) AS n FROM events WHERE inserted >= ? AND inserted < ? GROUP BY type ORDER BY n DESC, type LIMIT 2`,
			stamp(rg[0]), stamp(rg[1]))
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var c storage.Count
			rs.Scan(&c.Value, &c.Count)
			want = append(want, c)
		}
		rs.Close()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: breakdown %v: summary %v, scan %v", stage, rg, got, want)
		}
	}
}

// TestEventCountsFollowEvents checks that the summary the histogram and the breakdown
// read stays equal to the events through inserts, duplicates, erasure and retention.
func TestEventCountsFollowEvents(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	end := time.Date(2026, 3, 9, 14, 25, 7, 0, time.UTC)
	b := eventsAround(end, 3000, 1)
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, s, end, "inserted")
	// The same events again (INSERT OR IGNORE skips them), a few new ones and one
	// without a time (not counted).
	b.Events = append(b.Events, eventsAround(end, 50, 2).Events...)
	zero := eventsAround(end, 1, 5).Events[0]
	zero.Metadata.Time.Insert = domain.Time{}
	b.Events = append(b.Events, zero)
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, s, end, "duplicates")
	if _, err := s.Erasure().Erase(ctx, []string{"p1"}); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, s, end, "erased p1")
	if err := s.Erasure().DeleteEvent(ctx, b.Events[0].ID); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, s, end, "deleted one event")
	if _, err := s.DeleteEventsBefore(ctx, end.Add(-5*24*time.Hour).Truncate(time.Hour).Add(-time.Second), nil); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, s, end, "retention")
	var n int
	s.r.QueryRow(`SELECT count(*) FROM event_counts WHERE n <= 0`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d empty rows left in event_counts", n)
	}
}

// TestBreakdownEdgesReadTheIndex checks that the partial hours of a breakdown by type
// are counted on events_inserted alone: no instruction reads an event's row.
func TestBreakdownEdgesReadTheIndex(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	end := time.Date(2026, 3, 9, 14, 25, 7, 0, time.UTC)
	if err := s.Commit(context.Background(), eventsAround(end, 500, 4)); err != nil {
		t.Fatal(err)
	}
	from, to := stamp(end.Add(-time.Hour)), stamp(end)
	if reads := tableReads(t, s.w, "events", edgeTypeCounts, from, to); len(reads) > 0 {
		t.Fatalf("the edge count reads the events table: %v (plan: %s)", reads, plan(t, s.w, edgeTypeCounts, from, to))
	}
	if p := plan(t, s.w, edgeTypeCounts, from, to); !strings.Contains(p, "COVERING INDEX events_inserted") {
		t.Fatalf("plan: %s", p)
	}
}

// TestUpgradeBuildsEventCounts opens a database of schema version 2 that holds events:
// the migration to version 3 builds event_counts from them.
func TestUpgradeBuildsEventCounts(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 3, 9, 14, 25, 7, 0, time.UTC)
	if err := s.Commit(context.Background(), eventsAround(end, 500, 3)); err != nil {
		t.Fatal(err)
	}
	// Back to version 2: what the binary of that version left.
	for _, q := range []string{`DROP TRIGGER events_count_delete`, `DROP TRIGGER events_count_update`,
		`DROP TABLE event_counts`, `PRAGMA user_version = 2`} {
		if _, err := s.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	var log bytes.Buffer
	s, err = Open(Config{Dir: dir, Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	s.r.QueryRow(`PRAGMA user_version`).Scan(&v)
	if v != len(migrations) {
		t.Fatalf("schema version %d after opening, want %d", v, len(migrations))
	}
	checkCounts(t, s, end, "upgraded")
	// An upgrade says what it does and how long each step took.
	if !strings.Contains(log.String(), `"msg":"store_upgrading","from_version":2`) ||
		!strings.Contains(log.String(), fmt.Sprintf(`"msg":"store_migrated","version":%d,"seconds":`, len(migrations))) {
		t.Fatalf("upgrade log: %s", log.String())
	}
}

func plan(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a, b, x int
		var d string
		rows.Scan(&a, &b, &x, &d)
		out = append(out, d)
	}
	return strings.Join(out, "; ")
}

// TestIndexedPaths checks that searches comparing an indexed profile path or an event's
// time or type are planned on an index, and answer what the condition evaluated on
// every document answers; and that reopening without a path drops its index.
func TestIndexedPaths(t *testing.T) {
	dir := t.TempDir()
	paths := []string{"traits.tier", "traits.value"}
	s, err := Open(Config{Dir: dir, IndexedPaths: paths})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2026, 3, 9, 14, 25, 7, 0, time.UTC)
	b := eventsAround(now, 400, 4)
	for i := range 300 {
		p := domain.NewProfile(fmt.Sprintf("q%03d", i), domain.NewTime(now))
		switch i % 6 {
		case 0:
			p.Traits["tier"] = "gold"
		case 1:
			p.Traits["tier"] = []any{"silver", "gold"}
		case 2:
			p.Traits["tier"] = map[string]any{"name": "gold"}
		case 3:
			p.Traits["tier"] = "bronze"
		case 4:
			p.Traits["tier"] = 7.0
		case 5:
			p.Traits["tier"] = true
		}
		if i%5 != 0 {
			p.Traits["value"] = float64(i * 10)
		} else {
			p.Traits["value"] = fmt.Sprint(i * 10)
		}
		b.Profiles = append(b.Profiles, p)
	}
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	type c struct {
		tb       table
		cond     string
		index    string
		covering bool // counted on the index alone: no profile has an array on the path
	}
	cases := []c{
		{s.profileTable, `profile@traits.tier == "gold"`, "profiles_path_traits_tier", false},
		{s.profileTable, `profile@traits.tier == ["gold", "bronze"]`, "profiles_path_traits_tier", false},
		{s.profileTable, `profile@traits.tier > "c"`, "profiles_path_traits_tier", false},
		{s.profileTable, `profile@traits.tier == 7`, "profiles_path_traits_tier", false},
		{s.profileTable, `profile@traits.tier == 1 or profile@traits.tier == "bronze"`, "SCAN", false}, // OR: left to Where
		{s.profileTable, `profile@traits.value > 2000`, "profiles_path_traits_value", true},
		{s.profileTable, `profile@traits.value <= 1000`, "profiles_path_traits_value", true},
		{s.profileTable, `profile@traits.value == 1010`, "profiles_path_traits_value", true},
		{s.profileTable, `profile@traits.value BETWEEN 100 AND 400 and profile@traits.tier != "gold"`, "profiles_path_traits_value", false},
		{s.profileTable, `profile@traits.value < "2"`, "profiles_path_traits_value", true},
		{eventTable, `event@metadata.time.insert > now.offset("-1d")`, "events_inserted", false},
		{eventTable, `event@metadata.time.insert <= now.offset("-9d")`, "events_inserted", false},
		{eventTable, `event@type == "purchase" and event@metadata.time.insert > now.offset("-2d")`, "events_inserted", false},
		{eventTable, `event@profile.id == "p3"`, "events_profile", false},
	}
	for _, k := range cases {
		e, err := query.Parse(k.cond)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := k.tb.withoutSentinels(ctx, s.w)
		if err != nil {
			t.Fatal(err)
		}
		where, args, err := tb.where(storage.Query{Where: e, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		// (on the writer's connection, which made the indexes: EXPLAIN on a reader opened
		// before them shows the plan of the schema that reader last read)
		if p := plan(t, s.w, `SELECT count(*) FROM `+k.tb.name+` AS d WHERE `+where, args...); !strings.Contains(p, "INDEX "+k.index) && !(k.index == "SCAN" && strings.HasPrefix(p, "SCAN d")) {
			t.Errorf("%s: plan %q, want index %s", k.cond, p, k.index)
		} else if k.covering && !strings.Contains(p, "COVERING INDEX "+k.index) {
			t.Errorf("%s: plan %q, want the count on index %s alone", k.cond, p, k.index)
		}
		if k.covering {
			// and really alone (the program, not only the plan): no row of profiles is
			// read for the total, nor for choosing the page (sorted by created, then id)
			order, err := tb.orderBy(nil)
			if err != nil {
				t.Fatal(err)
			}
			if r := tableReads(t, s.w, "profiles", `SELECT count(*) FROM profiles AS d WHERE `+where, args...); len(r) > 0 {
				t.Errorf("%s: the count reads profiles' rows: %v", k.cond, r)
			}
			if r := tableReads(t, s.w, "profiles", `SELECT d.id FROM profiles AS d WHERE `+where+` ORDER BY `+order+` LIMIT 20`, args...); len(r) > 0 {
				t.Errorf("%s: choosing the page reads profiles' rows: %v", k.cond, r)
			}
		}
		got := docsOf(t, s.r, `SELECT d.doc FROM `+k.tb.name+` AS d WHERE `+where, args...)
		all := docsOf(t, s.r, `SELECT d.doc FROM `+k.tb.name+` AS d`)
		var want []string
		for id, doc := range all {
			if eval.Eval(e, eval.Maps{k.tb.scope: doc}, now) {
				want = append(want, id)
			}
		}
		g := sortedKeys(got)
		slices.Sort(want)
		if len(want) == 0 || fmt.Sprint(g) != fmt.Sprint(want) {
			t.Errorf("%s: %d found, %d match:\n%v\n%v", k.cond, len(g), len(want), g, want)
		}
	}
	s.Close()
	s, err = Open(Config{Dir: dir, IndexedPaths: paths[1:]})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	s.r.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'profiles_path_%'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d path indexes after reopening with one path", n)
	}
}

func docsOf(t *testing.T, db *sql.DB, q string, args ...any) map[string]map[string]any {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[string]any{}
	for rows.Next() {
		var raw []byte
		rows.Scan(&raw)
		doc, err := domain.DecodeDoc[map[string]any](raw)
		if err != nil {
			t.Fatal(err)
		}
		out[(*doc)["id"].(string)] = *doc
	}
	return out
}

func sortedKeys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// cursorReads are the opcodes that position or read the cursor of their P1.
var cursorReads = map[string]bool{"Column": true, "Rowid": true, "RowData": true, "NotFound": true, "Found": true,
	"NotExists": true, "SeekRowid": true, "SeekGE": true, "SeekGT": true, "SeekLE": true, "SeekLT": true, "SeekEnd": true,
	"Rewind": true, "Last": true, "Next": true, "Prev": true, "Count": true, "IdxRowid": true, "NoConflict": true}

// tableReads returns the opcodes of q's program (EXPLAIN, not EXPLAIN QUERY PLAN) that
// read a row of table name: any instruction on a cursor opened on the table's own
// B-tree other than opening or closing it (Column, NotFound, SeekRowid, NotExists, …).
// A DeferredSeek (on the index's cursor, naming the table's) is lazy: it costs nothing
// unless a later instruction reads the row, which this reports.
func tableReads(t *testing.T, db *sql.DB, name, q string, args ...any) []string {
	t.Helper()
	var root int64
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&root); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`EXPLAIN `+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type op struct {
		code       string
		p1, p2, p3 int64
	}
	var prog []op
	for rows.Next() {
		var addr, p1, p2, p3, p5 int64
		var code string
		var p4, comment sql.NullString
		if err := rows.Scan(&addr, &code, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
			t.Fatal(err)
		}
		prog = append(prog, op{code, p1, p2, p3})
	}
	cursors := map[int64]bool{}
	for _, o := range prog {
		if (o.code == "OpenRead" || o.code == "ReopenIdx") && o.p2 == root && o.p3 == 0 {
			cursors[o.p1] = true
		}
	}
	var out []string
	for _, o := range prog {
		if cursors[o.p1] && cursorReads[o.code] {
			out = append(out, o.code)
		}
	}
	if testing.Verbose() {
		t.Logf("%s: %v", q, prog)
	}
	return out
}

// TestUpgradeToRowidProfiles opens a store as the binary of schema version 3 left it
// (profiles WITHOUT ROWID, a merge-key index, path indexes of that version's
// definition) and checks that migration 4 keeps every profile, merge and index: the
// table is a rowid table, the key index is there with its definition, the path indexes
// are built again with the new one, and look-ups, searches and writes answer as before.
func TestUpgradeToRowidProfiles(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	keys, paths := []string{"traits.email"}, []string{"traits.tier"}
	s, err := Open(Config{Dir: dir, KeyPaths: keys, IndexedPaths: paths})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 9, 14, 25, 7, 0, time.UTC)
	b := &storage.Batch{}
	for i := range 500 {
		p := domain.NewProfile(fmt.Sprintf("u%03d", i), domain.NewTime(now.Add(-time.Duration(i)*time.Minute)))
		p.Traits["email"] = fmt.Sprintf("u%d@example.com", i%400) // 100 shared: merged below
		p.Traits["tier"] = []string{"gold", "silver", "bronze"}[i%3]
		if i >= 400 {
			p.Metadata.MergedInto = fmt.Sprintf("u%03d", i%400)
		}
		b.Profiles = append(b.Profiles, p)
	}
	if err := s.Commit(ctx, b); err != nil {
		t.Fatal(err)
	}
	before := docsOf(t, s.r, `SELECT doc FROM profiles`)
	// Back to version 3: the table WITHOUT ROWID, the indexes of that version.
	v3path := "(" + sqlgen.PathExpr("doc", []string{"traits", "tier"}) + ", merged_into, created)"
	var keyIndex string
	s.w.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'profiles_key_traits_email'`).Scan(&keyIndex)
	if keyIndex == "" {
		t.Fatal("no key index")
	}
	for _, q := range []string{`ALTER TABLE profiles RENAME TO p4`,
		`CREATE TABLE profiles (id TEXT PRIMARY KEY, merged_into TEXT, created TEXT NOT NULL, updated TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`,
		`INSERT INTO profiles SELECT id, merged_into, created, updated, doc FROM p4`, `DROP TABLE p4`, keyIndex,
		`CREATE INDEX "` + pathIndexName("traits.tier", v3path) + `" ON profiles` + v3path,
		`PRAGMA user_version = 3`} {
		if _, err := s.w.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, err = Open(Config{Dir: dir, KeyPaths: keys, IndexedPaths: paths})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	var table string
	s.r.QueryRow(`PRAGMA user_version`).Scan(&v)
	s.r.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'profiles'`).Scan(&table)
	if v != len(migrations) || strings.Contains(strings.ToUpper(table), "WITHOUT ROWID") {
		t.Fatalf("schema version %d, profiles %q", v, table)
	}
	rows, err := s.r.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'profiles' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var indexes []string
	for rows.Next() {
		var name string
		var def sql.NullString
		rows.Scan(&name, &def)
		indexes = append(indexes, name)
		if name == "profiles_key_traits_email" && def.String != keyIndex {
			t.Errorf("key index %q, was %q", def.String, keyIndex)
		}
	}
	rows.Close()
	want := []string{"profiles_key_traits_email", pathIndexName("traits.tier", pathIndexDef("traits.tier")), "sqlite_autoindex_profiles_1"}
	if fmt.Sprint(indexes) != fmt.Sprint(want) {
		t.Fatalf("indexes %v, want %v", indexes, want)
	}
	if after := docsOf(t, s.r, `SELECT doc FROM profiles`); fmt.Sprint(after) != fmt.Sprint(before) || len(after) != 500 {
		t.Fatalf("%d profiles after the upgrade, %d before, or not the same", len(after), len(before))
	}
	if n, _ := s.Profiles().Count(ctx); n != 400 {
		t.Fatalf("%d live profiles, want 400", n)
	}
	// The merged profile u450 is not found by its key any more; u050 is.
	found, err := s.Profiles().FindByKey(ctx, "traits.email", "u50@example.com", 10)
	if err != nil || len(found) != 1 || found[0].ID != "u050" {
		t.Fatalf("FindByKey: %v %v", found, err)
	}
	if p := plan(t, s.r, `SELECT doc FROM profiles WHERE `+keyExpr("traits.email")+` = ? AND merged_into IS NULL`, "x"); !strings.Contains(p, "profiles_key_traits_email") {
		t.Fatalf("look-up by key planned %q", p)
	}
	e, _ := query.Parse(`profile@traits.tier == "gold"`)
	items, total, err := s.Profiles().Search(ctx, storage.Query{Where: e, Page: storage.Page{Limit: 5}})
	if err != nil || total != 134 || len(items) != 5 || items[0].ID != "u000" {
		t.Fatalf("search: %d, %v, %v", total, items, err)
	}
	// Writes: an upsert of a stored profile (ON CONFLICT(id)) and a new one.
	p, err := s.Profiles().Get(ctx, "u001")
	if err != nil {
		t.Fatal(err)
	}
	p.Traits["tier"] = "gold"
	if err := s.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{p, domain.NewProfile("new", domain.NewTime(now))}}); err != nil {
		t.Fatal(err)
	}
	if _, total, _ = s.Profiles().Search(ctx, storage.Query{Where: e}); total != 135 {
		t.Fatalf("%d gold after the update, want 135", total)
	}
	if n, _ := s.Profiles().Count(ctx); n != 401 {
		t.Fatalf("%d live profiles after the writes, want 401", n)
	}
}
