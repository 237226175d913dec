package e2e

import (
	"database/sql"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to check the upgraded database file
)

var updateFixtures = flag.Bool("update-fixtures", false, "write testdata/store/schema-v<N>.db with the current binary")

// The fixture's known content.
const (
	fixtureProfile = "fixture-p1"
	fixtureEvents  = 3
)

// TestUpgradeFromFixtures opens each data directory kept in testdata/store (one per
// embedded schema version, written by the binary of that version) with the current
// binary: `restore` checks it and brings its schema up to date, `serve` starts on it,
// and the admin, the source, the profile and its events are all there. Run with
// -update-fixtures after a schema change to add the new version's fixture; never
// rewrite an old one.
func TestUpgradeFromFixtures(t *testing.T) {
	if *updateFixtures {
		writeFixture(t)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "store", "schema-v*.db"))
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/store")
	}
	latest := 0
	for _, f := range files {
		if m := regexp.MustCompile(`schema-v(\d+)\.db$`).FindStringSubmatch(f); m != nil {
			n, _ := strconv.Atoi(m[1])
			latest = max(latest, n)
		}
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dir := t.TempDir()
			if code, out := command(t, dir, "restore", f); code != 0 {
				t.Fatalf("restore %s: exit %d\n%s", f, code, out)
			}
			s := start(t, dir)
			p := s.get("/api/v1/profiles/" + fixtureProfile)
			if at(p, "traits.plan") != "gold" {
				t.Fatalf("profile from %s: %v", f, p)
			}
			// The fixture's events (serve may add visit-ended events of its sessions,
			// which time out 30 minutes after the fixture was written).
			evs := s.get("/api/v1/profiles/" + fixtureProfile + "/events?limit=100")
			n := 0
			for _, e := range evs["items"].([]any) {
				if id, _ := e.(map[string]any)["id"].(string); strings.HasPrefix(id, "fixture-e") {
					n++
				}
			}
			if n != fixtureEvents {
				t.Fatalf("%d events from %s, want %d: %v", n, f, fixtureEvents, evs)
			}
			// The reports read the event summary the upgrade to schema version 3 built
			// from the stored events (whole weeks since 2020, then the hours up to now).
			h := s.get("/api/v1/reports/events/histogram?interval=1w&from=2020-01-06T00:00:00Z")
			b := s.get("/api/v1/reports/events/breakdown?by=type&from=2020-01-06T00:00:00Z")
			counts := map[string]float64{}
			for _, it := range b["items"].([]any) {
				counts[it.(map[string]any)["value"].(string)] = it.(map[string]any)["count"].(float64)
			}
			if h["total"] != float64(len(evs["items"].([]any))) || counts["page-view"] != 2 || counts["profile-update"] != 1 {
				t.Fatalf("reports from %s: histogram %v, breakdown %v; events %v", f, h, b, evs)
			}
			if r := s.auth("GET", "/api/v1/event-sources/web", nil); r.Status != http.StatusOK {
				t.Fatalf("source from %s: %d", f, r.Status)
			}
			// And it takes new events.
			s.track(map[string]any{"source": map[string]string{"id": "web"}, "profile": map[string]string{"id": fixtureProfile},
				"events": []map[string]any{{"type": "page-view"}}})
			if exited, err := s.Stop(20 * time.Second); !exited || err != nil {
				t.Fatalf("stop: %v %v", exited, err)
			}
			checkUpgradedFile(t, filepath.Join(dir, "thamesthrive.db"), latest)
		})
	}
}

// checkUpgradedFile checks the database file a fixture was upgraded into: sound, at the
// newest schema version (the newest fixture's), profiles a rowid table (schema version
// 4), the merge key's index made again, and the profile still there.
func checkUpgradedFile(t *testing.T, path string, latest int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check, table string
	var version, keyIndexes, profiles int
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	db.QueryRow(`PRAGMA user_version`).Scan(&version)
	db.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'profiles'`).Scan(&table)
	db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'profiles' AND name LIKE 'profiles_key_%'`).Scan(&keyIndexes)
	db.QueryRow(`SELECT count(*) FROM profiles WHERE id = ?`, fixtureProfile).Scan(&profiles)
	if version != latest || strings.Contains(strings.ToUpper(table), "WITHOUT ROWID") || keyIndexes == 0 || profiles != 1 {
		t.Fatalf("upgraded file: schema version %d (want %d), profiles %q, %d merge-key indexes, %d fixture profile", version, latest, table, keyIndexes, profiles)
	}
}

func writeFixture(t *testing.T) {
	s := start(t, "")
	s.source("web")
	for i := 0; i < fixtureEvents; i++ {
		ev := map[string]any{"id": fmt.Sprint("fixture-e", i), "type": "page-view", "properties": map[string]any{"n": i}}
		if i == 0 {
			ev = map[string]any{"id": "fixture-e0", "type": "profile-update", "properties": map[string]any{"traits": map[string]any{"plan": "gold"}}}
		}
		s.track(map[string]any{"source": map[string]string{"id": "web"}, "profile": map[string]string{"id": fixtureProfile},
			"events": []map[string]any{ev}})
	}
	if exited, err := s.Stop(20 * time.Second); !exited || err != nil {
		t.Fatalf("stop: %v %v", exited, err)
	}
	tmp := filepath.Join(t.TempDir(), "fixture.db")
	code, out := command(t, s.DataDir, "backup", tmp)
	if code != 0 {
		t.Fatalf("backup: %d %s", code, out)
	}
	m := regexp.MustCompile(`schema version (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no schema version in %q", out)
	}
	dst := filepath.Join("testdata", "store", "schema-v"+m[1]+".db")
	if _, err := os.Stat(dst); err == nil {
		t.Logf("%s exists already: kept (fixtures of released versions never change)", dst)
		return
	}
	os.MkdirAll(filepath.Dir(dst), 0o755)
	b, err := os.ReadFile(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", dst)
}
