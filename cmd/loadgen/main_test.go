package main

import (
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/loadtest"
)

func TestParseCounter(t *testing.T) {
	text := `# HELP thamesthrive_events_stored_total Events stored.
# TYPE thamesthrive_events_stored_total counter
thamesthrive_events_stored_total{source="bench"} 1200
thamesthrive_events_stored_total{source="web"} 34
thamesthrive_events_stored_total_extra 99
thamesthrive_events_stored_totals 7
`
	v, ok := parseCounter(strings.NewReader(text), "thamesthrive_events_stored_total")
	if !ok || v != 1234 {
		t.Fatalf("got %v %v, want 1234", v, ok)
	}
	if v, ok := parseCounter(strings.NewReader("thamesthrive_events_stored_total 5e3\n"), "thamesthrive_events_stored_total"); !ok || v != 5000 {
		t.Fatalf("unlabelled: %v %v", v, ok)
	}
	if _, ok := parseCounter(strings.NewReader("other 1\n"), "thamesthrive_events_stored_total"); ok {
		t.Fatal("absent counter reported present")
	}
	// A histogram's _sum and _count read like counters (storeBatch divides them).
	hist := `# TYPE thamesthrive_store_write_batch_size histogram
thamesthrive_store_write_batch_size_bucket{le="1"} 1
thamesthrive_store_write_batch_size_bucket{le="+Inf"} 4
thamesthrive_store_write_batch_size_sum 10
thamesthrive_store_write_batch_size_count 4
`
	for name, want := range map[string]float64{"thamesthrive_store_write_batch_size_sum": 10, "thamesthrive_store_write_batch_size_count": 4} {
		if v, ok := parseCounter(strings.NewReader(hist), name); !ok || v != want {
			t.Errorf("%s: %v %v, want %v", name, v, ok, want)
		}
	}
	if _, ok := parseCounter(strings.NewReader(hist), "thamesthrive_store_write_batch_size_max"); ok {
		t.Error("a histogram part that does not exist reported present")
	}
	// Text that does not parse yields nothing rather than numbers read from a part of it.
	if _, ok := parseCounter(strings.NewReader(text+"thamesthrive_events_stored_total{source=\"x\"} many\n"), "thamesthrive_events_stored_total"); ok {
		t.Error("a broken exposition read as a counter")
	}
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct{ url, addr, host string }{
		{"http://127.0.0.1:8686", "127.0.0.1:8686", "127.0.0.1:8686"},
		{"http://localhost", "localhost:80", "localhost"},
		{"http://[::1]:9000/", "[::1]:9000", "[::1]:9000"},
	} {
		addr, host, err := target(tc.url)
		if err != nil || addr != tc.addr || host != tc.host {
			t.Errorf("%s: %q %q %v", tc.url, addr, host, err)
		}
	}
	if _, _, err := target("https://example.com"); err == nil {
		t.Error("https should be refused")
	}
}

func TestAnswersInspect(t *testing.T) {
	a := newAnswers(2, 1)
	one := &loadtest.Request{Events: 1}
	a.inspect(0, one, []byte(`{"profile":{"id":"p1"},"session":{"id":"s1"},"events":["e1"]}`))
	a.inspect(0, one, []byte(`{"profile":{"id":"p2"},"session":{"id":"s2"},"events":["e2"]}`)) // over keep
	a.inspect(1, one, []byte(`{"profile":{"id":"p3"},"session":{"id":"s3"},"events":[]}`))     // acknowledged nothing
	a.inspect(1, one, []byte(`{"errors":["x"]}`))
	pairs, events, seen, bad, mismatch, firstBad := a.totals()
	if len(pairs) != 2 || pairs[0].Profile != "p1" || pairs[1].Profile != "p3" {
		t.Fatalf("pairs %v", pairs)
	}
	if len(events) != 1 || events[0] != "e1" || seen != 4 || bad != 1 || mismatch != 1 || firstBad != `{"errors":["x"]}` {
		t.Fatalf("events %v seen %d bad %d mismatch %d first bad %q", events, seen, bad, mismatch, firstBad)
	}
}

func TestParseFloor(t *testing.T) {
	in := "goos: linux\nBenchmarkSQLiteFloor/batch=23/sync=FULL         \t    3000\t   1289024 ns/op\t       305.4 cpu-µs/req\t        92.90 read-cpu-µs/req\t       212.5 write-cpu-µs/req\n" +
		"BenchmarkSQLiteFloor/batch=2/sync=FULL-1 \t 100\t 5 ns/op\t 512 cpu-µs/req\nPASS\n"
	got, err := parseFloor(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got[23] != 305.4 || got[2] != 512 || len(got) != 2 {
		t.Fatalf("%v", got)
	}
	if s := joinBatches(23, 2); s != "23,2" {
		t.Fatal(s)
	}
	if s := joinBatches(3, 3); s != "3" {
		t.Fatal(s)
	}
	if n := roundBatch(&loadtest.Result{StoreBatch: 0.4}); n != 1 {
		t.Fatal(n)
	}
}
