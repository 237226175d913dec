package imports_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/imports"
	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/storage/local"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func run(t *testing.T, kind, format, body string) (*jobs.Job, *imports.Importer) {
	t.Helper()
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	im := &imports.Importer{Store: store, Locker: local.NewLocker(), MaxBytes: 1 << 30, Log: quiet}
	r, err := jobs.New(ctx, jobs.Config{Execute: true, Poll: 10 * time.Millisecond, OnFinish: im.Finished}, store.Entities(), quiet,
		map[string]jobs.Handler{imports.JobKind: im.Run})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	im.Jobs = r
	j, err := im.Start(ctx, kind, format, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for !j.IsFinished() {
		time.Sleep(5 * time.Millisecond)
		if j, err = r.Get(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
	}
	return j, im
}

func TestLinesAreValidatedWithTheirNumbers(t *testing.T) {
	for _, c := range []struct {
		name, kind, format, body string
		stored, failed, skipped  int64
		errors                   []string
	}{
		{"ndjson events", imports.KindEvents, imports.FormatNDJSON,
			`{"id":"e1","type":"t","profile":{"id":"p"},"time":"2026-01-01T00:00:00Z"}` + "\n\n" +
				`{"id":"e2","type":"t","profile":{"id":"p"}}` + "\n" +
				`{"id":"e3","type":"t","profile":{"id":"p"},"time":"2026-01-01T00:00:00Z","colour":1}` + "\n" +
				`[1]` + "\n" +
				`{"id":"e1","type":"t","profile":{"id":"p"},"time":"2026-01-01T00:00:00Z"}` + "\n" +
				`{"id":"e9","type":"t","profile":{"id":"p"},"time":"2099-01-01T00:00:00Z"}`,
			1, 4, 1, []string{"line 3: time: is required", `line 4: not a JSON object: unknown field "colour"`, "line 5: not a JSON object",
				"line 7: time: is more than a day in the future"}},
		{"csv events", imports.KindEvents, imports.FormatCSV,
			"id,type,profile.id,time,properties.n\n" +
				"e1,t,p,2026-01-01T00:00:00Z,5\n" +
				"e2,t,p,2026-01-01T00:00:00Z\n" +
				"\"e3,t,p\n",
			1, 2, 0, []string{"line 3: has 4 fields, the header 5", "line 4:"}},
		{"csv profiles", imports.KindProfiles, imports.FormatCSV,
			"id,traits.a,traits.a.b\n" +
				"p1,1,\n" +
				"p2,1,2\n",
			1, 1, 0, []string{"line 3: column traits.a.b"}},
		{"ndjson profiles", imports.KindProfiles, imports.FormatNDJSON,
			`{"id":"p1","traits":{"a":1}}` + "\n" + `{"id":"p1","traits":{"b":2}}` + "\n" + `{"traits":{}}` + "\n" + `{"id":"p2","traits":[]}`,
			1, 2, 1, []string{"line 3: id: is required", "line 4: traits: must be map"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			j, _ := run(t, c.kind, c.format, c.body)
			if j.Status != jobs.Done || j.Counters["stored"] != c.stored || j.Counters["failed"] != c.failed || j.Counters["skipped"] != c.skipped {
				t.Fatalf("job: %s %v %v %s", j.Status, j.Counters, j.Errors, j.Error)
			}
			got := strings.Join(j.Errors, "\n")
			for _, want := range c.errors {
				if !strings.Contains(got, want) {
					t.Errorf("errors %q lack %q", got, want)
				}
			}
		})
	}
}

// TestImportThroughput logs lines per second for 20,000 events on SQLite.
func TestImportThroughput(t *testing.T) {
	var b bytes.Buffer
	const n = 20000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"id":"e%06d","type":"purchase","profile":{"id":"p%d"},"time":"2026-01-01T00:00:00Z","properties":{"v":%d}}`+"\n", i, i%100, i)
	}
	t0 := time.Now()
	j, _ := run(t, imports.KindEvents, imports.FormatNDJSON, b.String())
	if j.Counters["stored"] != n {
		t.Fatalf("job: %v", j.Counters)
	}
	t.Logf("%d events in %s: %.0f lines/s", n, time.Since(t0).Round(time.Millisecond), n/time.Since(t0).Seconds())
}
