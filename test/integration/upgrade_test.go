package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage/elastic"
	"github.com/thamesthrive/thamesthrive/test/testserver"
)

// Upgrade fixtures of the production backend: testdata/elastic/v<N>/ holds, for schema
// version N, the index templates as the cluster returned them and every document of
// every index, written by the binary of that version (TestWriteElasticFixture, run by
// scripts/elastic-fixture.sh). The prefix is written as fixturePrefix.
const fixturePrefix = "@PREFIX@"

var writeElasticFixture = flag.Bool("write-elastic-fixture", false,
	"write testdata/elastic/v<N>/ with the binary under test (THAMESTHRIVE_TEST_BINARY, or the current one)")

// fixtureDoc is one stored document.
type fixtureDoc struct {
	Index  string          `json:"index"`
	ID     string          `json:"id"`
	Source json.RawMessage `json:"source"`
}

// The fixture's content, tracked through /track by the binary of that version.
var fixtureTracks = []map[string]any{
	{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "fx-p1"}, "session": map[string]any{"id": "fx-s1"},
		"events": []any{map[string]any{"id": "fx-e1", "type": "profile-update", "properties": map[string]any{"traits": map[string]any{"plan": "gold", "email": "fx1@example.com"}}}}},
	{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "fx-p1"}, "session": map[string]any{"id": "fx-s1"},
		"events": []any{map[string]any{"id": "fx-e2", "type": "page-view", "properties": map[string]any{"url": "https://shop.example.com/a", "n": 2}},
			map[string]any{"id": "fx-e3", "type": "page-view", "properties": map[string]any{"url": "https://shop.example.com/b", "tags": []any{"x", "y"}}}}},
	{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "fx-p2"}, "session": map[string]any{"id": "fx-s2"},
		"events": []any{map[string]any{"id": "fx-e4", "type": "order-completed", "properties": map[string]any{"order": map[string]any{"id": "o-1", "total": 42.5}}}}},
	{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "fx-p3"}, "session": map[string]any{"id": "fx-s3"},
		"events": []any{map[string]any{"id": "fx-e5", "type": "page-view", "properties": map[string]any{"when": "2026-11-30T10:00:00Z"}}}},
}

