package main

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMachineName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Frequent visitors", "frequent-visitors"},
		{"Returning customers (EU)", "returning-customers-eu"},
		{"  VIP!! ", "vip"},
		{"Straße 2", "straße-2"},
	} {
		if got := machineName(tc.in); got != tc.want {
			t.Errorf("machineName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The default fixtures must ask for what bench.sh's run is meant to show.
func TestDefaultFixtureExpectations(t *testing.T) {
	exp, err := fixtureExpectations(filepath.Join("..", "..", "scripts", "bench-fixtures"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range exp {
		got = append(got, e.Kind+" "+e.Name)
	}
	slices.Sort(got)
	want := []string{"consent marketing-email", "counter page-views", "flow page-view-profile", "flow sign-in-customer",
		"interest running", "rule page-views", "rule sign-ins", "segment frequent-visitors", "segment known-contacts",
		"segment runners", "trait customer", "trait last_page"}
	if !slices.Equal(got, want) {
		t.Fatalf("expectations\n got %q\nwant %q", got, want)
	}
}

// countStored on a real SQLite file: internal events are counted apart from the /track
// events, effects only on live profiles, and a fixture that left nothing fails the notes.
func TestCountStoredAndFixtureNotes(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE events (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, doc TEXT NOT NULL)`,
		`CREATE TABLE profiles (id TEXT PRIMARY KEY, merged_into TEXT, doc TEXT NOT NULL)`,
		`CREATE TABLE sessions (id TEXT PRIMARY KEY)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	events := []struct{ typ, doc string }{
		{"page-view", `{"source":{"id":"bench"},"metadata":{"processed_by":{"rules":["page-views"],"flows":["page-view-profile"]}}}`},
		{"page-view", `{"source":{"id":"bench"},"metadata":{"processed_by":{"rules":["page-views"],"flows":["page-view-profile"]}}}`},
		{"sign-in", `{"source":{"id":"bench"},"metadata":{"processed_by":{"rules":[],"flows":[]}}}`},
		{"segment-entered", `{"source":{"id":"internal"},"metadata":{"channel":"internal","processed_by":{"rules":[],"flows":[]}}}`},
		{"segment-left", `{"source":{"id":"internal"},"metadata":{"processed_by":{}}}`},
	}
	for _, e := range events {
		if _, err := db.Exec(`INSERT INTO events (type, doc) VALUES (?, ?)`, e.typ, e.doc); err != nil {
			t.Fatal(err)
		}
	}
	profiles := []struct{ id, merged, doc string }{
		{"p1", "", `{"segments":["runners"],"stats":{"counters":{"page-views":2}},"interests":{"running":2},"traits":{"last_page":"Shoes"},"consents":{}}`},
		{"p2", "p1", `{"segments":["runners","known-contacts"],"stats":{"counters":{"page-views":1}},"interests":{},"traits":{"customer":true},"consents":{"marketing-email":{"granted":true}}}`},
	}
	for _, p := range profiles {
		if _, err := db.Exec(`INSERT INTO profiles VALUES (?, nullif(?, ''), ?)`, p.id, p.merged, p.doc); err != nil {
			t.Fatal(err)
		}
	}
	st, err := countStored(db)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 3 || st.EventsByType["page-view"] != 2 || st.EventsByType["sign-in"] != 1 || len(st.EventsByType) != 2 {
		t.Fatalf("/track events %d %v", st.Events, st.EventsByType)
	}
	if st.InternalEvents != 2 || st.InternalEventsByType["segment-entered"] != 1 || st.InternalEventsByType["segment-left"] != 1 {
		t.Fatalf("internal events %d %v", st.InternalEvents, st.InternalEventsByType)
	}
	ef := st.Effects
	if ef.FlowEvents["page-view-profile"] != 2 || ef.RuleEvents["page-views"] != 2 || ef.Segments["runners"] != 1 ||
		ef.Segments["known-contacts"] != 0 || ef.Counters["page-views"] != 1 || ef.Consents["marketing-email"] != 0 {
		t.Fatalf("effects %+v", ef)
	}

	for _, tc := range []struct {
		name       string
		exp        []expectation
		failed     bool
		inNotes    []string
		notInNotes []string
	}{
		{"all in effect", []expectation{{"a.json", "flow", "page-view-profile"}, {"b.json", "segment", "runners"}, {"a.json", "trait", "last_page"}},
			false, []string{"internal events stored besides the /track events", "2 (segment-entered 1, segment-left 1)",
				"flow page-view-profile 2 events", "segment runners 1 profiles", "trait last_page 1 profiles"}, []string{"WITHOUT EFFECT"}},
		{"a segment nobody is in", []expectation{{"a.json", "flow", "page-view-profile"}, {"c.json", "segment", "known-contacts"}},
			true, []string{"FIXTURES WITHOUT EFFECT", "segment known-contacts (c.json)"}, nil},
		{"a flow that never ran", []expectation{{"d.json", "flow", "sign-in-customer"}, {"d.json", "consent", "marketing-email"}},
			true, []string{"flow sign-in-customer (d.json); consent marketing-email (d.json)"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			notes, failed := fixtureNotes("fx", tc.exp, st)
			all := strings.Join(notes, "\n")
			if failed != tc.failed {
				t.Errorf("failed = %v, want %v; notes:\n%s", failed, tc.failed, all)
			}
			for _, s := range tc.inNotes {
				if !strings.Contains(all, s) {
					t.Errorf("notes lack %q:\n%s", s, all)
				}
			}
			for _, s := range tc.notInNotes {
				if strings.Contains(all, s) {
					t.Errorf("notes hold %q:\n%s", s, all)
				}
			}
		})
	}
	if notes, failed := fixtureNotes("", nil, st); failed || len(notes) != 1 {
		t.Errorf("without fixtures: %v %v", notes, failed)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
