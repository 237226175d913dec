package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// importFile builds an NDJSON file of n events (ids imp-<line>, times from base one
// second apart) with bad lines at the given line numbers.
func importFile(n int, base time.Time, bad map[int]string) []byte {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		if l, ok := bad[i]; ok {
			b.WriteString(l)
			b.WriteByte('\n')
			continue
		}
		fmt.Fprintf(&b, `{"id":"imp-%06d","type":"purchase","profile":{"id":"ip-%d"},"time":"%s","properties":{"value":%d}}`+"\n",
			i, i%1000, base.Add(time.Duration(i)*time.Second).UTC().Format(time.RFC3339), i)
	}
	return b.Bytes()
}

var badLines = map[int]string{
	10:     `{"id":"x-10","type":"purchase","profile":{"id":"p"},"time":"2026-01-01T00:00:00Z"`, // not JSON
	50000:  `{"id":"x-50000","profile":{"id":"p"},"time":"2026-01-01T00:00:00Z"}`,               // no type
	100000: `{"id":"x-100000","type":"purchase","time":"2026-01-01T00:00:00Z"}`,                 // no profile
}

func (s *server) startImport(kind, contentType string, body []byte) string {
	s.t.Helper()
	r := s.do("POST", "/api/v1/imports?kind="+kind, body, "Authorization", "Bearer "+s.adminToken(), "Content-Type", contentType)
	if r.Status != http.StatusAccepted {
		s.t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	return r.JSON(s.t)["id"].(string)
}

// waitImport polls the import until it has finished; running says whether a poll saw
// it running with part of the file read.
func (s *server) waitImport(id string, timeout time.Duration) (job map[string]any, running bool) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		j := s.get("/api/v1/imports/" + id)
		read, _ := at(j, "counters.read").(float64)
		switch j["status"] {
		case "running":
			if read > 0 && j["done"].(float64) < j["total"].(float64) {
				running = true
			}
		case "queued":
		default:
			return j, running
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("import %s did not finish in %s", id, timeout)
	return nil, false
}

func (s *server) countEvents(where string) int {
	s.t.Helper()
	r := s.auth("POST", "/api/v1/events/search", map[string]any{"where": where, "limit": 0, "exact_total": true})
	if r.Status != http.StatusOK {
		s.t.Fatalf("search: %d %s", r.Status, r.Body)
	}
	return int(r.JSON(s.t)["total"].(float64))
}

func counter(j map[string]any, name string) int {
	v, _ := at(j, "counters."+name).(float64)
	return int(v)
}

// TestImportEvents: 100,000 lines with three bad ones; the good ones are stored once,
// the bad ones reported with their line numbers, progress is visible while it runs,
// and a second import of the same file stores nothing.
func TestImportEvents(t *testing.T) {
	s := start(t, "")
	file := importFile(100000, time.Now().AddDate(0, 0, -10), badLines)
	began := time.Now()
	id := s.startImport("events", "application/x-ndjson", file)
	j, running := s.waitImport(id, 5*time.Minute)
	t.Logf("100,000 lines (%d bytes) imported in %s", len(file), time.Since(began).Round(time.Millisecond))
	if j["status"] != "done" || counter(j, "read") != 100000 || counter(j, "stored") != 99997 || counter(j, "failed") != 3 || counter(j, "skipped") != 0 {
		t.Fatalf("first import: %v", j)
	}
	if !running {
		t.Error("no poll saw the import running with part of the file read")
	}
	errs := fmt.Sprint(j["errors"])
	for _, want := range []string{"line 10:", "line 50000: type: is required", "line 100000: profile.id: is required"} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors %s lack %q", errs, want)
		}
	}
	if n := s.countEvents(`type = "purchase"`); n != 99997 {
		t.Fatalf("%d events stored, want 99997", n)
	}

	id2 := s.startImport("events", "application/x-ndjson", file)
	j, _ = s.waitImport(id2, 5*time.Minute)
	if j["status"] != "done" || counter(j, "stored") != 0 || counter(j, "skipped") != 99997 || counter(j, "failed") != 3 {
		t.Fatalf("second import: %v", j)
	}
	if n := s.countEvents(`type = "purchase"`); n != 99997 {
		t.Fatalf("after the second import %d events, want 99997", n)
	}
	// The job routes show imports too.
	if r := s.auth("GET", "/api/v1/jobs?kind=import", nil); r.Status != http.StatusOK || r.JSON(t)["total"].(float64) != 2 {
		t.Fatalf("jobs: %d %s", r.Status, r.Body)
	}
}