// es sends one request to the cluster and decodes the answer into out (when not nil).
func es(t *testing.T, base, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, strings.TrimRight(base, "/")+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if strings.HasSuffix(path, "_bulk") || strings.Contains(path, "_bulk?") {
		req.Header.Set("Content-Type", "application/x-ndjson")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	if res.StatusCode >= 300 && res.StatusCode != 404 {
		t.Logf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return res.StatusCode
}

// kindOf names the kind of an index: P-events-v1-2026.12 → events.
func kindOf(prefix, index string) string {
	k := strings.TrimPrefix(index, prefix+"-")
	return regexp.MustCompile(`-v\d+(-.*)?$`).ReplaceAllString(k, "")
}

// TestWriteElasticFixture writes testdata/elastic/v<N>/ for the schema version of the
// binary under test; skipped unless -write-elastic-fixture. An existing version's
// fixture is never rewritten.
func TestWriteElasticFixture(t *testing.T) {
	if !*writeElasticFixture {
		t.Skip("run with -write-elastic-fixture (scripts/elastic-fixture.sh)")
	}
	c := newCluster(t, 1)
	r := c.replicas[0]
	c.source(r, "web")
	for i, body := range fixtureTracks {
		if res := r.do("POST", "/track", body); res.Status != http.StatusOK {
			t.Fatalf("track %d: %d %s", i, res.Status, res.Body)
		}
	}
	base := os.Getenv("ELASTIC_HOST")
	es(t, base, "POST", "/"+c.prefix+"-*/_refresh", nil, nil)
	var tmpl struct {
		IndexTemplates []struct {
			Name          string         `json:"name"`
			IndexTemplate map[string]any `json:"index_template"`
		} `json:"index_templates"`
	}
	es(t, base, "GET", "/_index_template/"+c.prefix+"-*", nil, &tmpl)
	version := 0
	templates := map[string]any{}
	for _, x := range tmpl.IndexTemplates {
		if v, ok := x.IndexTemplate["version"].(float64); ok {
			version = max(version, int(v))
		}
		b, _ := json.Marshal(x.IndexTemplate)
		templates[strings.Replace(x.Name, c.prefix, fixturePrefix, 1)] = json.RawMessage(bytes.ReplaceAll(b, []byte(c.prefix), []byte(fixturePrefix)))
	}
	if version == 0 || len(templates) == 0 {
		t.Fatalf("no versioned templates under %s: %v", c.prefix, tmpl)
	}
	var hits struct {
		Hits struct {
			Hits []struct {
				Index  string          `json:"_index"`
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	es(t, base, "POST", "/"+c.prefix+"-*/_search", map[string]any{"size": 1000, "query": map[string]any{"match_all": map[string]any{}}}, &hits)
	byKind := map[string][]fixtureDoc{}
	for _, h := range hits.Hits.Hits {
		kind := kindOf(c.prefix, h.Index)
		byKind[kind] = append(byKind[kind], fixtureDoc{Index: strings.Replace(h.Index, c.prefix, fixturePrefix, 1), ID: h.ID, Source: h.Source})
	}
	dir := filepath.Join("testdata", "elastic", fmt.Sprintf("v%d", version))
	if _, err := os.Stat(dir); err == nil {
		t.Logf("%s exists already: kept (fixtures of released versions never change)", dir)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, v any) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("templates.json", templates)
	for kind, docs := range byKind {
		sort.Slice(docs, func(i, j int) bool { return docs[i].Index+"/"+docs[i].ID < docs[j].Index+"/"+docs[j].ID })
		write(kind+".json", docs)
	}
	t.Logf("wrote %s: %d templates, %d documents", dir, len(templates), len(hits.Hits.Hits))
}

// loadFixture stores a fixture's templates and documents under prefix, as the release
// that wrote it left them.
func loadFixture(t *testing.T, base, dir, prefix string) map[string][]fixtureDoc {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "templates.json"))
	if err != nil {
		t.Fatal(err)
	}
	var templates map[string]json.RawMessage
	if err := json.Unmarshal(bytes.ReplaceAll(raw, []byte(fixturePrefix), []byte(prefix)), &templates); err != nil {
		t.Fatal(err)
	}
	for name, body := range templates {
		if st := es(t, base, "PUT", "/_index_template/"+name, []byte(body), nil); st != 200 {
			t.Fatalf("template %s: %d", name, st)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	docs := map[string][]fixtureDoc{}
	var bulk bytes.Buffer
	for _, f := range files {
		if filepath.Base(f) == "templates.json" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ds []fixtureDoc
		if err := json.Unmarshal(b, &ds); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		kind := strings.TrimSuffix(filepath.Base(f), ".json")
		for _, d := range ds {
			d.Index = strings.Replace(d.Index, fixturePrefix, prefix, 1)
			docs[kind] = append(docs[kind], d)
			action, _ := json.Marshal(map[string]any{"index": map[string]any{"_index": d.Index, "_id": d.ID}})
			bulk.Write(action)
			bulk.WriteByte('\n')
			if err := json.Compact(&bulk, d.Source); err != nil {
				t.Fatalf("%s: document %s: %v", f, d.ID, err)
			}
			bulk.WriteByte('\n')
		}
	}
	var res struct {
		Errors bool `json:"errors"`
		Items  []any
	}
	if st := es(t, base, "POST", "/_bulk?refresh=true", bulk.Bytes(), &res); st != 200 || res.Errors {
		t.Fatalf("loading %s: status %d, errors %v: %v", dir, st, res.Errors, res.Items)
	}
	return docs
}

// runBinary runs `thamesthrive <command>` with env for at most timeout; a command that
// does not return by then (serve that started) is killed and reported as running.
func runBinary(t *testing.T, env []string, timeout time.Duration, command string) (exited bool, code int, out string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, testserver.Binary(t), command)
	cmd.Env = append(env, "DATA_DIR="+t.TempDir())
	b, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return false, -1, string(b)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return true, ee.ExitCode(), string(b)
	}
	return true, 0, string(b)
}

// TestElasticUpgradeFromFixtures loads each release's fixture into OpenSearch under that
// release's templates; serve and worker of this binary refuse an older version (and
// say to run migrate); `migrate` brings it to SchemaVersion; then every document of the
// fixture is readable and searchable through this binary's API, unchanged, and new
// events are taken. A cluster recording a newer version is refused by serve and
// migrate with "upgrade thamesthrive".
func TestElasticUpgradeFromFixtures(t *testing.T) {
	base := os.Getenv("ELASTIC_HOST")
	if base == "" || os.Getenv("REDIS_HOST") == "" {
		t.Skip("ELASTIC_HOST and REDIS_HOST must be set (scripts/test-integration.sh starts both)")
	}
	dirs, _ := filepath.Glob(filepath.Join("testdata", "elastic", "v*"))
	if len(dirs) == 0 {
		t.Fatal("no fixtures in testdata/elastic")
	}
	var versions []int
	for _, dir := range dirs {
		var v int
		fmt.Sscanf(filepath.Base(dir), "v%d", &v)
		versions = append(versions, v)
		t.Run(filepath.Base(dir), func(t *testing.T) { upgradeFixture(t, base, dir, v) })
	}
	if !slices.Contains(versions, elastic.SchemaVersion) {
		t.Errorf("no fixture of the current schema version %d: run scripts/elastic-fixture.sh (docs/reliability.md, Upgrades)", elastic.SchemaVersion)
	}
}

func upgradeFixture(t *testing.T, base, dir string, version int) {
	// A cluster with no replica running yet: the fixture goes in first.
	prefix := uniquePrefix("up")
	c := &cluster{t: t, prefix: prefix, elastic: elasticConfig(base, prefix)}
	t.Cleanup(func() {
		if err := elastic.Drop(context.Background(), c.elastic); err != nil {
			t.Logf("dropping %s: %v", prefix, err)
		}
		dropRedisKeys(t, prefix)
	})
	c.env = []string{"PATH=" + os.Getenv("PATH"), "ELASTIC_HOST=" + base, "ELASTIC_INDEX_PREFIX=" + prefix,
		"REDIS_HOST=" + os.Getenv("REDIS_HOST"), "REDIS_PORT=" + envOr("REDIS_PORT", "6379"), "REDIS_PASSWORD=" + os.Getenv("REDIS_PASSWORD"),
		"SECRETS_KEY=" + strings.Repeat("ab", 32), "INSTALLATION_TOKEN=" + installToken, "LOGGING_LEVEL=info",
		"HTTP_ADDR=127.0.0.1:0", "WORKER_HTTP_ADDR=127.0.0.1:0", "TRACK_RATE_LIMIT=0"}
	docs := loadFixture(t, base, dir, prefix)

	if version < elastic.SchemaVersion {
		for _, command := range []string{"serve", "worker"} {
			exited, code, out := runBinary(t, c.env, 60*time.Second, command)
			if !exited || code == 0 || !strings.Contains(out, fmt.Sprintf("at schema %d, this binary needs %d", version, elastic.SchemaVersion)) ||
				!strings.Contains(out, "run `thamesthrive migrate`") {
				t.Fatalf("%s on a schema %d cluster: exited %v, status %d, want a refusal that says to run migrate:\n%s", command, version, exited, code, out)
			}
		}
	}
	exited, code, out := runBinary(t, c.env, 120*time.Second, "migrate")
	if !exited || code != 0 {
		t.Fatalf("migrate: exited %v, status %d:\n%s", exited, code, out)
	}
	if version < elastic.SchemaVersion && !strings.Contains(out, fmt.Sprintf("upgraded from schema version %d", version)) {
		t.Errorf("migrate does not say what it upgraded:\n%s", out)
	}
	t.Logf("migrate: %s", strings.TrimSpace(out))
	// Everything records the current version now.
	var mappings map[string]struct {
		Mappings struct {
			Meta struct {
				SchemaVersion int `json:"schema_version"`
			} `json:"_meta"`
		} `json:"mappings"`
	}
	es(t, base, "GET", "/"+prefix+"-*/_mapping", nil, &mappings)
	for idx, m := range mappings {
		if m.Mappings.Meta.SchemaVersion != elastic.SchemaVersion {
			t.Errorf("index %s records schema %d after migrate", idx, m.Mappings.Meta.SchemaVersion)
		}
	}
	// Schema 4: the profile, session and event indices, existing ones included, refresh
	// every ELASTIC_REFRESH_INTERVAL (default 5s); the others keep the cluster's default.
	var settings map[string]struct {
		Settings struct {
			Index struct {
				RefreshInterval string `json:"refresh_interval"`
			} `json:"index"`
		} `json:"settings"`
	}
	es(t, base, "GET", "/"+prefix+"-*/_settings/index.refresh_interval", nil, &settings)
	for idx, s := range settings {
		want := ""
		for _, kind := range []string{"-profiles-", "-sessions-", "-events-"} {
			if strings.Contains(idx, kind) {
				want = "5s"
			}
		}
		if got := s.Settings.Index.RefreshInterval; got != want {
			t.Errorf("index %s: refresh_interval %q after migrate, want %q", idx, got, want)
		}
	}
	if len(settings) == 0 {
		t.Errorf("no index settings read for %s-*", prefix)
	}

	c.replicas = append(c.replicas, c.start(0))
	r := c.replicas[0]
	tok := c.adminToken() // the fixture's admin: installed already, so this signs in
	get := func(path string) (int, map[string]any) {
		res := r.do("GET", path, nil, "Authorization", "Bearer "+tok)
		if res.Status != http.StatusOK {
			return res.Status, nil
		}
		return res.Status, res.JSON(t)
	}
	search := func(what, where string) float64 {
		res := c.auth(r, "POST", "/api/v1/"+what+"/search", map[string]any{"where": where, "limit": 100})
		if res.Status != http.StatusOK {
			t.Fatalf("%s search %q: %d %s", what, where, res.Status, res.Body)
		}
		n, _ := res.JSON(t)["total"].(float64)
		return n
	}
	var src map[string]any
	count := map[string]int{}
	for _, d := range docs["profiles"] {
		json.Unmarshal(d.Source, &src)
		id, _ := src["id"].(string)
		st, p := get("/api/v1/profiles/" + id)
		if st != http.StatusOK {
			t.Errorf("profile %s of the fixture: %d", id, st)
			continue
		}
		for _, f := range []string{"traits", "stats.views", "metadata.time.create"} {
			if want, got := fmt.Sprint(at(src, f)), fmt.Sprint(at(p, f)); want != got {
				t.Errorf("profile %s: %s is %s, the fixture has %s", id, f, got, want)
			}
		}
		if n := search("profiles", fmt.Sprintf("id == %q", id)); n != 1 {
			t.Errorf("profile %s: search finds %v", id, n)
		}
		count["profiles"]++
	}
	for _, d := range docs["sessions"] {
		src = nil
		json.Unmarshal(d.Source, &src)
		id, _ := src["id"].(string)
		if st, s := get("/api/v1/sessions/" + id); st != http.StatusOK || at(s, "profile.id") != at(src, "profile.id") {
			t.Errorf("session %s of the fixture: %d %v", id, st, s)
		}
		count["sessions"]++
	}
	perProfile := map[string]float64{}
	for _, d := range docs["events"] {
		src = nil
		json.Unmarshal(d.Source, &src)
		id, _ := src["id"].(string)
		st, e := get("/api/v1/events/" + id)
		if st != http.StatusOK {
			t.Errorf("event %s of the fixture: %d", id, st)
			continue
		}
		for _, f := range []string{"type", "profile.id", "session.id", "properties", "metadata.time.insert"} {
			if want, got := fmt.Sprint(at(src, f)), fmt.Sprint(at(e, f)); want != got {
				t.Errorf("event %s: %s is %s, the fixture has %s", id, f, got, want)
			}
		}
		if n := search("events", fmt.Sprintf("id == %q AND type == %q", id, at(src, "type"))); n != 1 {
			t.Errorf("event %s: search finds %v", id, n)
		}
		pid, _ := at(src, "profile.id").(string)
		perProfile[pid]++
		count["events"]++
	}
	for pid, n := range perProfile {
		if got := search("events", fmt.Sprintf("profile.id == %q", pid)); got != n {
			t.Errorf("events of %s: search finds %v, the fixture has %v", pid, got, n)
		}
	}
	if n := search("profiles", `traits.plan == "gold"`); n != 1 {
		t.Errorf("profiles with plan gold: %v", n)
	}
	for _, d := range docs["entities"] {
		src = nil
		json.Unmarshal(d.Source, &src)
		if src["kind"] == "source" {
			if st, _ := get("/api/v1/event-sources/" + fmt.Sprint(src["id"])); st != http.StatusOK {
				t.Errorf("source %v of the fixture: %d", src["id"], st)
			}
		}
		count["entities"]++
	}
	if count["profiles"] == 0 || count["events"] == 0 || count["sessions"] == 0 || count["entities"] == 0 {
		t.Fatalf("the fixture in %s lacks a kind: %v", dir, count)
	}
	// The upgraded cluster takes new events for old profiles.
	_, before := get("/api/v1/profiles/fx-p1")
	if ok, st := trackOnce(r, pageView("fx-p1", "fx-s1", "fx-after-upgrade")); !ok {
		t.Fatalf("track after upgrade: %d", st)
	}
	views := func(p map[string]any) float64 { n, _ := at(p, "stats.views").(float64); return n }
	if _, p := get("/api/v1/profiles/fx-p1"); p == nil || views(p) != views(before)+1 {
		t.Errorf("fx-p1 after one more page view: %v views, %v before", at(p, "stats.views"), at(before, "stats.views"))
	}
	t.Logf("schema %d → %d: %v read back and found by search", version, elastic.SchemaVersion, count)
	r.Stop(20 * time.Second)

	// A cluster made by a newer release: serve and migrate refuse and say to upgrade.
	es(t, base, "PUT", "/"+prefix+"-profiles-v1/_mapping", map[string]any{"_meta": map[string]any{"schema_version": elastic.SchemaVersion + 1}}, nil)
	for _, command := range []string{"serve", "migrate"} {
		exited, code, out := runBinary(t, c.env, 60*time.Second, command)
		if !exited || code == 0 || !strings.Contains(out, "upgrade thamesthrive") {
			t.Errorf("%s on a newer cluster: exited %v, status %d, want a refusal that says to upgrade:\n%s", command, exited, code, out)
		}
	}
}