// TestImportProfilesCSV: a CSV of profiles with dotted columns; a repeat import
// changes nothing; bad requests are refused with the right status.
func TestImportProfilesCSV(t *testing.T) {
	s := start(t, "")
	csv := "id,traits.email,traits.age,data.plan\n" +
		"c-1,one@example.com,31,gold\n" +
		"c-2,two@example.com,,silver\n" +
		"c-3,three@example.com,40\n" + // too few fields
		",nobody@example.com,1,x\n" // no id
	id := s.startImport("profiles", "text/csv", []byte(csv))
	j, _ := s.waitImport(id, time.Minute)
	if j["status"] != "done" || counter(j, "stored") != 2 || counter(j, "failed") != 2 {
		t.Fatalf("import: %v", j)
	}
	if errs := fmt.Sprint(j["errors"]); !strings.Contains(errs, "line 4: has 3 fields") || !strings.Contains(errs, "line 5: id: is required") {
		t.Fatalf("errors: %s", errs)
	}
	p := s.get("/api/v1/profiles/c-1")
	if at(p, "traits.email") != "one@example.com" || at(p, "traits.age") != 31.0 || at(p, "data.plan") != "gold" {
		t.Fatalf("profile: %v", p)
	}
	id = s.startImport("profiles", "text/csv", []byte(csv))
	if j, _ = s.waitImport(id, time.Minute); counter(j, "stored") != 0 || counter(j, "skipped") != 2 {
		t.Fatalf("repeat import: %v", j)
	}

	tok := "Bearer " + s.adminToken()
	for _, c := range []struct {
		name, query, ctype, body string
		status                   int
	}{
		{"no kind", "", "text/csv", "id\nx\n", 400},
		{"bad kind", "?kind=sessions", "text/csv", "id\nx\n", 400},
		{"bad type", "?kind=profiles", "application/json", `{"id":"x"}`, 415},
		{"empty", "?kind=profiles", "text/csv", "", 400},
	} {
		if r := s.do("POST", "/api/v1/imports"+c.query, c.body, "Authorization", tok, "Content-Type", c.ctype); r.Status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
		}
	}
	if r := s.do("POST", "/api/v1/imports?kind=profiles", "id\nx\n", "Content-Type", "text/csv"); r.Status != 401 {
		t.Errorf("without a token: %d", r.Status)
	}
}

// TestImportLimitAndCancel: an upload past IMPORT_MAX_BYTES is refused; a running
// import is cancelled.
func TestImportLimitAndCancel(t *testing.T) {
	s := start(t, "", "IMPORT_MAX_BYTES=4MiB")
	file := importFile(100000, time.Now().AddDate(0, 0, -10), nil)
	r := s.do("POST", "/api/v1/imports?kind=events", file, "Authorization", "Bearer "+s.adminToken(), "Content-Type", "application/x-ndjson")
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d %s", r.Status, r.Body)
	}
	small := file[:bytes.IndexByte(file[3<<20:], '\n')+3<<20+1] // just under 4 MiB
	id := s.startImport("events", "application/x-ndjson", small)
	for {
		j := s.get("/api/v1/imports/" + id)
		if counter(j, "read") > 0 {
			break
		}
		if j["status"] != "queued" && j["status"] != "running" {
			t.Fatalf("finished before it could be cancelled: %v", j)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := s.auth("POST", "/api/v1/imports/"+id+"/cancel", nil); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	j, _ := s.waitImport(id, time.Minute)
	if j["status"] != "cancelled" || counter(j, "read") >= bytes.Count(small, []byte("\n")) {
		t.Fatalf("after cancel: %v", j)
	}
	if r := s.auth("POST", "/api/v1/imports/"+id+"/cancel", nil); r.Status != http.StatusConflict {
		t.Fatalf("second cancel: %d %s", r.Status, r.Body)
	}
}

// TestImportSurvivesKill9: serve is killed with -9 while it imports; after the restart
// the job is resumed from its checkpoint (not left running) and every good line is
// stored exactly once.
func TestImportSurvivesKill9(t *testing.T) {
	s := start(t, "")
	file := importFile(40000, time.Now().AddDate(0, 0, -10), map[int]string{10: badLines[10], 20000: badLines[50000], 40000: badLines[100000]})
	id := s.startImport("events", "application/x-ndjson", file)
	for {
		j := s.get("/api/v1/imports/" + id)
		if counter(j, "read") >= 10000 {
			break
		}
		if j["status"] == "done" {
			t.Fatal("finished before the kill")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.restart()
	j, _ := s.waitImport(id, 5*time.Minute)
	t.Logf("after kill -9 and restart: %v", j["counters"])
	if j["status"] != "done" || j["attempts"].(float64) != 2 || counter(j, "failed") != 3 || counter(j, "stored")+counter(j, "skipped") != 39997 {
		t.Fatalf("resumed import: %v", j)
	}
	if n := s.countEvents(`type = "purchase"`); n != 39997 {
		t.Fatalf("%d events stored, want 39997", n)
	}
}

// TestRetentionDeletesOldEvents: events imported with old times are deleted by the
// daily retention job once EVENT_RETENTION_DAYS is set; recent ones stay.
func TestRetentionDeletesOldEvents(t *testing.T) {
	s := start(t, "")
	old := importFile(3000, time.Now().AddDate(0, 0, -400), nil)
	recent := bytes.ReplaceAll(importFile(2000, time.Now().AddDate(0, 0, -3), nil), []byte(`"imp-`), []byte(`"new-`))
	for _, f := range [][]byte{old, recent} {
		if j, _ := s.waitImport(s.startImport("events", "application/x-ndjson", f), time.Minute); j["status"] != "done" {
			t.Fatalf("import: %v", j)
		}
	}
	if n := s.countEvents(`type = "purchase"`); n != 5000 {
		t.Fatalf("%d events before retention", n)
	}
	s.Kill()
	s.env = append(s.env, "EVENT_RETENTION_DAYS=30")
	s.launch()
	id := "retention-" + time.Now().UTC().Format("2006-01-02")
	deadline := time.Now().Add(time.Minute)
	for {
		r := s.auth("GET", "/api/v1/jobs/"+id, nil)
		if r.Status == http.StatusOK && r.JSON(t)["status"] == "done" {
			if j := r.JSON(t); counter(j, "deleted") != 3000 {
				t.Fatalf("retention job: %v", j)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention job: %d %s", r.Status, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := s.countEvents(`type = "purchase"`); n != 2000 {
		t.Fatalf("%d events after retention, want the 2000 recent ones", n)
	}
	// Once a day: a restart the same day does not run it again.
	s.restart()
	if r := s.auth("GET", "/api/v1/jobs?kind=retention", nil); r.JSON(t)["total"].(float64) != 1 {
		t.Fatalf("retention jobs: %s", r.Body)
	}
}
